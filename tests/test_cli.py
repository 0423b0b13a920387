from __future__ import annotations

import subprocess
import sys


def test_help_lists_commands(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli("--help")
    assert code == 0
    assert "validate" in out and "schema" in out


def test_unknown_command_is_a_usage_error(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_cli("frobnicate")
    assert code == 2
    assert "No such command" in err


def test_module_entry_point() -> None:
    done = subprocess.run([sys.executable, "-m", "reconciler", "--version"], capture_output=True, text=True)
    assert done.returncode == 0
    assert "smsops" in done.stdout
