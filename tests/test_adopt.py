"""`smsops import` against the Alibaba and Tencent emulators through the real adapters and SDKs:
hand-made templates are adopted into YAML, validate passes, and plan right after shows no change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.adopt import logical_name, schema_reference, slugify
from reconciler.content.identity import fingerprint
from reconciler.content.translate import from_native
from reconciler.providers.base import TemplateKind
from reconciler.sandbox.testing import (
    TENCENT_TEST_APP_ID,
    TENCENT_TEST_SECRET_ID,
    TENCENT_TEST_SECRET_KEY,
    SandboxHandle,
)
from tests.configrepo import SANDBOX_KEY, ConfigRepo

SHIPPED = "Your order ${orderNo} has shipped; track it in the app."
LOGIN_ZH = "您的验证码为${code}，5分钟内有效。"


@pytest.fixture(autouse=True)
def _age_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)


@pytest.fixture
def repo(tmp_path: Path, sms_sandbox: SandboxHandle) -> ConfigRepo:
    config = ConfigRepo(tmp_path / "cfg")
    config.secrets(*sms_sandbox.credentials)
    config.channel("prod", "alibaba", sms_sandbox.url())
    return config


@pytest.fixture
def tencent_repo(tmp_path: Path, sandbox_factory: Any) -> tuple[ConfigRepo, SandboxHandle]:
    handle: SandboxHandle = sandbox_factory.start("tencent")
    config = ConfigRepo(tmp_path / "cfg")
    config.secrets(TENCENT_TEST_SECRET_ID, TENCENT_TEST_SECRET_KEY)
    signature = {"name": "OnePro", "smsSdkAppId": TENCENT_TEST_APP_ID}
    config.channel("tc", "tencent", handle.url("tencent"), signature=signature)
    return config, handle


def by_hand(
    handle: SandboxHandle,
    name: str,
    content: str,
    kind: TemplateKind = TemplateKind.NOTIFICATION,
    *,
    approve: bool = True,
    code: int = 0,
) -> str:
    """A template made in the Alibaba console (the account API, as the console would)."""
    record = handle.account.create_template(
        name=name,
        content=content,
        kind=kind,
        remark="made in the console",
        code_factory=lambda n: f"SMS_{480_000_000 + code + n}",
    )
    if approve:
        handle.account.approve(record.code)
    return record.code


def tencent_by_hand(handle: SandboxHandle, name: str, content: str, sms_type: int) -> str:
    """A template made through the official Tencent SDK, then approved by the (emulated) reviewers."""
    from tencentcloud.sms.v20210111 import models

    request = models.AddSmsTemplateRequest()
    fields = {"TemplateName": name, "TemplateContent": content, "SmsType": sms_type, "International": 0}
    request.from_json_string(json.dumps({**fields, "Remark": "made in the console"}))
    template_id = str(handle.tencent_client().AddSmsTemplate(request).AddTemplateStatus.TemplateId)
    handle.tencent_account.approve(template_id)
    return template_id


def run_import(run_cli: Any, root: Path, *args: str) -> tuple[int, str, str]:
    code, out, err = run_cli("import", str(root), *args)
    assert "Traceback" not in out + err
    return code, out, err


def imported_dir(repo: ConfigRepo) -> Path:
    return repo.root / "templates" / "imported"


def plan_exit(run_cli: Any, root: Path, channel: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run_cli("plan", str(root), "--channel", channel, "--detailed-exitcode", "--output", "json")
    assert "Traceback" not in out + err, err
    return code, json.loads(out)


def adopted_only(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The plan's template changes, after checking that the one other change is publishing the
    adopted codes: nothing is published for a channel before its first apply."""
    changes = plan["channels"][0]["changes"]
    published = [c for c in changes if c["action"] == "publish"]
    assert [c["reason"] for c in published] == ["no published config in the channel's target yet"]
    return [c for c in changes if c["action"] != "publish"]


# -- round trips ---------------------------------------------------------------------------------


