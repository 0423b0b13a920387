from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from reconciler.config.models import (
    KINDS,
    Channel,
    ChannelSpec,
    PublishTarget,
    Template,
    TemplateSpec,
    format_duration,
    parse_duration,
)
from reconciler.providers.base import TemplateKind

ROOT = Path(__file__).resolve().parents[2]


def channel_spec(**overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "provider": "alibaba",
        "credentials": {"sops": "../secrets/production.enc.yaml"},
        "signature": {"name": "OnePro"},
    }
    spec.update(overrides)
    return spec


def errors(exc: pytest.ExceptionInfo[ValidationError]) -> list[tuple[tuple[Any, ...], str, str]]:
    return [(e["loc"], e["type"], e["msg"]) for e in exc.value.errors()]


def test_every_example_document_is_a_valid_resource() -> None:
    kinds: dict[str, list[str]] = {"Channel": [], "Template": [], "Signature": []}
    for path in sorted((ROOT / "sms-config").glob("*/*.yaml")):
        if path.parent.name == "secrets":
            continue
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            model = KINDS[document["kind"]]
            kinds[document["kind"]].append(model.model_validate(document).metadata.name)
    assert sorted(kinds["Channel"]) == ["production", "sandbox", "staging", "tencent-cn"]
    assert sorted(kinds["Template"]) == [
        "alert-notification",
        "login-verification",
        "order-shipped-zh",
        "password-reset",
        "task-status",
    ]
    assert kinds["Signature"] == ["onepro"]


def test_contract_example_parses_with_camel_case_keys_and_defaults() -> None:
    channel = Channel.model_validate(
        {
            "apiVersion": "smsops/v1",
            "kind": "Channel",
            "metadata": {"name": "production", "labels": {"env": "prod"}},
            "spec": channel_spec(
                testSend={
                    "recipients": {"sops": "../secrets/production.enc.yaml", "key": "test_recipients"},
                    "deliveryTimeout": "120s",
                },
                publish={"ssmPrefix": "/smsops/production"},
            ),
        }
    )
    spec = channel.spec
    assert spec.credentials is not None
    assert (spec.credentials.access_key_id, spec.credentials.access_key_secret) == (
        "access_key_id",
        "access_key_secret",
    )
    assert spec.test_send is not None and spec.test_send.delivery_timeout == timedelta(minutes=2)
    assert spec.max_segments == 2 and spec.enabled is True
    assert spec.rollout.prune is False and spec.rollout.grace_period == timedelta(hours=24)
    assert spec.effective_endpoint() == "https://dysmsapi.aliyuncs.com"
    assert spec.effective_region() == "cn-hangzhou"
    assert channel.spec.publish == PublishTarget(ssm_prefix="/smsops/production")
    assert channel.model_dump(mode="json", by_alias=True)["spec"]["rollout"]["gracePeriod"] == "1d"


@pytest.mark.parametrize(
    ("spec", "endpoint", "region"),
    [
        (channel_spec(provider="tencent", signature={"name": "OnePro", "smsSdkAppId": "1400000000"}),
         "https://sms.tencentcloudapi.com", "ap-guangzhou"),
        (channel_spec(provider="aws", signature={"name": "OnePro", "country": "US"}),
         "https://sms-voice.us-east-1.amazonaws.com", "us-east-1"),
        (channel_spec(provider="aws", region="eu-west-1", signature={"name": "OnePro", "country": "GB"}),
         "https://sms-voice.eu-west-1.amazonaws.com", "eu-west-1"),
        (channel_spec(provider="sandbox", credentials=None), None, None),
        (channel_spec(endpoint="http://127.0.0.1:8080"), "http://127.0.0.1:8080", "cn-hangzhou"),
    ],
)  # fmt: skip
def test_per_provider_defaults(spec: dict[str, Any], endpoint: str | None, region: str | None) -> None:
    parsed = ChannelSpec.model_validate(spec)
    assert (parsed.effective_endpoint(), parsed.effective_region()) == (endpoint, region)


