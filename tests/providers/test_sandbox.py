"""``provider: sandbox`` through the registry: the real Alibaba adapter and SDK against the emulator it
starts in-process, with state that persists under ``<config root>/.smsops/sandbox``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from reconciler.config.load import Located, load_config
from reconciler.config.models import Channel
from reconciler.errors import ConfigError, ProviderError
from reconciler.providers import registry
from reconciler.providers.alibaba.adapter import AlibabaProvider
from reconciler.providers.base import Provider, ReviewStatus, SendRequest, TemplateKind, TemplateRequest
from reconciler.providers.sandbox.adapter import Emulator
from reconciler.providers.traits import traits
from reconciler.secrets.sops import ChannelSecrets

CHANNEL = """\
apiVersion: smsops/v1
kind: Channel
metadata: {name: demo}
spec:
  provider: sandbox
  credentials: {sops: ../secrets/demo.enc.yaml}
  signature: {name: DemoSign}
"""
KEY_ID, SECRET = "LTAI-demo-key", "demo-secret-7f3a9c"


def channel(root: Path) -> Located[Channel]:
    (root / "channels").mkdir(parents=True, exist_ok=True)
    (root / "channels" / "demo.yaml").write_text(CHANNEL)
    config, diagnostics = load_config(root)
    assert diagnostics == []
    [located] = config.channels
    return located


def secrets(secret: str = SECRET) -> ChannelSecrets:
    return ChannelSecrets(access_key_id=SecretStr(KEY_ID), access_key_secret=SecretStr(secret), test_recipients=())


def emulator_of(provider: Provider) -> Emulator:
    """The emulator a sandbox channel's adapter holds: the Alibaba adapter's lifecycle."""
    assert isinstance(provider, AlibabaProvider) and isinstance(provider.lifecycle, Emulator)
    return provider.lifecycle


def request() -> TemplateRequest:
    return TemplateRequest(
        name="login~1234567",
        content="Your code is ${code}.",
        kind=TemplateKind.VERIFICATION,
        remark="Sign-in code.",
        variable_types={"code": "numberCaptcha"},
    )


def test_registry_opens_the_alibaba_adapter_on_a_running_emulator(tmp_path: Path) -> None:
    provider = registry.open_provider(channel(tmp_path), secrets(), state_dir=tmp_path / ".smsops")
    try:
        assert type(provider) is AlibabaProvider and emulator_of(provider).state_dir == tmp_path / ".smsops" / "sandbox"
        assert isinstance(provider, Provider) and provider.name == "sandbox"
        own = traits("sandbox")
        assert provider.dry_run_by_default is own.test_send_dry_run
        for kind in TemplateKind:
            assert provider.number_limits(kind) == own.number_limits(kind.value)
        assert provider.endpoint.startswith("http://127.0.0.1:")
        signature = provider.get_signature()
        assert signature is not None and (signature.name, signature.status) == ("DemoSign", ReviewStatus.APPROVED)
        code = provider.create_template(request())
        assert [t.code for t in provider.list_templates()] == [code]
        # The emulator's refusals reach the user under the channel's provider, not as Alibaba's.
        with pytest.raises(ProviderError) as caught:
            provider.delete_template("SMS_404")
        assert (caught.value.failure.provider, caught.value.code) == ("sandbox", "isv.SMS_TEMPLATE_ILLEGAL")
    finally:
        provider.close()
    assert (tmp_path / ".smsops" / "sandbox" / "demo.sqlite3").is_file()


def test_state_persists_across_runs_and_review_progresses(tmp_path: Path) -> None:
    located = channel(tmp_path)
    first = registry.open_provider(located, secrets(), state_dir=tmp_path / ".smsops")
    code = first.create_template(request())
    assert first.list_templates()[0].status is ReviewStatus.PENDING
    first.close()

    second = registry.open_provider(located, secrets(), state_dir=tmp_path / ".smsops")
    try:
        emulator_of(second).account.approve(code)  # what `smsops sandbox approve` does between runs
        [template] = second.list_templates()
        assert (template.code, template.status) == (code, ReviewStatus.APPROVED)
        receipt = second.send(SendRequest(template_code=code, phone_number="+8613812345678", params={"code": "1234"}))
        assert receipt.accepted
    finally:
        second.close()


def test_state_dir_defaults_next_to_the_channel_file(tmp_path: Path) -> None:
    located = channel(tmp_path)
    provider = registry.open_provider(located, secrets())
    provider.close()
    assert (tmp_path / "channels" / ".smsops" / "sandbox" / "demo.sqlite3").is_file()


def test_channels_sharing_a_state_dir_share_one_server(tmp_path: Path) -> None:
    located = channel(tmp_path)
    one = registry.open_provider(located, secrets(), state_dir=tmp_path / ".smsops")
    two = registry.open_provider(located, secrets(), state_dir=tmp_path / ".smsops")
    running = emulator_of(one).running
    assert running is emulator_of(two).running
    one.close()
    one.close()  # closing twice must not stop the server under the other user
    assert two.get_signature() is not None
    two.close()
    assert running.servers == {}


def test_a_rotated_secret_replaces_the_old_one(tmp_path: Path) -> None:
    located = channel(tmp_path)
    registry.open_provider(located, secrets("old-secret-1111"), state_dir=tmp_path / ".smsops").close()
    provider = registry.open_provider(located, secrets("new-secret-2222"), state_dir=tmp_path / ".smsops")
    try:
        assert provider.get_signature() is not None
    finally:
        provider.close()


def test_a_wrong_secret_is_refused_by_the_emulator(tmp_path: Path) -> None:
    located = channel(tmp_path)
    provider = registry.open_provider(located, secrets(), state_dir=tmp_path / ".smsops")
    assert isinstance(provider, AlibabaProvider)
    try:
        impostor = AlibabaProvider(
            access_key_id=KEY_ID,
            access_key_secret="not-the-secret-99",
            sign_name="DemoSign",
            endpoint=provider.endpoint,
        )
        with pytest.raises(ProviderError) as caught:
            impostor.list_templates()
        assert caught.value.code == "SignatureDoesNotMatch" and not caught.value.retryable
        assert "not-the-secret-99" not in str(caught.value) and SECRET not in str(caught.value)
    finally:
        provider.close()


def test_unknown_provider_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        registry.factory("twilio")
    assert "alibaba, tencent, aws, sandbox" in caught.value.hint
    assert registry.names() == ("alibaba", "tencent", "aws", "sandbox")


def test_importing_the_registry_imports_no_sdk() -> None:
    code = (
        "import sys, reconciler.providers.registry, reconciler.providers.ratelimit;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('alibabacloud_dysmsapi20170525', 'tencentcloud', 'boto3', 'botocore', 'darabonba')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_channel_signature_is_seeded_as_a_console_leaves_it_even_in_old_state(tmp_path: Path) -> None:
    """GetSmsSign returns what a console stores (the example config adopts it with nothing to
    change); a bare signature seeded by an earlier smsops is given those fields too."""
    located = channel(tmp_path)
    provider = registry.open_provider(located, secrets(), state_dir=tmp_path / ".smsops")
    try:
        emulator_of(provider).account.put_signature("DemoSign", ReviewStatus.APPROVED)  # bare, as seeded before
    finally:
        provider.close()
    provider = registry.open_provider(located, secrets(), state_dir=tmp_path / ".smsops")
    try:
        signature = provider.get_signature()
        assert signature is not None and signature.settings == {
            "qualificationId": "10000001",
            "appIcpRecordId": "",
            "trademarkId": "",
            "authorizationLetterId": "",
            "remark": "Company name of OnePro; sends login codes and order notices to its own users.",
            "thirdParty": "false",
            "type": "general",
        }
    finally:
        provider.close()
