"""`smsops channels`: the channel names a pipeline's job matrix is built from, through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHANNEL = """\
apiVersion: smsops/v1
kind: Channel
metadata: {{name: {name}}}
spec:
  provider: sandbox
  signature: {{name: OnePro}}
"""
TEMPLATE = """\
apiVersion: smsops/v1
kind: Template
metadata: {name: task-status}
spec:
  type: notification
  content: "Task {{ task }} finished."
  variables: {task: {type: text, example: build}}
  remark: Sent to the engineer who started the task.
"""


NOTE = (
    "note: left out the embedded sandbox channel(s) {}: their provider state stays on the machine that runs "
    "smsops (a CI runner starts empty); --include-embedded lists them\n"
)


def test_example_channels_as_text_and_as_a_json_array(run_cli) -> None:  # type: ignore[no-untyped-def]
    config = str(ROOT / "sms-config")
    assert run_cli("channels", config) == (0, "production\nstaging\ntencent-cn\n", NOTE.format("sandbox"))
    code, out, err = run_cli("channels", config, "--output", "json")
    assert (code, err) == (0, NOTE.format("sandbox"))
    # One line: a workflow writes it to $GITHUB_OUTPUT as `channels=<line>` and reads it with fromJSON.
    assert out == '["production", "staging", "tencent-cn"]\n'
    assert json.loads(out) == ["production", "staging", "tencent-cn"]


def test_embedded_channels_are_listed_only_when_asked(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    """The workflows' matrix leaves the embedded sandbox out: on a runner that starts empty its
    account would be empty on every run. A config of embedded channels only is an empty matrix."""
    config = str(ROOT / "sms-config")
    code, out, err = run_cli("channels", config, "--output", "json", "--include-embedded")
    assert (code, out, err) == (0, '["production", "sandbox", "staging", "tencent-cn"]\n', "")
    (tmp_path / "all.yaml").write_text(CHANNEL.format(name="zeta") + "---\n" + CHANNEL.format(name="alpha"))
    assert run_cli("channels", str(tmp_path), "-o", "json") == (0, "[]\n", NOTE.format("alpha, zeta"))


def test_names_come_from_the_documents_not_the_file_names(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    # Two channels in one file; a file named like a channel that holds a template.
    (tmp_path / "all.yaml").write_text(CHANNEL.format(name="zeta") + "---\n" + CHANNEL.format(name="alpha"))
    (tmp_path / "production.yaml").write_text(TEMPLATE)
    assert run_cli("channels", str(tmp_path), "-o", "json", "--include-embedded") == (0, '["alpha", "zeta"]\n', "")


def test_no_channel_is_an_empty_array(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    """The workflows skip the matrix when the list is `[]`."""
    (tmp_path / "t.yaml").write_text(TEMPLATE)
    assert run_cli("channels", str(tmp_path), "--output", "json") == (0, "[]\n", "")
    assert run_cli("channels", str(tmp_path)) == (0, "", "")


def test_a_broken_channel_is_an_error_not_a_shorter_list(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "good.yaml").write_text(CHANNEL.format(name="good"))
    (tmp_path / "bad.yaml").write_text(CHANNEL.format(name="bad").replace("provider: sandbox", "provider: pigeon"))
    code, out, err = run_cli("channels", str(tmp_path), "--output", "json", "--include-embedded")
    assert (code, out) == (1, "")
    assert f"{tmp_path / 'bad.yaml'}:5:13: error SMS020:" in err
    assert "pigeon" in err and "Traceback" not in err
    assert err.rstrip().endswith(f"hint: run `smsops validate {tmp_path}` for details")


def test_a_missing_directory_and_a_bad_option_exit_1(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("channels", str(tmp_path / "nowhere"))
    assert (code, out) == (1, "")
    assert "SMS001: config directory does not exist" in err
    code, out, err = run_cli("channels", str(ROOT / "sms-config"), "--output", "markdown")
    assert (code, out) == (1, "")
    assert "'markdown' is not one of 'text', 'json'" in err


def test_runs_as_a_process_without_provider_sdks() -> None:
    """The workflows call it before any key is present; it must stay as cheap as validate."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "reconciler", "channels", "sms-config", "-o", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert result.stdout == '["production", "staging", "tencent-cn"]\n'
    imported = [line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line]
    assert [name for name in imported if name.split(".")[0] in ("alibabacloud", "tencentcloud", "boto3", "Tea")] == []
