""" "Send Test SMS" through Starlette's TestClient: the send runs in the background on the demo's
sandbox account and its page shows the gate's progress, then the delivery proof, numbers masked."""

from __future__ import annotations

import json
import re

import pytest

from reconciler.commands import test_send
from tests.console.conftest import CANARIES, PHONE, Client, HeldSleep, csrf


def test_send_test_sms_shows_progress_then_delivered_with_a_masked_number(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = HeldSleep()
    monkeypatch.setattr(test_send, "SLEEP", held)
    browser = client()
    token = csrf(browser)
    started = browser.post("/channels/sandbox/test-send", data={"csrf": token}, follow_redirects=False)
    assert started.status_code == 303
    where = started.headers["location"]
    assert re.fullmatch(r"/channels/sandbox/test-send/[\w-]+", where)
    assert held.asleep.wait(timeout=120)  # sent; the gate waits for the delivery report

    running = browser.get(where).text
    assert "Sending… 0 of 1 send(s) with a final outcome so far." in running
    assert "<li>waiting for delivery reports; 1 awaiting a report</li>" in running
    assert '<noscript><meta http-equiv="refresh" content="1"></noscript>' in running  # without a script
    assert 'data-testid="gate"' not in running
    so_far = browser.get(f"{where}/progress").json()
    assert (so_far["done"], so_far["total"], so_far["finished"], so_far["results"]) == (False, 1, 0, [])
    again = browser.post("/channels/sandbox/test-send", data={"csrf": token}, follow_redirects=False)
    assert again.headers["location"] == where  # a second click follows the running send: no second SMS

    held.go.set()
    job = browser.app.state.console.sends.get(where.rsplit("/", 1)[1])  # type: ignore[attr-defined]
    assert job.wait(timeout=120)
    answer = browser.get(f"{where}/progress")
    done = answer.json()
    assert done["done"] is True and done["status"] == "passed"
    assert done["summary"] == "Gate passed on sandbox: 1 delivered; proof: delivered."
    (row,) = done["results"]
    assert row["outcome"] == "delivered" and re.fullmatch(PHONE, row["to"])
    assert f"{row['template']} to {row['to']}: delivered" in done["log"]
    page = browser.get(where).text
    assert "Gate passed on sandbox: 1 delivered; proof: delivered." in page
    assert re.search(rf'<code class="phone">{PHONE}</code>', page)
    assert "http-equiv" not in page  # done: nothing refreshes any more
    for text in (running, json.dumps(so_far), answer.text, page):
        for canary in CANARIES:
            assert canary not in text, f"leaked {canary[:6]}…"


def test_an_unknown_send_is_not_found(client: Client) -> None:
    browser = client()
    assert browser.get("/channels/sandbox/test-send/nope").status_code == 404
    assert browser.get("/channels/sandbox/test-send/nope/progress", headers={"accept": "application/json"}).json() == {
        "error": "no such test send: the console keeps the last ones until it stops"
    }


def test_a_send_that_cannot_start_says_why_on_its_page(client: Client) -> None:
    browser = client()
    started = browser.post("/channels/production/test-send", data={"csrf": csrf(browser)}, follow_redirects=False)
    where = started.headers["location"]
    job = browser.app.state.console.sends.get(where.rsplit("/", 1)[1])  # type: ignore[attr-defined]
    assert job.wait(timeout=120)
    page = browser.get(where).text
    assert '<p class="problem" role="alert">sms-config/secrets/production.enc.yaml: cannot decrypt:' in page
    assert "Finished: nothing was sent." in page and "<table>" not in page
    assert browser.get(f"{where}/progress").json()["problem"].startswith("sms-config/secrets/production.enc.yaml")