@pytest.mark.parametrize(
    ("spec", "loc", "message"),
    [
        (channel_spec(provider="tencent"), ("signature",), "provider tencent requires signature.smsSdkAppId"),
        (channel_spec(provider="aws"), ("signature",), "provider aws requires signature.country"),
        (channel_spec(credentials=None), ("credentials",), "provider alibaba requires credentials"),
        (channel_spec(signature={"name": "OnePro", "smsSdkAppId": "1"}), ("signature", "smsSdkAppId"),
         "smsSdkAppId is for provider tencent, not alibaba"),
        (channel_spec(signature={"name": "OnePro", "country": "US"}), ("signature", "country"),
         "country is for provider aws, not alibaba"),
    ],
)  # fmt: skip
def test_provider_requirements_name_the_field(spec: dict[str, Any], loc: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ChannelSpec.model_validate(spec)
    [error] = caught.value.errors()
    assert (error["type"], error["ctx"]["field"].split("."), error["msg"]) == ("smsops_field", list(loc), message)


def test_sandbox_needs_no_credentials() -> None:
    assert ChannelSpec.model_validate(channel_spec(provider="sandbox", credentials=None)).credentials is None


@pytest.mark.parametrize("text", ["90s", "5m", "2h", "1d"])
def test_durations_round_trip(text: str) -> None:
    assert format_duration(parse_duration(text)) == text


def test_duration_values() -> None:
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("1d") == timedelta(days=1)
    assert format_duration(timedelta(seconds=120)) == "2m"


@pytest.mark.parametrize("value", ["90", "1.5h", "PT1M", "05s", "5 m", "5w", 90, None])
def test_bad_durations_are_rejected(value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        ChannelSpec.model_validate(
            channel_spec(testSend={"recipients": {"sops": "a", "key": "b"}, "deliveryTimeout": value})
        )
    assert errors(caught) == [
        (
            ("testSend", "deliveryTimeout"),
            "duration",
            f"expected a duration such as 90s, 5m, 2h or 1d, got {value!r}",
        )
    ]


@pytest.mark.parametrize("name", ["a", "prod-1", "tencent-cn", "a" * 63])
def test_dns_label_names_accepted(name: str) -> None:
    assert (
        Channel.model_validate(
            {"apiVersion": "smsops/v1", "kind": "Channel", "metadata": {"name": name}, "spec": channel_spec()}
        ).name
        == name
    )


@pytest.mark.parametrize("name", ["Prod", "1abc", "a-", "a_b", "a" * 64, ""])
def test_bad_names_rejected(name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Channel.model_validate(
            {"apiVersion": "smsops/v1", "kind": "Channel", "metadata": {"name": name}, "spec": channel_spec()}
        )
    assert [(loc, kind) for loc, kind, _ in errors(caught)] == [(("metadata", "name"), "string_pattern_mismatch")]


def test_unknown_fields_and_wrong_kind_are_rejected() -> None:
    with pytest.raises(ValidationError) as caught:
        Channel.model_validate(
            {
                "apiVersion": "smsops/v2",
                "kind": "Template",
                "metadata": {"name": "x"},
                "spec": channel_spec(colour="red"),
            }
        )
    assert [(loc, kind) for loc, kind, _ in errors(caught)] == [
        (("apiVersion",), "literal_error"),
        (("kind",), "literal_error"),
        (("spec", "colour"), "extra_forbidden"),
    ]


def test_models_are_frozen() -> None:
    spec = ChannelSpec.model_validate(channel_spec())
    with pytest.raises(ValidationError):
        spec.enabled = False  # type: ignore[misc]


def test_publish_needs_exactly_one_target() -> None:
    s3 = {"bucket": "my-bucket", "prefix": "smsops"}
    for value in (
        {},
        {"file": "a.json", "ssmPrefix": "/a"},
        {"ssmPrefix": "/a", "s3": s3},
        {"file": "a.json", "s3": s3},
    ):
        with pytest.raises(ValidationError) as caught:
            PublishTarget.model_validate(value)
        assert errors(caught) == [((), "smsops_one_of", "set exactly one of file, ssmPrefix or s3")]


def template_spec(**overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "type": "verification",
        "content": "Your login code is {{ code }}.",
        "variables": {"code": {"type": "code", "example": "482913", "maxLength": 6}},
        "remark": "Sign-in code.",
    }
    spec.update(overrides)
    return spec


def test_template_fields() -> None:
    spec = TemplateSpec.model_validate(template_spec(channels=["production"], adopt={"code": "SMS_1"}))
    assert spec.type is TemplateKind.VERIFICATION
    assert spec.variables["code"].max_length == 6
    assert [(a.code, a.channel) for a in spec.adopt] == [("SMS_1", None)]
    listed = TemplateSpec.model_validate(
        template_spec(adopt=[{"code": "SMS_1", "channel": "production"}, {"code": "SMS_2", "channel": "staging"}])
    )
    assert [a.channel for a in listed.adopt] == ["production", "staging"]
    template = Template.model_validate(
        {"apiVersion": "smsops/v1", "kind": "Template", "metadata": {"name": "t"}, "spec": template_spec()}
    )
    assert template.targets("anything") and template.spec.channels is None


def test_adopt_without_channel_needs_a_single_channel_template() -> None:
    # no channels list: every channel; whether that is exactly one is lint's call (it sees them all)
    assert TemplateSpec.model_validate(template_spec(adopt={"code": "SMS_1"})).adopt[0].channel is None
    with pytest.raises(ValidationError) as caught:
        TemplateSpec.model_validate(template_spec(channels=["a", "b"], adopt={"code": "SMS_1"}))
    [error] = caught.value.errors()
    assert (error["ctx"]["field"], error["msg"]) == (
        "adopt.0",
        "adopt needs a channel unless the template lists exactly one channel",
    )
    with pytest.raises(ValidationError) as caught:
        TemplateSpec.model_validate(template_spec(channels=["a"], adopt={"code": "SMS_1", "channel": "b"}))
    assert caught.value.errors()[0]["msg"] == "channel 'b' is not in this template's channels"


def test_variable_rules() -> None:
    with pytest.raises(ValidationError) as caught:
        TemplateSpec.model_validate(
            template_spec(variables={"9lives": {"type": "code", "example": "1"}, "ok": {"type": "url", "example": 5}})
        )
    assert [(loc, kind) for loc, kind, _ in errors(caught)] == [
        (("variables", "9lives", "[key]"), "string_pattern_mismatch"),
        (("variables", "ok", "type"), "enum"),
        (("variables", "ok", "example"), "string_type"),
    ]