def test_alibaba_round_trip_import_then_plan_shows_no_change(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle
) -> None:
    shipped = by_hand(sms_sandbox, "Order shipped", SHIPPED)
    login = by_hand(sms_sandbox, "登录验证码", LOGIN_ZH, TemplateKind.VERIFICATION, code=100)
    pending = by_hand(sms_sandbox, "Maintenance window", "Maintenance starts at ${time}.", approve=False, code=200)

    code, out, err = run_import(run_cli, repo.root, "--channel", "prod")

    assert (code, err) == (0, "")
    login_file = f"template-{login.lower().replace('_', '-')}.yaml"
    files = sorted(p.name for p in imported_dir(repo).iterdir())
    assert files == ["maintenance-window.yaml", "order-shipped.yaml", login_file]
    out_dir = imported_dir(repo)
    assert f"+ wrote {out_dir / 'order-shipped.yaml'}: {shipped} 'Order shipped' (notification)" in out
    assert f"+ wrote {out_dir / 'maintenance-window.yaml'}: {pending} 'Maintenance window' (notification)" in out
    assert out.splitlines()[0] == "signature 'OnePro' is approved"
    assert out.splitlines()[-1] == (
        "3 imported, 0 skipped, 0 already in git; next: review the files, then `smsops plan --channel prod`"
    )
    assert (out_dir / "order-shipped.yaml").read_text() == (
        # No schemas/ directory encloses this config: no schema line (an address would not resolve).
        f"# Imported by `smsops import` from channel prod: {shipped} 'Order shipped'.\n"
        "apiVersion: smsops/v1\n"
        "kind: Template\n"
        "metadata: {name: order-shipped}\n"
        "spec:\n"
        "  type: notification\n"
        "  international: false\n"
        "  content: Your order {{ orderNo }} has shipped; track it in the app.\n"
        "  variables:\n"
        "    orderNo: {type: text, example: example}\n"
        "  remark: made in the console\n"  # the remark it was submitted with, as Alibaba reports it
        "  channels: [prod]\n"
        f"  adopt: {{code: {shipped}, channel: prod}}\n"
    )
    login_doc = yaml.safe_load((out_dir / login_file).read_text())
    assert login_doc["spec"]["content"] == "您的验证码为{{ code }}，5分钟内有效。"
    assert login_doc["spec"]["type"] == "verification"
    assert login_doc["spec"]["variables"] == {"code": {"type": "code", "example": "123456"}}

    assert run_cli("validate", str(repo.root))[0] == 0
    code, plan = plan_exit(run_cli, repo.root, "prod")
    assert code == 2, plan  # only the first publish of the adopted codes
    changes = adopted_only(plan)
    assert sorted((c["action"], c["before"]["code"]) for c in changes) == sorted(
        [("noop", shipped), ("noop", login), ("noop", pending)]
    )
    assert plan["channels"][0]["unmanaged"] == []
    # Importing again finds everything described in git and writes nothing.
    code, out, _ = run_import(run_cli, repo.root, "--channel", "prod")
    assert (code, out.splitlines()[-1]) == (0, "0 imported, 0 skipped, 3 already in git")


def test_tencent_positions_become_var_n_and_translate_back_exactly(
    run_cli: Any, tencent_repo: tuple[ConfigRepo, SandboxHandle]
) -> None:
    repo, handle = tencent_repo
    login = tencent_by_hand(handle, "Login code", "Your login code is {1}. It expires in {2} minutes.", 3)
    shipped = tencent_by_hand(handle, "订单发货", "您的订单{1}已发货，预计{2}送达，查询请联系{1}客服。", 2)

    code, out, err = run_import(run_cli, repo.root, "--channel", "tc")

    assert (code, err) == (0, "")
    login_doc = yaml.safe_load((imported_dir(repo) / "login-code.yaml").read_text())
    assert login_doc["spec"] == {
        "type": "verification",
        "international": False,
        "content": "Your login code is {{ var1 }}. It expires in {{ var2 }} minutes.",
        "variables": {"var1": {"type": "code", "example": "123456"}, "var2": {"type": "text", "example": "example"}},
        # Tencent's list reports no remark: a placeholder asks for one
        "remark": f"TODO: say where and why this is sent (imported from {login})",
        "channels": ["tc"],
        "adopt": {"code": login, "channel": "tc"},
    }
    shipped_doc = yaml.safe_load((imported_dir(repo) / f"template-{shipped}.yaml").read_text())
    assert shipped_doc["spec"]["content"] == "您的订单{{ var1 }}已发货，预计{{ var2 }}送达，查询请联系{{ var1 }}客服。"
    assert "    note: the provider does not report the type; it was guessed from the content." in out

    assert run_cli("validate", str(repo.root))[0] == 0
    code, plan = plan_exit(run_cli, repo.root, "tc")
    assert code == 2, plan
    assert sorted(c["before"]["code"] for c in adopted_only(plan)) == sorted([login, shipped])


