"""The process entry points (``python -m reconciler`` and the ``smsops`` script): ``cli.main``'s exit
code becomes the process's, and its output arrives whole. Each case runs in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "sms-config"


def _smsops(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reconciler", *args], capture_output=True, text=True, timeout=120)


def test_a_real_command_through_the_module_entry_point() -> None:
    done = _smsops("validate", str(EXAMPLE), "--output", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["summary"]["errors"] == 0


def test_the_exit_code_is_the_commands(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("apiVersion: smsops/v1\nkind: Nope\n", encoding="utf-8")
    done = _smsops("validate", str(tmp_path))
    assert done.returncode == 1
    assert "SMS010" in done.stdout and "Traceback" not in done.stderr


def test_the_installed_script_is_the_same_entry_point() -> None:
    script = Path(sys.executable).parent / "smsops"
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("smsops")
    done = subprocess.run([str(script), "frobnicate"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "No such command" in done.stderr
