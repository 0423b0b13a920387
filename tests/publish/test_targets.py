"""Publishing to AWS SSM Parameter Store, with moto's server (``moto`` fixture) serving the SSM API
on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from reconciler.config.load import load_config
from reconciler.errors import SmsopsError
from reconciler.providers.aws.ssm import SsmStore
from reconciler.publish.export import (
    ExportedChannel,
    ExportedSignature,
    ExportedTemplate,
    channel_document,
    publish_channel,
)
from reconciler.publish.store import TargetUnreachable
from reconciler.publish.targets import Published, file_target, ssm_region, write_file
from tests.reconcile.test_status import SANDBOX_KEY, Config, Run, apply, no_idle_waits


@pytest.fixture
def aws(moto: str) -> str:
    return moto


def publish_ssm(prefix: str, text: str, *, region: str) -> tuple[str, bool]:
    """The config document of a channel published under ``prefix``: where, and whether it changed."""
    store = SsmStore(prefix, region=region)
    return store.location("config"), store.write("config", text)


def _channel(code: str | None = "SMS_1") -> ExportedChannel:
    return ExportedChannel(
        name="prod",
        provider="aws",
        endpoint="https://sms-voice.us-west-2.amazonaws.com",
        region="us-west-2",
        enabled=True,
        signature=ExportedSignature(name="OnePro", country="US"),
        templates={"login": ExportedTemplate(live=code is not None, code=code, kind="verification")},
    )


def test_publish_ssm_writes_a_string_parameter_once(aws: str) -> None:
    text = channel_document(_channel())
    target, changed = publish_ssm("/smsops/prod", text, region="us-west-2")
    assert (target, changed) == ("ssm:/smsops/prod/config (us-west-2)", True)
    ssm = boto3.client("ssm", region_name="us-west-2")
    parameter = ssm.get_parameter(Name="/smsops/prod/config")["Parameter"]
    assert parameter["Type"] == "String"
    assert json.loads(parameter["Value"]) == json.loads(text)
    assert parameter["Version"] == 1
    # Unchanged content writes no new version; a change overwrites.
    assert publish_ssm("/smsops/prod/", text, region="us-west-2")[1] is False
    assert ssm.get_parameter(Name="/smsops/prod/config")["Parameter"]["Version"] == 1
    assert publish_ssm("/smsops/prod", channel_document(_channel("SMS_2")), region="us-west-2")[1] is True
    parameter = ssm.get_parameter(Name="/smsops/prod/config")["Parameter"]
    assert parameter["Version"] == 2
    assert json.loads(parameter["Value"])["channel"]["templates"]["login"]["code"] == "SMS_2"


def test_publish_ssm_refuses_a_document_over_the_ssm_limit(aws: str) -> None:
    big = _channel().model_copy(
        update={
            "templates": {f"t{i}": ExportedTemplate(live=True, code="x" * 100, kind="notification") for i in range(80)}
        }
    )
    with pytest.raises(SmsopsError, match=r"more than SSM's 8192-byte limit"):
        publish_ssm("/smsops/prod", channel_document(big), region="us-west-2")


AWS_CHANNEL = """\
apiVersion: smsops/v1
kind: Channel
metadata: {name: prod}
spec:
  provider: aws
  region: us-west-2
  credentials: {sops: s.enc.yaml}
  signature: {name: OnePro, country: US}
  publish: {ssmPrefix: /smsops/prod}
"""


def test_publish_channel_aws_uses_the_channel_region_and_writes_the_local_file(aws: str, tmp_path: Path) -> None:
    (tmp_path / "prod.yaml").write_text(AWS_CHANNEL)
    config, diagnostics = load_config(str(tmp_path))
    assert not diagnostics
    done = publish_channel(config, config.channels[0], _channel())
    # The durable target first (the source of truth), then the runner-local copy.
    assert [(d.target, d.changed) for d in done] == [
        ("ssm:/smsops/prod/config (us-west-2)", True),
        (str(tmp_path / ".smsops" / "published" / "prod.json"), True),
    ]
    value = boto3.client("ssm", region_name="us-west-2").get_parameter(Name="/smsops/prod/config")
    assert json.loads(value["Parameter"]["Value"]) == json.loads((tmp_path / ".smsops/published/prod.json").read_text())


def test_non_aws_channel_needs_an_aws_region_from_the_environment(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    (tmp_path / "c.yaml").write_text(
        AWS_CHANNEL.replace("provider: aws", "provider: alibaba")
        .replace("  region: us-west-2\n", "")
        .replace(", country: US", "")
    )
    config, diagnostics = load_config(str(tmp_path))
    assert not diagnostics
    # Raised on use, not when the target is made: the other channels go on (test_unbuildable_target).
    with pytest.raises(TargetUnreachable, match=r"no AWS region is known \(the channel.s provider is alibaba\); set"):
        publish_channel(config, config.channels[0], _channel())


def test_export_publishes_a_sandbox_channel_to_ssm(
    aws: str, run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole command: sandbox provider over loopback, SSM through moto, secrets never in SSM."""
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    no_idle_waits(monkeypatch)
    config = Config(tmp_path / "cfg")
    channel_file = config.root / "channels" / "demo.yaml"
    channel_file.write_text(channel_file.read_text() + "  publish: {ssmPrefix: /smsops/demo}\n")
    apply(run_cli, config)
    config.account.approve(config.only_code())
    apply(run_cli, config)

    # The promoting apply published to SSM; export finds it current.
    code, _, err = run_cli("export", str(config.root))
    assert code == 0, err
    assert "demo: unchanged ssm:/smsops/demo/config (eu-west-1)" in err
    value = boto3.client("ssm", region_name="eu-west-1").get_parameter(Name="/smsops/demo/config")["Parameter"]["Value"]
    assert json.loads(value)["channel"]["templates"]["login"]["code"] == config.only_code()
    for secret in config.secret_values:
        assert secret not in value
    code, _, err = run_cli("export", str(config.root))
    assert "demo: unchanged ssm:/smsops/demo/config (eu-west-1)" in err


def test_the_package_keeps_its_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``reconciler.publish.targets`` became a package; what it exported still works the same."""
    (tmp_path / "prod.yaml").write_text(AWS_CHANNEL.replace("{ssmPrefix: /smsops/prod}", "{file: out/prod.json}"))
    config, diagnostics = load_config(str(tmp_path))
    assert not diagnostics
    path = file_target(config, config.channels[0])
    assert path == tmp_path / "out" / "prod.json"
    assert (write_file(path, "x"), write_file(path, "x"), path.read_text()) == (True, False, "x")
    monkeypatch.delenv("AWS_REGION", raising=False)
    assert ssm_region(config.channels[0].resource, {}) == "us-west-2"  # an aws channel's own region
    assert Published("prod", str(path), True).changed is True