def test_managed_templates_not_in_git_need_all(run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle) -> None:
    content = "Backup ${job} finished."
    managed = by_hand(sms_sandbox, f"nightly-backup~{fingerprint(content, 'notification', False)}", content)

    code, out, _ = run_import(run_cli, repo.root, "--channel", "prod")
    assert code == 0
    assert (
        f"- skipped {managed} 'nightly-backup~{fingerprint(content, 'notification', False)}': created by smsops as "
        "'nightly-backup', which is not in git; pass --all to import it"
    ) in out
    assert not imported_dir(repo).exists()

    code, out, _ = run_import(run_cli, repo.root, "--channel", "prod", "--all")
    assert code == 0 and "1 imported, 0 skipped, 0 already in git" in out
    doc = yaml.safe_load((imported_dir(repo) / "nightly-backup.yaml").read_text())
    assert doc["metadata"]["name"] == "nightly-backup" and doc["spec"]["adopt"] == {"code": managed, "channel": "prod"}
    code, plan = plan_exit(run_cli, repo.root, "prod")
    assert code == 2 and [c["action"] for c in adopted_only(plan)] == ["noop"]


# -- what is not imported ------------------------------------------------------------------------


def test_rejected_and_cancelled_templates_are_skipped_and_reported(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle
) -> None:
    kept = by_hand(sms_sandbox, "Order shipped", SHIPPED)
    rejected = by_hand(sms_sandbox, "Promo", "Big sale at ${shop}!", approve=False, code=100)
    sms_sandbox.account.reject(rejected, "marketing wording in a notification")

    code, out, _ = run_import(run_cli, repo.root, "--channel", "prod")

    assert code == 0
    assert f"- skipped {rejected} 'Promo': rejected by the provider: marketing wording in a notification" in out
    assert sorted(p.name for p in imported_dir(repo).iterdir()) == ["order-shipped.yaml"]
    assert kept in (imported_dir(repo) / "order-shipped.yaml").read_text()
    assert out.splitlines()[-1].startswith("1 imported, 1 skipped, 0 already in git")


def test_existing_files_are_not_overwritten_without_force(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle
) -> None:
    shipped = by_hand(sms_sandbox, "Order shipped", SHIPPED)
    target = imported_dir(repo) / "order-shipped.yaml"
    target.parent.mkdir(parents=True)
    mine = "# hand-written, keep me\n"
    target.write_text(mine)

    code, out, _ = run_import(run_cli, repo.root, "--channel", "prod")
    assert code == 0
    assert f"- skipped {shipped} 'Order shipped': {target} exists; pass --force to overwrite it" in out
    assert target.read_text() == mine

    code, out, _ = run_import(run_cli, repo.root, "--channel", "prod", "--force")
    assert code == 0 and f"+ wrote {target}" in out
    assert yaml.safe_load(target.read_text().split("\n", 3)[3])["spec"]["adopt"]["code"] == shipped


@pytest.mark.parametrize(
    ("signature", "warning"),
    [
        (
            "Nope",
            "warning: signature 'Nope' does not exist at the provider: templates were imported, but plan and "
            "apply stop until it is created and approved in the provider console",
        ),
        (
            "Refused",
            "warning: signature 'Refused' is rejected (Rejected by the sandbox.): templates were imported, but "
            "plan and apply stop until it is approved",
        ),
    ],
)
def test_signature_missing_or_unapproved_is_a_warning_and_templates_are_still_written(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, signature: str, warning: str
) -> None:
    repo.channel("prod", "alibaba", sms_sandbox.url(), signature={"name": signature})
    by_hand(sms_sandbox, "Order shipped", SHIPPED)

    code, out, _ = run_import(run_cli, repo.root, "--channel", "prod")

    assert code == 0
    assert out.splitlines()[0] == warning
    assert (imported_dir(repo) / "order-shipped.yaml").is_file()
    code, out, _ = run_import(run_cli, repo.root, "--channel", "prod", "--output", "json")
    report = json.loads(out)
    assert report["signature"]["status"] == ("missing" if signature == "Nope" else "rejected")
    assert report["signature"]["warning"] == warning.removeprefix("warning: ")


