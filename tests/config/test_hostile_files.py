"""Files a repository can hold but the corpus cannot commit: a FIFO, a file over the size cap, a
name with a newline in it. Each is a diagnostic at its file, through the real CLI, never a hang."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.config.files import MAX_FILE_BYTES

CHANNEL = (
    "apiVersion: smsops/v1\nkind: Channel\nmetadata:\n  name: sandbox\n"
    "spec:\n  provider: sandbox\n  signature:\n    name: OnePro\n"
)


def validate(root: Path, output: str = "text") -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.chdir(root), contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(["validate", ".", "--output", output])
    return code, out.getvalue()


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    (tmp_path / "channels").mkdir()
    (tmp_path / "channels" / "sandbox.yaml").write_text(CHANNEL)
    return tmp_path


def test_a_fifo_is_reported_not_read(config: Path) -> None:
    os.mkfifo(config / "channels" / "pipe.yaml")  # opening it for reading would wait for a writer forever
    code, output = validate(config)
    assert code == 1
    assert "channels/pipe.yaml:1:1: error SMS005: cannot read file: not a regular file (a named pipe)" in output


def test_a_fifo_as_a_signature_proof_file_is_said_to_be_one_not_read(config: Path) -> None:
    (config / "signatures").mkdir()
    os.mkfifo(config / "signatures" / "proof.png.enc")
    signature = (
        "apiVersion: smsops/v1\nkind: Signature\nmetadata:\n  name: onepro\nspec:\n  name: OnePro\n"
        '  alibaba:\n    source: organisation\n    type: general\n    qualificationId: "10000001"\n'
        "    remark: Company name of OnePro.\n    moreData:\n      - sops: proof.png.enc\n        suffix: png\n"
    )
    (config / "signatures" / "onepro.yaml").write_text(signature)
    code, output = validate(config)
    assert code == 1
    expected = "signatures/onepro.yaml:13:15: error SMS409: proof.png.enc: not a regular file (a named pipe)"
    assert expected in output, output
    assert "file not found" not in output


def test_a_file_over_the_cap_is_reported_unread(config: Path) -> None:
    big = config / "channels" / "big.yaml"
    with big.open("wb") as stream:
        stream.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing is written to disk
    code, output = validate(config)
    assert code == 1
    assert "channels/big.yaml:1:1: error SMS005: file is larger than 8 MiB; not read" in output


def test_a_newline_in_a_file_name_cannot_forge_a_diagnostic_line(config: Path) -> None:
    forged = "x\nchannels:1:1: error SMS999: forged.yaml"
    (config / "channels" / forged).write_text("kind: Nope\n")
    code, output = validate(config)
    assert code == 1
    assert not any(line.startswith("channels:1:1: error SMS999") for line in output.splitlines())
    assert "channels/x\\nchannels:1:1: error SMS999: forged.yaml:1:7: error SMS010: unknown kind 'Nope'" in output
    # JSON carries the real name: it is data there, not layout.
    code, output = validate(config, "json")
    assert '"file": "channels/x\\nchannels:1:1: error SMS999: forged.yaml"' in output


def test_an_allowed_path_outside_is_said_on_every_plan(config: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("published") / "sandbox.json"
    channel = CHANNEL + f"  allowOutside: true\n  publish:\n    file: {outside}\n"
    (config / "channels" / "sandbox.yaml").write_text(channel)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(config), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["plan", "."])
    assert code == 0, out.getvalue() + err.getvalue()
    expected = (
        f"channels/sandbox.yaml:11:11: warning SMS407: {outside} is outside the config directory (allowOutside: true)"
    )
    assert expected in err.getvalue()
