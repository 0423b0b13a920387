"""Values YAML would coerce are schema errors, through ``smsops validate``: a boolean written as a
string (``enabled: "yes"``) or a number, and an empty channel list, which would send a template
nowhere."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., tuple[int, str, str]]

CHANNEL = """\
apiVersion: smsops/v1
kind: Channel
metadata:
  name: demo
spec:
  provider: sandbox
  signature:
    name: OnePro
  enabled: {enabled}
  rollout: {{prune: {prune}}}
"""
TEMPLATE = """\
apiVersion: smsops/v1
kind: Template
metadata:
  name: login
spec:
  type: verification
  international: {international}
  content: "Your code is {{{{ code }}}}."
  variables:
    code: {{type: code, example: "482913"}}
  remark: Sent when a user signs in.
  channels: {channels}
"""
HINT = "  hint: write true or false"


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cfg").mkdir()
    return tmp_path / "cfg"


def write(cfg: Path, *, enabled: str = "true", prune: str = "false", international: str = "false",
          channels: str = "[demo]") -> None:  # fmt: skip
    (cfg / "channel.yaml").write_text(CHANNEL.format(enabled=enabled, prune=prune), encoding="utf-8")
    (cfg / "login.yaml").write_text(TEMPLATE.format(international=international, channels=channels), encoding="utf-8")


def test_real_booleans_and_a_channel_list_are_valid(run_cli: Run, cfg: Path) -> None:
    write(cfg, enabled="false", prune="true", international="true")
    assert run_cli("validate", "cfg")[:2] == (0, "OK: 1 channel, 1 template in 2 files\n")


def test_strings_and_numbers_for_booleans_are_schema_errors(run_cli: Run, cfg: Path) -> None:
    write(cfg, enabled='"yes"', prune="1", international="'false'")
    code, out, _ = run_cli("validate", "cfg")
    assert code == 1
    assert out.splitlines() == [
        "cfg/channel.yaml:9:12: error SMS020: spec.enabled: expected true or false, got 'yes'",
        HINT,
        "cfg/channel.yaml:10:20: error SMS020: spec.rollout.prune: expected true or false, got 1",
        HINT,
        "cfg/login.yaml:7:18: error SMS020: spec.international: expected true or false, got 'false'",
        HINT,
        "3 errors, 0 warnings in 2 files",
    ]


def test_an_empty_channel_list_is_an_error(run_cli: Run, cfg: Path) -> None:
    write(cfg, channels="[]")
    code, out, _ = run_cli("validate", "cfg")
    assert code == 1
    assert out.splitlines() == [
        "cfg/login.yaml:12:13: error SMS020: spec.channels: an empty list sends this template to no channel",
        "  hint: name the channels, or remove the field to send the template to every channel",
        "1 error, 0 warnings in 2 files",
    ]
