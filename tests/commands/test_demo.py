"""The README's main job, `smsops demo`: what it refuses. Its whole run (`make demo`) and a second run
that finds nothing left to do are checked by the README quickstart test (tests/test_docs_commands.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.configrepo import ROOT


def test_demo_refuses_a_channel_of_a_real_provider(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    """The demo applies with --auto-approve and sends: on a real account it must not start at all."""
    config = tmp_path / "sms-config"
    shutil.copytree(ROOT / "sms-config", config, ignore=shutil.ignore_patterns(".smsops"))
    code, out, err = run_cli("demo", str(config), "--channel", "production")
    assert code == 1
    assert "channel production uses the Alibaba provider: the demo runs only on the embedded sandbox" in err
    assert "==" not in out  # no step ran
    assert not (config / ".smsops").exists()
