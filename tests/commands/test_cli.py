from __future__ import annotations

import subprocess
import sys


def test_help_lists_commands(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli("--help")
    assert code == 0
    assert "validate" in out and "schema" in out


def test_unknown_command_is_a_usage_error(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_cli("frobnicate")
    assert code == 1  # not 2: that is plan --detailed-exitcode's "changes"
    assert "No such command" in err


def test_module_entry_point() -> None:
    done = subprocess.run([sys.executable, "-m", "reconciler", "--version"], capture_output=True, text=True)
    assert done.returncode == 0
    assert "smsops" in done.stdout


def test_help_imports_no_provider_sdk_and_no_stage_module() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "reconciler", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "click" in imported
    heavy = (
        "alibabacloud",
        "tencentcloud",
        "boto3",
        "botocore",
        "pydantic",
        "jinja2",
        "yaml",
        "reconciler.config.load",
    )
    assert sorted(name for name in imported if name.startswith(heavy)) == []
