"""`smsops export` against the embedded sandbox: live codes only, switched only at promotion,
published to files, deterministic, and never a secret or phone number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.config.load import load_config
from reconciler.providers.base import ObservedSignature, ObservedTemplate, ReviewStatus, TemplateKind, TemplateRequest
from reconciler.publish.export import export_channel
from reconciler.reconcile.changes import ChannelObservation, DesiredChannel, DesiredTemplate
from tests.reconcile.test_status import SANDBOX_KEY, V2, Config, Run, apply, no_idle_waits


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    no_idle_waits(monkeypatch)
    return Config(tmp_path / "cfg")


def export(run_cli: Run, config: Config, *args: str) -> dict[str, object]:
    code, out, err = run_cli("export", str(config.root), *args)
    assert code == 0, err
    data: dict[str, object] = json.loads(out)
    return data


def login(data: dict[str, object]) -> dict[str, object]:
    template: dict[str, object] = data["channels"]["demo"]["templates"]["login"]  # type: ignore[index]
    return template


def test_export_lists_codes_only_of_promoted_versions(run_cli: Run, config: Config) -> None:
    apply(run_cli, config)
    v1 = config.only_code()
    not_live = {"live": False, "code": None, "content": None, "kind": "verification", "international": False,
                "variables": []}  # fmt: skip
    assert login(export(run_cli, config)) == not_live  # pending
    config.account.approve(v1)
    assert login(export(run_cli, config)) == not_live  # approved, not promoted yet

    apply(run_cli, config)  # promotes v1
    live_v1 = {
        "live": True,
        "code": v1,
        "content": "Your login code is ${code}. It expires in ${minutes} minutes.",
        "kind": "verification",
        "international": False,
        "variables": [{"name": "code", "position": None}, {"name": "minutes", "position": None}],
    }
    assert login(export(run_cli, config)) == live_v1

    # A new version: the export keeps pointing at v1 through review and approval...
    config.write(V2)
    apply(run_cli, config)
    v2 = next(code for code in config.codes().values() if code != v1)
    assert login(export(run_cli, config)) == live_v1
    config.account.approve(v2)
    assert login(export(run_cli, config)) == live_v1
    # ...and switches at promotion, with v2's content.
    apply(run_cli, config)
    switched = login(export(run_cli, config))
    assert switched["code"] == v2
    assert switched["content"] == "Your sign-in code is ${code}. Valid for ${minutes} minutes."


def test_export_document_and_published_file(run_cli: Run, config: Config) -> None:
    apply(run_cli, config)
    config.account.approve(config.only_code())
    apply(run_cli, config)
    # The promoting apply published: export finds the target already holding what is live.
    published = config.root / ".smsops" / "published" / "demo.json"
    promoted = json.loads(published.read_text())["channel"]["templates"]["login"]
    assert promoted["code"] == config.only_code()

    code, out, err = run_cli("export", str(config.root))
    assert code == 0
    assert f"demo: unchanged {published}" in err
    document = json.loads(out)
    assert document["format_version"] == 1
    channel = document["channels"]["demo"]
    assert {k: v for k, v in channel.items() if k != "templates"} == {
        "name": "demo",
        "provider": "sandbox",
        "endpoint": None,  # the sandbox is started on a free port at run time
        "region": None,
        "enabled": True,
        "signature": {"name": "OnePro", "sms_sdk_app_id": None, "country": None},
    }
    assert json.loads(published.read_text()) == {"format_version": 1, "channel": channel}
    # Deterministic: the same state gives the same bytes, and the file is left alone.
    first = published.read_bytes()
    code, again, err = run_cli("export", str(config.root))
    assert (code, again) == (0, out)
    assert f"demo: unchanged {published}" in err
    assert published.read_bytes() == first
    assert list(json.loads(out)) == sorted(json.loads(out))


def test_export_out_writes_the_combined_document_and_text_summary(run_cli: Run, config: Config) -> None:
    apply(run_cli, config)
    out_file = config.root.parent / "runtime" / "sms.json"
    code, out, err = run_cli("export", str(config.root), "--out", str(out_file), "--output", "text")
    assert code == 0, err
    assert out.splitlines() == [
        "Channel demo (sandbox, enabled), signature OnePro",
        "  login  not live yet: do not send",
        "Export: 0 of 1 template(s) live in 1 channel(s).",
    ]
    assert json.loads(out_file.read_text())["channels"]["demo"]["templates"]["login"]["code"] is None


def test_configured_publish_file_is_relative_to_the_channel_file(run_cli: Run, config: Config) -> None:
    channel_file = config.root / "channels" / "demo.yaml"
    channel_file.write_text(channel_file.read_text() + "  publish: {file: ../published/demo.json}\n")
    code, _, err = run_cli("export", str(config.root), "--no-publish")
    assert code == 0, err
    assert not (config.root / "published").exists()
    code, _, err = run_cli("export", str(config.root))
    assert code == 0, err
    assert json.loads((config.root / "published" / "demo.json").read_text())["channel"]["name"] == "demo"


def test_disabled_channel_is_exported_as_disabled(run_cli: Run, config: Config) -> None:
    apply(run_cli, config)
    config.account.approve(config.only_code())
    apply(run_cli, config)
    config.write("Your login code is {{ code }}. It expires in {{ minutes }} minutes.", enabled=False)
    document = export(run_cli, config)
    channel = document["channels"]["demo"]  # type: ignore[index]
    assert channel["enabled"] is False
    assert channel["templates"]["login"]["code"] == config.only_code()  # still described, never sent


def test_no_secret_or_phone_number_in_export(run_cli: Run, config: Config) -> None:
    apply(run_cli, config)
    config.account.approve(config.only_code())
    apply(run_cli, config)
    out_file = config.root / "all.json"
    texts = [
        "\n".join(run_cli("export", str(config.root), "--out", str(out_file))[1:]),
        "\n".join(run_cli("export", str(config.root), "--output", "text")[1:]),
        "\n".join(run_cli("export", str(config.root))[1:]),
        out_file.read_text(),
        (config.root / ".smsops" / "published" / "demo.json").read_text(),
    ]
    text = "\n".join(texts)
    assert config.only_code() in text
    for value in config.secret_values:
        assert value not in text


def test_export_refuses_a_channel_it_cannot_observe(run_cli: Run, config: Config) -> None:
    # The provider keeps failing: exporting "nothing live" would take the application offline.
    config.account.configure(faults={"server_error": {"rate": 1, "status": 503}})
    code, out, err = run_cli("export", str(config.root))
    assert code == 1
    assert out == ""
    assert "channel demo: could not read the provider, nothing exported" in err
    assert not (config.root / ".smsops" / "published").exists()


# -- pure logic: Tencent positions (no provider needed) ---------------------------------------------


def test_tencent_variables_carry_positions_and_names_only_for_the_version_git_describes(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(
        "apiVersion: smsops/v1\nkind: Channel\nmetadata: {name: tc}\nspec:\n  provider: tencent\n"
        "  credentials: {sops: s.enc.yaml}\n  signature: {name: OnePro, smsSdkAppId: '1400000000'}\n---\n"
        "apiVersion: smsops/v1\nkind: Template\nmetadata: {name: login}\nspec:\n  type: verification\n"
        "  content: 'Code {{ code }}, {{ minutes }} min'\n  variables:\n"
        "    code: {type: code, example: '1234'}\n    minutes: {type: number, example: '5'}\n"
    )
    config, diagnostics = load_config(str(tmp_path))
    assert not diagnostics
    request = TemplateRequest(name="login~aaaaaaa", content="Code {1}, {2} min", kind=TemplateKind.VERIFICATION)
    desired = DesiredChannel(
        name="tc",
        provider="tencent",
        signature="OnePro",
        templates=(DesiredTemplate(name="login", fingerprint="aaaaaaa", request=request),),
    )

    def observed(content: str) -> ChannelObservation:
        template = ObservedTemplate(
            code="101", name="login~bbbbbbb", content=content, kind=TemplateKind.VERIFICATION,
            status=ReviewStatus.APPROVED,
        )  # fmt: skip
        signature = ObservedSignature(name="OnePro", status=ReviewStatus.APPROVED)
        # the channel's marks document has marks for it: one of this channel's (reconcile.owner)
        return ChannelObservation(channel="tc", signature=signature, templates=(template,), recorded=("101",))

    current = export_channel(config, config.channels[0], desired, observed("Code {1}, {2} min"))
    assert current.signature.sms_sdk_app_id == "1400000000"
    assert current.endpoint == "https://sms.tencentcloudapi.com"
    assert current.region == "ap-guangzhou"
    assert [(v.name, v.position) for v in current.templates["login"].variables] == [("code", 1), ("minutes", 2)]
    older = export_channel(config, config.channels[0], desired, observed("Your code {1}"))
    assert older.templates["login"].code == "101"
    assert [(v.name, v.position) for v in older.templates["login"].variables] == [(None, 1)]
