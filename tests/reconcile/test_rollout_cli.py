"""Rollouts through the CLI against the Alibaba and Tencent emulators: promotion publishes, a rename
keeps the live code (Alibaba marks in template tags, Tencent keeps none: marks beside the published
config), a rejection is drift, a changed remark resubmits in place, copies registered twice go."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.providers.base import ReviewStatus, TemplateKind
from reconciler.sandbox.store.account import ManualClock, SandboxAccount
from reconciler.sandbox.tencent.emulator import DEFAULT_RATES
from reconciler.sandbox.tencent.ops import set_effect_delay
from reconciler.sandbox.testing import (
    TENCENT_TEST_APP_ID,
    TENCENT_TEST_SECRET_ID,
    TENCENT_TEST_SECRET_KEY,
    TEST_KEY_ID,
    TEST_KEY_SECRET,
    SandboxFactory,
    SandboxHandle,
)
from tests.configrepo import SANDBOX_KEY, ConfigRepo, template_doc, write_doc

ALERT = "Service {{ service }} is down"
LOGIN = "Your login code is {{ code }}"
GOOD = "+8613812345678"
TEST_SEND = {"recipients": {"sops": "../secrets/creds.enc.yaml", "key": "test_recipients"}, "deliveryTimeout": "30s"}


@pytest.fixture
def sandbox_clock() -> ManualClock:
    return ManualClock(time.time())  # delivery reports are due by the wall clock the gate waits on


@dataclass
class Target:
    """One provider's emulator for these tests: its test account and its address."""

    provider: str
    account: SandboxAccount
    url: str
    handle: SandboxHandle  # the official SDK clients


@pytest.fixture(params=["alibaba", "tencent"])
def target(request: pytest.FixtureRequest, sandbox_factory: SandboxFactory, monkeypatch: pytest.MonkeyPatch) -> Target:
    """The provider's test account: reviews by hand, deliveries at once, no per-number limits."""
    provider = str(request.param)
    handle = sandbox_factory.start(provider)
    monkeypatch.setattr("reconciler.verify.gate.DEFAULT_POLL_INTERVAL_S", 0.01)
    adapter = f"reconciler.providers.{provider}.adapter.{provider.title()}Provider.number_limits"
    monkeypatch.setattr(adapter, lambda self, kind: ())
    if provider == "alibaba":
        handle.account.configure(delivery_delay_s=0, number_limits={})
        return Target(provider, handle.account, handle.url(), handle)
    account = handle.tencent_account
    # These tests hold the sandbox clock still, which the API rates count by: rates are not tested here.
    rates = dict.fromkeys(DEFAULT_RATES, 0)
    account.configure(delivery_delay_s=0, number_limits={}, auto_review=False, api_rates=rates)
    set_effect_delay(account, 0)  # an approved template is usable at once
    return Target(provider, account, handle.url("tencent"), handle)


@pytest.fixture
def repo(tmp_path: Path, target: Target, monkeypatch: pytest.MonkeyPatch) -> ConfigRepo:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    config = ConfigRepo(tmp_path / "cfg")
    rollout = {"prune": True, "gracePeriod": "1s"}
    if target.provider == "alibaba":
        config.secrets(TEST_KEY_ID, TEST_KEY_SECRET, recipients=[GOOD])
        config.channel("prod", "alibaba", target.url, testSend=TEST_SEND, rollout=rollout)
    else:
        config.secrets(TENCENT_TEST_SECRET_ID, TENCENT_TEST_SECRET_KEY, recipients=[GOOD])
        signature = {"name": "OnePro", "smsSdkAppId": TENCENT_TEST_APP_ID}
        config.channel("prod", "tencent", target.url, signature=signature, testSend=TEST_SEND, rollout=rollout)
    config.template("alert", ALERT, service="db")
    config.template("login", LOGIN, "verification", code="123456")
    return config


def run_ok(run_cli: Any, *args: str) -> str:
    code, out, err = run_cli(*args)
    assert code == 0, out + err
    assert "Traceback" not in out + err
    return str(out)