def test_template_lint_rejects_is_written_marked_and_reported(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle
) -> None:
    only = by_hand(sms_sandbox, "Free text", "${message}")

    code, out, _ = run_import(run_cli, repo.root, "--channel", "prod")

    assert code == 0
    assert (
        "    error: SMS113 at line 10: content is only variables; providers reject templates without fixed text "
        "(written anyway, marked in the file)"
    ) in out
    assert "1 imported (1 to fix: validate rejects them)" in out
    text = (imported_dir(repo) / "free-text.yaml").read_text()
    assert "# smsops validate rejects this template as imported; fix it before `smsops plan`:\n" in text
    assert "# - SMS113 content is only variables; providers reject templates without fixed text\n" in text
    code, out, _ = run_cli("validate", str(repo.root))
    assert code == 1 and "free-text.yaml:10:12: error SMS113" in out
    assert yaml.safe_load(text)["spec"]["adopt"]["code"] == only


def test_an_empty_out_is_a_usage_error_not_the_current_folder(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_hand(sms_sandbox, "Order shipped", SHIPPED)
    before = sms_sandbox.account.counters().get("requests", 0)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    code, out, err = run_import(run_cli, repo.root, "--channel", "prod", "--out", "")
    assert (code, out) == (1, "")
    assert err.startswith("Usage: smsops import [OPTIONS] [CONFIG_DIR]")
    assert err.endswith("Error: --out: empty path; give a directory path\n")
    assert list(work.iterdir()) == []  # nothing written where it was run
    assert sms_sandbox.account.counters().get("requests", 0) == before  # the provider was not contacted


def test_no_secret_appears_in_output_or_files(run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle) -> None:
    by_hand(sms_sandbox, "Order shipped", SHIPPED)
    outputs = [run_import(run_cli, repo.root, "--channel", "prod", "--output", fmt) for fmt in ("json", "text")]
    written = [p.read_text() for p in imported_dir(repo).iterdir()]
    everything = "".join(out + err for _, out, err in outputs) + "".join(written)
    key_id, secret = sms_sandbox.credentials
    assert secret not in everything and key_id not in everything
    assert json.loads(outputs[0][1])["written"][0]["code"].startswith("SMS_")


def test_out_directory_outside_the_config_is_linted_with_it(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    by_hand(sms_sandbox, "Order shipped", SHIPPED)
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "template.schema.json").write_text("{}")
    out_dir = tmp_path / "elsewhere" / "imported"

    code, out, _ = run_import(run_cli, repo.root, "--channel", "prod", "--out", str(out_dir))

    assert code == 0 and "error:" not in out
    text = (out_dir / "order-shipped.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=../../schemas/template.schema.json\n")


# -- pure logic ----------------------------------------------------------------------------------


def test_logical_names_are_dns_labels_that_fit_and_do_not_clash() -> None:
    assert slugify("Order Shipped (v2)!") == "order-shipped-v2"
    assert slugify("2FA Café code") == "fa-cafe-code"
    assert logical_name("订单通知", "SMS_123456789", set()) == "template-sms-123456789"
    assert logical_name("Order shipped", "X", {"order-shipped"}) == "order-shipped-2"
    long = logical_name("A very long template name indeed", "X", set())
    assert long == "a-very-long-template-n" and len(long) == 22


def test_tencent_positions_out_of_order_cannot_round_trip() -> None:
    from reconciler.adopt import adopt_one
    from reconciler.providers.base import ObservedTemplate, ReviewStatus

    canonical, names, _ = from_native("From {2} to {1}", "tencent")
    assert (canonical, names) == ("From {{ var2 }} to {{ var1 }}", ("var2", "var1"))
    seen = ObservedTemplate(
        code="7", name="x", content="From {2} to {1}", kind=TemplateKind.NOTIFICATION, status=ReviewStatus.APPROVED
    )
    result = adopt_one(seen, name="x", channel="tc", provider="tencent")
    assert not getattr(result, "exact", True)
    assert "plan will propose a new version" in " ".join(getattr(result, "notes", ()))


def test_alibaba_names_smsops_cannot_use_are_renamed() -> None:
    canonical, names, notes = from_native("Hi ${user-name}, ${true} and ${x}", "alibaba")
    assert canonical == "Hi {{ var1 }}, {{ var2 }} and {{ x }}"
    assert names == ("var1", "var2", "x")
    assert notes[0] == "variable ${user-name} is not a usable name here; renamed {{ var1 }}"


def test_schema_reference_is_relative_to_the_nearest_schemas_dir(repo_root: Path) -> None:
    assert schema_reference(repo_root / "sms-config" / "templates" / "imported") == (
        "../../../schemas/template.schema.json"
    )


def test_schema_reference_is_empty_where_no_schemas_dir_encloses_the_files(tmp_path: Path) -> None:
    assert schema_reference(tmp_path / "sms-config" / "templates" / "imported") == ""
