"""A template renamed as the team guide says (``metadata.renamedFrom``), through Starlette's
TestClient on the demo's sandbox account: the live code keeps its provider-side name
``login-verification~<fp>``, and the channel page and "Send Test SMS" still know it as the renamed
template's live version."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from reconciler.cli import main
from tests.console.conftest import Client, sent


@pytest.fixture
def renamed(console_repo: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """login-verification renamed login-code and applied on the sandbox channel; its live code."""
    config = console_repo / "sms-config"
    old = config / "templates" / "login-verification.yaml"
    doc = yaml.safe_load(old.read_text())
    doc["metadata"] = {"name": "login-code", "renamedFrom": "login-verification"}
    (config / "templates" / "login-code.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    old.unlink()
    for name in ("staging", "production"):  # their testSend.templates name it
        path = config / "channels" / f"{name}.yaml"
        path.write_text(path.read_text().replace("login-verification", "login-code"))
    assert main(["apply", "sms-config", "--channel", "sandbox", "--auto-approve"]) == 0
    out = capsys.readouterr().out
    found = re.search(r"  done     rename  sandbox/login-code (\S+)", out)
    assert found is not None, out
    return found.group(1)


def test_the_channel_page_shows_a_renamed_template_live(client: Client, renamed: str) -> None:
    page = client().get("/channels/sandbox").text
    row = page[page.index('<tr data-template="login-code">') :]
    row = row[: row.index("</tr>")]
    assert f'class="state state-live">live</span> <small>live {renamed}</small>' in row
    live = page[page.index('<section aria-labelledby="live">') :]
    live_row = live[live.index('<th scope="row">login-code</th>') :]
    live_row = live_row[: live_row.index("</tr>")]
    assert f"<code>{renamed}</code> <small>login-verification~" in live_row
    assert "not registered" not in live_row and "none" not in live_row


def test_send_test_sms_sends_the_renamed_template(client: Client, renamed: str) -> None:
    page, progress = sent(client())
    report = json.loads(progress)
    assert [(r["template"], r["code"], r["outcome"]) for r in report["results"]] == [
        ("login-code", renamed, "delivered")
    ]
    assert "nothing to test" not in page and "Gate skipped" not in page


def test_wait_with_the_managed_signature_has_nothing_to_register(
    renamed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sandbox channel's signature is managed (kind: Signature): a renamed template counted as
    not registered would read "the next apply registers" it."""
    main(["wait", "sms-config", "--channel", "sandbox", "--timeout", "1s", "--interval", "1s"])
    captured = capsys.readouterr()
    assert f"  login-code          live {renamed} since " in captured.out
    assert "registers" not in captured.out + captured.err and "sandbox/login-code" not in captured.err
