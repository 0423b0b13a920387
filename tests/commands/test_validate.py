from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.errors import Diagnostic, Severity
from reconciler.render.diagnostics import render_github, summarize
from reconciler.render.escape import workflow_data as escape_data
from reconciler.render.escape import workflow_property as escape_property

ROOT = Path(__file__).resolve().parents[2]
SDK_PREFIXES = ("alibabacloud", "tencentcloud", "boto3", "botocore", "Tea")

CHANNEL = """\
apiVersion: smsops/v1
kind: Channel
metadata:
  name: {name}
spec:
  provider: {provider}
  signature:
    name: OnePro
"""


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cfg").mkdir()
    return tmp_path / "cfg"


def test_example_config_is_valid(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("validate", str(ROOT / "sms-config"))
    assert (code, out, err) == (0, "OK: 4 channels, 5 templates, 1 signature in 10 files\n", "")


def test_a_channel_failing_its_schema_still_names_its_signature(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Only the schema error: no follow-on "Signature named by no channel" hinting to delete it."""
    import shutil

    config = tmp_path / "sms-config"
    shutil.copytree(ROOT / "sms-config", config, ignore=shutil.ignore_patterns(".smsops"))
    channel = config / "channels" / "sandbox.yaml"
    channel.write_text(channel.read_text().replace("  enabled: true\n", "  enabled: yes please\n"))
    code, out, _ = run_cli("validate", str(config))
    assert code == 1 and "error SMS020: spec.enabled" in out
    assert "SMS309" not in out


def test_errors_exit_1_with_locations_hints_and_a_summary(run_cli, cfg: Path) -> None:  # type: ignore[no-untyped-def]
    (cfg / "a.yaml").write_text(CHANNEL.format(name="a", provider="twilio"), encoding="utf-8")
    (cfg / "b.yaml").write_text("x: 1\nx: 2\n", encoding="utf-8")
    (cfg / "empty.yaml").write_text("", encoding="utf-8")
    code, out, _ = run_cli("validate", "cfg")
    assert code == 1
    assert out == (
        "cfg/a.yaml:6:13: error SMS020: spec.provider: 'twilio' is not one of alibaba, tencent, aws, sandbox\n"
        "  hint: use one of the values listed\n"
        "cfg/b.yaml:1:1: error SMS010: missing kind; expected Channel, Template or Signature\n"
        "  hint: start the document with 'apiVersion: smsops/v1' and 'kind: Channel', 'kind: Template' or "
        "'kind: Signature'\n"
        "cfg/b.yaml:2:1: error SMS003: duplicate key 'x': already set at line 1, line 2 sets it again\n"
        "  hint: keep one of them; YAML would silently use the last\n"
        "cfg/empty.yaml:1:1: warning SMS006: file contains no YAML documents\n"
        "  hint: delete the file or add a Channel or Template\n"
        "3 errors, 1 warning in 3 files\n"
    )


def test_warnings_pass_unless_strict(run_cli, cfg: Path) -> None:  # type: ignore[no-untyped-def]
    channel = CHANNEL.format(name="sandbox", provider="sandbox") + "  enabled: false\n"
    (cfg / "sandbox.yaml").write_text(channel, encoding="utf-8")
    (cfg / "empty.yaml").write_text("", encoding="utf-8")
    code, out, _ = run_cli("validate", "cfg")
    assert (code, out.splitlines()[-1]) == (0, "0 errors, 1 warning in 2 files")
    code, out, _ = run_cli("validate", "cfg", "--strict")
    assert code == 1
    assert out.splitlines()[0] == "cfg/empty.yaml:1:1: error SMS006: file contains no YAML documents"
    assert out.splitlines()[-1] == "1 error, 0 warnings in 2 files"


def test_json_output(run_cli, cfg: Path) -> None:  # type: ignore[no-untyped-def]
    (cfg / "a.yaml").write_text(CHANNEL.format(name="a", provider="twilio"), encoding="utf-8")
    code, out, _ = run_cli("validate", "cfg", "--output", "json")
    assert code == 1
    assert json.loads(out) == {
        "format_version": 1,
        "ok": False,
        "diagnostics": [
            {
                "file": "cfg/a.yaml",
                "line": 6,
                "column": 13,
                "severity": "error",
                "rule": "SMS020",
                "message": "spec.provider: 'twilio' is not one of alibaba, tencent, aws, sandbox",
                "hint": "use one of the values listed",
            }
        ],
        "summary": {"errors": 1, "warnings": 0, "files": 1, "channels": 0, "templates": 0},
    }
    code, out, _ = run_cli("validate", str(ROOT / "sms-config"), "-o", "json")
    assert (code, json.loads(out)["ok"], json.loads(out)["summary"]["templates"]) == (0, True, 5)


def test_github_output_and_step_summary(
    run_cli,  # type: ignore[no-untyped-def]
    cfg: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (cfg / "a,b.yaml").write_text(CHANNEL.format(name="a", provider="twilio"), encoding="utf-8")
    (cfg / "empty.yaml").write_text("", encoding="utf-8")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, out, _ = run_cli("validate", "cfg", "-o", "github")
    assert code == 1
    assert out.splitlines() == [
        "::error file=cfg/a%2Cb.yaml,line=6,col=13,title=SMS020::spec.provider: 'twilio' is not one of "
        "alibaba, tencent, aws, sandbox%0Ahint: use one of the values listed",
        "::warning file=cfg/empty.yaml,line=1,col=1,title=SMS006::file contains no YAML documents%0A"
        "hint: delete the file or add a Channel or Template",
        "1 error, 1 warning in 2 files",
    ]
    assert summary.read_text(encoding="utf-8").startswith("### smsops validate: failed\n")


def test_workflow_command_escaping() -> None:
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    diagnostic = Diagnostic("dir", 0, 0, "SMS001", "no files", "", Severity.ERROR)
    text = render_github([diagnostic], summarize([diagnostic], files=0, channels=0, templates=0))
    assert text.splitlines()[0] == "::error file=dir,title=SMS001::no files"


def test_output_is_redacted(run_cli, cfg: Path) -> None:  # type: ignore[no-untyped-def]
    (cfg / "a.yaml").write_text(CHANNEL.format(name="'+8613812345678'", provider="sandbox"), encoding="utf-8")
    code, out, _ = run_cli("validate", "cfg")
    assert code == 1
    assert "13812345678" not in out
    assert "metadata.name: '+86 138****5678' is not a DNS label" in out


def test_missing_directory(run_cli, cfg: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli("validate", "nowhere")
    assert (code, out.splitlines()[0]) == (1, "nowhere: error SMS001: config directory does not exist")


def test_validate_imports_no_provider_sdk() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "reconciler", "validate", "sms-config"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=os.environ,
        check=False,
    )
    assert done.returncode == 0, done.stdout
    assert done.stdout == "OK: 4 channels, 5 templates, 1 signature in 10 files\n"
    imported = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line]
    assert "reconciler.config.load" in imported and "reconciler.config.lint.run" in imported
    assert [name for name in imported if name.split(".")[0].startswith(SDK_PREFIXES)] == []


def test_markdown_output(run_cli, cfg: Path) -> None:  # type: ignore[no-untyped-def]
    (cfg / "a.yaml").write_text(CHANNEL.format(name="a", provider="twilio|x"), encoding="utf-8")
    code, out, _ = run_cli("validate", "cfg", "-o", "markdown")
    assert code == 1
    assert out.splitlines() == [
        "### smsops validate: failed",
        "",
        "| Location | Severity | Rule | Problem | Hint |",
        "|---|---|---|---|---|",
        "| `cfg/a.yaml:6:13` | error | SMS020 | spec.provider: 'twilio\\|x' is not one of alibaba, tencent, aws, "
        "sandbox | use one of the values listed |",
        "",
        "1 error, 0 warnings in 1 file",
    ]
