"""Soak: through a whole rollout (create, review, gate, promote, grace, retire and delete), after
every API call smsops makes to the provider, every code the published document in the durable
target names exists at the provider and is approved. The check runs inside the sandbox
(``RunningSandbox.after_request``) before the call is answered, so it sees the state each call left."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.soak.rollout import ALERT_V2, PROVIDERS, PublishedCodesCheck, Setup, applied


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_published_code_is_at_the_provider_and_approved_after_every_api_call(
    provider: str, tmp_path: Path, rollout_setup: Callable[..., Setup], run_cli: Any, figure: Callable[[str], None]
) -> None:
    setup = rollout_setup(provider, tmp_path / "cfg")
    check = PublishedCodesCheck(setup.target, setup.account)
    setup.handle.running.after_request = check
    root = setup.repo.root
    registers = provider != "aws"  # AWS has no template registry: the application renders the content

    applied(run_cli, root)  # create (AWS: publish)
    setup.review()
    applied(run_cli, root)  # gate, promote, publish
    first = setup.target.templates()
    assert sorted(first) == ["alert", "notice"] and all(entry["live"] for entry in first.values())
    old_alert = first["alert"].get("code")

    # A new version of one template, the other removed from git (prune is on).
    setup.repo.template("alert", ALERT_V2, service="db")
    setup.repo.remove_template("notice")
    applied(run_cli, root)  # create the new version; unpublish the removed template
    setup.review()
    applied(run_cli, root)  # gate, promote, publish: the old version leaves the document
    second = setup.target.templates()
    assert sorted(second) == ["alert"]
    assert "has stopped answering" in second["alert"]["content"]  # in the provider's own placeholders
    applied(run_cli, root)  # within the grace period: nothing goes
    if registers:
        assert old_alert in setup.codes("alert") and setup.codes("notice")
    setup.grace()
    applied(run_cli, root)  # retire the old version, delete the removed template

    assert setup.target.templates() == second
    if registers:
        assert setup.codes("alert") == [second["alert"]["code"]] and not setup.codes("notice")
        assert old_alert != second["alert"]["code"]
    figure(check.figure(provider))
    assert check.violations == []
    assert check.checks >= 6 and check.verified > 0  # at least one call per apply, and codes were checked


def test_the_check_reports_a_published_code_the_provider_lost(
    tmp_path: Path, rollout_setup: Callable[..., Setup], run_cli: Any
) -> None:
    """The check can fail: a live code deleted behind smsops' back is reported after the next call."""
    setup = rollout_setup("alibaba", tmp_path / "cfg")
    applied(run_cli, setup.repo.root)
    setup.review()
    applied(run_cli, setup.repo.root)
    check = PublishedCodesCheck(setup.target, setup.account)
    setup.handle.running.after_request = check
    [code] = setup.codes("alert")
    setup.account.delete_template(code)
    run_cli("plan", str(setup.repo.root))
    assert check.checks > 0 and check.violations
    assert (
        check.violations[0]
        == f"after {next(iter(check.operations))}: alert names {code}, which the provider does not have"
    )
