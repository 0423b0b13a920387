"""The benchmarks' synthetic config stays a valid config: a benchmark that fails to start measures
nothing (their timings are not tested here, only that what they run still works)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tests.configrepo import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from generate import generate  # (a sibling script of the benchmarks, not a package)


def test_the_synthetic_config_validates(tmp_path: Path, run_cli: Any) -> None:
    generate(tmp_path / "config", templates=60, channels=2)
    code, out, err = run_cli("validate", str(tmp_path / "config"))
    assert code == 0, out + err
    assert out.startswith("OK: 2 channels, 60 templates")