def plan_json(run_cli: Any, repo: ConfigRepo, *extra: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run_cli("plan", str(repo.root), "--output", "json", *extra)
    assert "Traceback" not in out + err, err
    return code, json.loads(out)


def actions(plan: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((c["action"], c["template"]) for ch in plan["channels"] for c in ch["changes"])


def published(repo: ConfigRepo) -> dict[str, Any]:
    document = json.loads((repo.root / ".smsops" / "published" / "prod.json").read_text())
    return dict(document["channel"]["templates"])


def tag(handle: SandboxHandle, code: str, tags: dict[str, str]) -> None:
    """Tag a template through the official SDK, as an apply does."""
    from alibabacloud_dysmsapi20170525 import models

    request = models.TagResourcesRequest(
        region_id="cn-hangzhou",
        resource_type="TEMPLATE",
        prod_code="dysms",
        resource_id=[code],
        tag=[models.TagResourcesRequestTag(key=key, value=value) for key, value in tags.items()],
    )
    handle.alibaba_client().tag_resources(request)


def keep_aliases(repo: ConfigRepo) -> None:
    """A grace period of an hour: a renamed template's old name stays published as an alias for the
    whole test, however slow the machine (with the fixture's 1s it may go between two commands)."""
    path = repo.root / "channels" / "prod.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["spec"]["rollout"]["gracePeriod"] = "1h"
    write_doc(path, doc)


def live_rollout(run_cli: Any, repo: ConfigRepo, target: Target) -> dict[str, str]:
    """Create, approve and promote both templates; the codes by template name."""
    run_ok(run_cli, "apply", str(repo.root), "--auto-approve")
    for template in target.account.templates():
        target.account.approve(template.code)
    run_ok(run_cli, "apply", str(repo.root), "--auto-approve")
    return {t.name.split("~")[0]: t.code for t in target.account.templates()}


def test_the_promoting_apply_publishes_what_the_application_reads(
    run_cli: Any, repo: ConfigRepo, target: Target
) -> None:
    run_ok(run_cli, "apply", str(repo.root), "--auto-approve")
    assert not (repo.root / ".smsops" / "published" / "prod.json").exists()  # nothing is live yet
    for template in target.account.templates():
        target.account.approve(template.code)
    out = run_ok(run_cli, "apply", str(repo.root), "--auto-approve")
    assert "  done     publish prod/published " in out
    codes = {t.name.split("~")[0]: t.code for t in target.account.templates()}
    assert {name: entry["code"] for name, entry in published(repo).items()} == codes
    assert plan_json(run_cli, repo, "--detailed-exitcode")[0] == 0


def rename_to(
    repo: ConfigRepo, old: str, new: str, content: str, renamed_from: bool, kind: str = "notification", **variables: str
) -> None:
    doc = template_doc(new, content, kind, **variables)
    if renamed_from:
        doc["metadata"]["renamedFrom"] = old
    write_doc(repo.root / "templates" / f"{new}.yaml", doc)
    repo.remove_template(old)


@pytest.mark.parametrize("declared", [True, False], ids=["renamedFrom", "detected"])
def test_a_rename_keeps_the_live_code_with_no_review_and_no_gate(
    run_cli: Any, repo: ConfigRepo, target: Target, declared: bool
) -> None:
    codes = live_rollout(run_cli, repo, target)
    templates, sends = len(target.account.templates()), len(target.account.sends())
    rename_to(repo, "alert", "incident-alert", ALERT, declared, service="db")

    code, plan = plan_json(run_cli, repo, "--detailed-exitcode")
    assert code == 2
    assert actions(plan) == [("noop", "login"), ("rename", "incident-alert")]
    out = run_ok(run_cli, "apply", str(repo.root), "--auto-approve")
    assert "  done     rename  prod/incident-alert " in out and "  done     publish prod/published " in out

    after = published(repo)
    assert after["incident-alert"]["code"] == codes["alert"] and "alias_of" not in after["incident-alert"]
    assert after["alert"]["code"] == codes["alert"] and after["alert"]["alias_of"] == "incident-alert"
    if target.provider == "tencent":  # no tags: the rename is marked beside the published config
        marks = json.loads((repo.root / ".smsops" / "published" / "prod.marks.json").read_text())["marks"]
        assert marks[codes["alert"]]["smsops-renamed"].endswith(" alert")
    # no new version, no new review, no test send
    assert len(target.account.templates()) == templates and len(target.account.sends()) == sends
    _, plan = plan_json(run_cli, repo)
    assert ("noop", "incident-alert") in actions(plan)

    time.sleep(1.1)  # the channel's grace period is 1s: the alias goes at the next apply
    _, plan = plan_json(run_cli, repo)
    assert actions(plan) == [("noop", "incident-alert"), ("noop", "login"), ("publish", "")]
    run_ok(run_cli, "apply", str(repo.root), "--auto-approve")
    assert sorted(published(repo)) == ["incident-alert", "login"]
    assert [t.code for t in target.account.templates() if t.name.startswith("alert~")] == [codes["alert"]]
    assert plan_json(run_cli, repo, "--detailed-exitcode")[0] == 0


def test_a_rejection_is_drift_and_a_changed_remark_resubmits_it_in_place(
    run_cli: Any, repo: ConfigRepo, target: Target
) -> None:
    run_ok(run_cli, "apply", str(repo.root), "--auto-approve")
    codes = {t.name.split("~")[0]: t.code for t in target.account.templates()}
    target.account.reject(codes["alert"], "Explain where this message is sent.")

    code, out, err = run_cli("plan", str(repo.root), "--detailed-exitcode")
    assert code == 2, out + err
    assert (
        f"  ! template alert: version {codes['alert']} was rejected by the provider: "
        "Explain where this message is sent."
    ) in out
    assert "1 rejected by the provider." in out.splitlines()[-1]
    code, out, _ = run_cli("plan", str(repo.root), "--output", "github")
    assert f"::error title=smsops prod::template alert: version {codes['alert']} was rejected" in out

    # The team guide's advice: explain the use in the remark. Same content, same version, resubmitted.
    doc = template_doc("alert", ALERT, "notification", service="db")
    doc["spec"]["remark"] = "Sent to the on-call engineer when a monitored service stops answering."
    write_doc(repo.root / "templates" / "alert.yaml", doc)
    _, plan = plan_json(run_cli, repo)
    [update] = [c for c in plan["channels"][0]["changes"] if c["action"] == "update"]
    assert update["before"]["code"] == codes["alert"]
    assert update["reason"].startswith("remark changed while version")
    run_ok(run_cli, "apply", str(repo.root), "--auto-approve")
    record = next(t for t in target.account.templates() if t.code == codes["alert"])
    assert record.status is ReviewStatus.PENDING and record.remark == doc["spec"]["remark"]
    assert len(target.account.templates()) == 2  # resubmitted in place, not a new version
    code, plan = plan_json(run_cli, repo, "--detailed-exitcode")
    assert code == 0 and not plan["channels"][0]["attention"]


@pytest.mark.parametrize("target", ["alibaba"], indirect=True)  # a copy with an Alibaba code
def test_a_version_registered_twice_is_shown_and_the_copy_retired(
    run_cli: Any, repo: ConfigRepo, target: Target
) -> None:
    codes = live_rollout(run_cli, repo, target)
    original = next(t for t in target.account.templates() if t.code == codes["alert"])
    # What a second apply running at the same time leaves: the same version registered again.
    copy = target.account.create_template(
        name=original.name,
        content=original.content,
        kind=TemplateKind.NOTIFICATION,
        remark=original.remark,
        code_factory=lambda n: f"SMS_{470_000_000 + n}",
    )
    target.account.approve(copy.code)
    # Without its owner mark (an apply stopped between the create and the mark) the copy is used,
    # never retired: nothing proves it this channel's.
    _, plan = plan_json(run_cli, repo)
    [kept] = [c for c in plan["channels"][0]["changes"] if (c["before"] or {}).get("code") == copy.code]
    assert kept["action"] == "noop" and "no smsops-owner mark of this channel" in kept["reason"]
    owner = plan["channels"][0]["owner"]
    assert owner.startswith("prod@")
    tag(target.handle, copy.code, {"smsops-owner": owner})  # what the second apply wrote right after its create
    _, plan = plan_json(run_cli, repo)
    [retire] = [c for c in plan["channels"][0]["changes"] if c["action"] == "retire"]
    assert retire["before"]["code"] == copy.code
    assert retire["reason"] == f"duplicate of {codes['alert']} (the same version registered twice)"
    run_ok(run_cli, "apply", str(repo.root), "--auto-approve")
    assert sorted(t.code for t in target.account.templates()) == sorted(codes.values())
    assert {name: entry["code"] for name, entry in published(repo).items()} == codes


@pytest.mark.parametrize("target", ["tencent"], indirect=True)  # Alibaba rewrites rejected versions only
def test_a_changed_remark_on_a_version_under_review_resubmits_it_in_place(
    run_cli: Any, repo: ConfigRepo, target: Target
) -> None:
    run_ok(run_cli, "apply", str(repo.root), "--auto-approve")
    codes = {t.name.split("~")[0]: t.code for t in target.account.templates()}
    doc = template_doc("alert", ALERT, "notification", service="db")
    doc["spec"]["remark"] = "Sent to the on-call engineer when a monitored service stops answering."
    write_doc(repo.root / "templates" / "alert.yaml", doc)

    code, plan = plan_json(run_cli, repo, "--detailed-exitcode")
    assert code == 2
    [update] = [c for c in plan["channels"][0]["changes"] if c["action"] == "update"]
    assert update["template"] == "alert" and update["before"]["code"] == codes["alert"]
    assert update["reason"].startswith("remark changed while version")
    run_ok(run_cli, "apply", str(repo.root), "--auto-approve")
    # ModifySmsTemplate: the same TemplateId, the new remark, still under review
    record = next(t for t in target.account.templates() if t.code == codes["alert"])
    assert record.status is ReviewStatus.PENDING and record.remark == doc["spec"]["remark"]
    assert len(target.account.templates()) == 2
    assert plan_json(run_cli, repo, "--detailed-exitcode")[0] == 0


def write_login_code(repo: ConfigRepo, content: str, renamed_from: bool) -> None:
    """templates/login-code.yaml, with or without ``metadata.renamedFrom: login``."""
    doc = template_doc("login-code", content, "verification", code="123456")
    if renamed_from:
        doc["metadata"]["renamedFrom"] = "login"
    write_doc(repo.root / "templates" / "login-code.yaml", doc)


def status_of(run_cli: Any, repo: ConfigRepo, name: str) -> tuple[dict[str, Any], str]:
    """One template's status (JSON) and the summary line."""
    code, out, err = run_cli("status", str(repo.root), "--output", "json")
    assert code == 0, out + err
    report = json.loads(out)
    [template] = [t for t in report["channels"][0]["templates"] if t["name"] == name]
    return template, str(report["summary"])


def test_after_a_rename_status_wait_and_test_send_see_the_live_version(
    run_cli: Any, repo: ConfigRepo, target: Target
) -> None:
    """The team guide's "rename without outage": the live code keeps its provider-side name
    ``login~<fp>``; every command still knows it as login-code's live version."""
    codes = live_rollout(run_cli, repo, target)
    rename_to(repo, "login", "login-code", LOGIN, True, "verification", code="123456")
    out = run_ok(run_cli, "apply", str(repo.root), "--auto-approve")
    assert f"  done     rename  prod/login-code {codes['login']}" in out

    template, summary = status_of(run_cli, repo, "login-code")
    assert (template["state"], template["registered"], template["live"]["code"]) == ("live", True, codes["login"])
    assert template["live"]["provider_name"].startswith("login~") and template["leaving"] == []
    assert summary.startswith("Status: 2 live, ") and "0 not registered" in summary and "retired" not in summary
    code, out, err = run_cli("wait", str(repo.root), "--timeout", "1s", "--interval", "1s")
    assert code == 0 and "all 2 template(s) approved" in out + err and "is not registered" not in out + err, out + err
    sends = len(target.account.sends())
    code, out, err = run_cli("test-send", str(repo.root), "--channel", "prod")
    assert code == 0, out + err
    assert f"  ok login-code ({codes['login']}) -> " in out and "Gate passed on prod: 1 delivered" in out
    assert len(target.account.sends()) == sends + 1

    # renamedFrom removed and the alias past its grace period: still the same live version
    write_login_code(repo, LOGIN, renamed_from=False)
    time.sleep(1.1)
    run_ok(run_cli, "apply", str(repo.root), "--auto-approve")
    assert sorted(published(repo)) == ["alert", "login-code"]
    template, summary = status_of(run_cli, repo, "login-code")
    assert (template["state"], template["live"]["code"]) == ("live", codes["login"]) and "0 not registered" in summary
    assert run_cli("wait", str(repo.root), "--timeout", "1s", "--interval", "1s")[0] == 0
    assert plan_json(run_cli, repo, "--detailed-exitcode")[0] == 0


def test_a_renamed_template_changed_and_rejected_keeps_its_live_version(
    run_cli: Any, repo: ConfigRepo, target: Target
) -> None:
    """After the rename (renamedFrom gone) a new version of login-code is rejected: the live one is
    still the renamed code (its smsops-renamed mark and the published config say so), and prune
    does not take it for a template removed from git."""
    keep_aliases(repo)
    codes = live_rollout(run_cli, repo, target)
    rename_to(repo, "login", "login-code", LOGIN, True, "verification", code="123456")
    run_ok(run_cli, "apply", str(repo.root), "--auto-approve")
    write_login_code(repo, "Your sign-in code is {{ code }}", renamed_from=False)
    run_ok(run_cli, "apply", str(repo.root), "--auto-approve")
    [new] = [t.code for t in target.account.templates() if t.name.startswith("login-code~")]
    target.account.reject(new, "Explain where this message is sent.")

    template, summary = status_of(run_cli, repo, "login-code")
    assert (template["state"], template["live"]["code"]) == ("rejected", codes["login"])
    assert [v["code"] for v in template["versions"]] == [new] and template["leaving"] == []
    assert "1 rejected" in summary and "0 not registered" in summary
    _, plan = plan_json(run_cli, repo)
    assert actions(plan) == [("noop", "alert"), ("noop", "login-code")]
    assert published(repo)["login-code"]["code"] == codes["login"]
    code, out, err = run_cli("wait", str(repo.root), "--timeout", "1s", "--interval", "1s")
    assert code == 1 and f"prod/login-code ({new}) rejected by the provider" in out + err, out + err


@pytest.mark.parametrize("declared", [True, False], ids=["renamedFrom", "removed"])
def test_import_after_a_rename_finds_the_renamed_template_in_git(
    run_cli: Any, repo: ConfigRepo, target: Target, declared: bool
) -> None:
    """The live version still named ``login~<fp>`` is login-code's: import neither skips it as a
    template not in git nor, with --all, adopts it as ``login``; the plan after import is empty."""
    keep_aliases(repo)
    live_rollout(run_cli, repo, target)
    rename_to(repo, "login", "login-code", LOGIN, True, "verification", code="123456")
    run_ok(run_cli, "apply", str(repo.root), "--auto-approve")
    write_login_code(repo, LOGIN, renamed_from=declared)
    for extra in ((), ("--all",)):
        out = run_ok(run_cli, "import", str(repo.root), "--channel", "prod", *extra)
        assert "0 imported, 0 skipped, 2 already in git" in out and "not in git" not in out, out
    assert not (repo.root / "templates" / "imported").exists() or not any(
        (repo.root / "templates" / "imported").iterdir()
    )
    assert plan_json(run_cli, repo, "--detailed-exitcode")[0] == 0
