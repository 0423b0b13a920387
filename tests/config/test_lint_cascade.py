"""A document that fails its schema is reported once, not again by every document that names it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHANNEL = """apiVersion: smsops/v1
kind: Channel
metadata: {name: prod}
spec:
  provider: sandbox
  signature: {name: OnePro}
  maxSegments: lots
"""
TEMPLATE = """apiVersion: smsops/v1
kind: Template
metadata: {name: alert}
spec:
  type: notification
  content: "Service {{ service }} is down"
  variables: {service: {type: text, example: db}}
  remark: Sent to on-call engineers.
  channels: [prod]
"""


def rules(run_cli: Any, root: Path) -> list[str]:
    code, out, err = run_cli("validate", str(root))
    assert code == 1 and "Traceback" not in out + err
    return [line.split()[2].rstrip(":") for line in out.splitlines() if ": error " in line or ": warning " in line]


def test_a_broken_channel_is_not_also_unknown_to_its_templates(tmp_path: Path, run_cli: Any) -> None:
    (tmp_path / "c.yaml").write_text(CHANNEL)
    (tmp_path / "t.yaml").write_text(TEMPLATE)
    assert rules(run_cli, tmp_path) == ["SMS020"]


def test_a_broken_template_does_not_leave_its_channel_without_templates(tmp_path: Path, run_cli: Any) -> None:
    (tmp_path / "c.yaml").write_text(CHANNEL.replace("  maxSegments: lots\n", ""))
    (tmp_path / "t.yaml").write_text(TEMPLATE.replace("type: notification", "type: promo"))
    assert rules(run_cli, tmp_path) == ["SMS020"]


def test_a_yaml_error_hides_no_channel_behind_an_unknown_channel_error(tmp_path: Path, run_cli: Any) -> None:
    # The channel follows the template in the same file, after a YAML error: it was never read.
    broken = CHANNEL.replace("  maxSegments: lots\n", "").replace("{name: OnePro}", "{name: OnePro")
    (tmp_path / "all.yaml").write_text(TEMPLATE + "---\n" + broken)
    assert rules(run_cli, tmp_path) == ["SMS002"]
    # Fixed, the reference resolves; a name that is really unknown is reported again.
    (tmp_path / "all.yaml").write_text(TEMPLATE + "---\n" + CHANNEL.replace("  maxSegments: lots\n", ""))
    assert run_cli("validate", str(tmp_path))[0] == 0
    (tmp_path / "all.yaml").write_text(
        TEMPLATE.replace("[prod]", "[prd]") + "---\n" + CHANNEL.replace("  maxSegments: lots\n", "")
    )
    assert rules(run_cli, tmp_path)[0] == "SMS301"


def test_a_yaml_error_in_the_templates_file_leaves_no_channel_without_templates(tmp_path: Path, run_cli: Any) -> None:
    (tmp_path / "c.yaml").write_text(CHANNEL.replace("  maxSegments: lots\n", ""))
    (tmp_path / "t.yaml").write_text(TEMPLATE.replace("remark: Sent", "remark: [Sent"))
    assert rules(run_cli, tmp_path) == ["SMS002"]
