"""The README's main job: `smsops demo` (what `make demo` runs) on a copy of the example config."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.configrepo import ROOT


def demo(config: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_AGE_")}  # as on a fresh machine
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "demo", str(config)],
        capture_output=True,
        text=True,
        env={**env, "SOPS_DISABLE_VERSION_CHECK": "1"},
        timeout=300,
        check=False,
    )


def test_demo_runs_the_whole_loop_then_finds_nothing_left_to_do(tmp_path: Path) -> None:
    config = tmp_path / "sms-config"
    shutil.copytree(ROOT / "sms-config", config, ignore=shutil.ignore_patterns(".smsops"))
    done = demo(config)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    steps = [line.split(": smsops ")[1].split()[0] for line in out.splitlines() if line.startswith("== ")]
    assert steps == ["validate", "plan", "apply", "wait", "apply", "status", "export", "plan"]
    # OnePro was made in the sandbox's console: adopted, its baseline is recorded once (a row of its own)
    assert "0 to delete, 1 to record; 4 awaiting review." in out and "Plan: 4 to create, 0 to update" in out
    assert "~ record  sandbox/signature/OnePro" in out
    assert "Gate passed on sandbox" in out and "delivered" in out
    assert "Apply: 5 done, 0 failed, 0 deferred, 0 skipped." in out
    assert "`smsops demo --reset` starts over.\n" in out
    # the key the demo found itself is named for the commands typed by hand afterwards
    assert out.rstrip().endswith(
        f"To run these commands yourself: export SOPS_AGE_KEY_FILE={config}/keys/sandbox.agekey"
    )
    assert "Traceback" not in done.stderr
    for secret in ("SandboxDemoSecretNotReal000001", "13800000001"):
        assert secret not in out + done.stderr

    again = demo(config)  # the sandbox account persists: a second run has nothing to do
    assert again.returncode == 0
    assert "Plan: 0 to create, 0 to update, 0 to promote, 0 to retire, 0 to delete; 0 awaiting review." in again.stdout


def test_demo_refuses_a_channel_of_a_real_provider(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    """The demo applies with --auto-approve and sends: on a real account it must not start at all."""
    config = tmp_path / "sms-config"
    shutil.copytree(ROOT / "sms-config", config, ignore=shutil.ignore_patterns(".smsops"))
    code, out, err = run_cli("demo", str(config), "--channel", "production")
    assert code == 1
    assert "channel production uses the Alibaba provider: the demo runs only on the embedded sandbox" in err
    assert "==" not in out  # no step ran
    assert not (config / ".smsops").exists()
