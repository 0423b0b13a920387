"""Each provider's static traits: found by name without an SDK, and what core modules rely on."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from reconciler.config.lint.catalogue import RULES
from reconciler.errors import ConfigError
from reconciler.providers import registry
from reconciler.providers.base import ReviewStatus
from reconciler.providers.traits import PROVIDERS, ProviderTraits, traits


def test_every_provider_states_its_traits_under_its_own_name() -> None:
    assert registry.names() == PROVIDERS
    for name in PROVIDERS:
        own = traits(name)
        assert isinstance(own, ProviderTraits) and own.name == name
        assert registry.traits(name) is own
        assert traits(own.api).api == own.api  # an API is itself a provider


def test_the_sandbox_is_alibaba_under_another_name() -> None:
    sandbox, alibaba = traits("sandbox"), traits("alibaba")
    assert sandbox.api == "alibaba" and sandbox.display == "Alibaba"
    assert not sandbox.needs_credentials and alibaba.needs_credentials
    assert (sandbox.default_endpoint, sandbox.default_region) == (None, None)
    differing = {
        f.name for f in dataclasses.fields(ProviderTraits) if getattr(sandbox, f.name) != getattr(alibaba, f.name)
    }
    assert differing == {"name", "needs_credentials", "default_endpoint", "default_region"}


def test_what_core_modules_ask() -> None:
    assert traits("alibaba").updatable == (ReviewStatus.REJECTED,)
    assert traits("tencent").updatable == (ReviewStatus.REJECTED, ReviewStatus.PENDING)
    assert traits("aws").updatable == ()
    assert [traits(n).registers_templates for n in PROVIDERS] == [True, True, False, True]
    assert [traits(n).bracket_signature for n in PROVIDERS] == [True, True, False, True]
    assert traits("alibaba").variable_types["code"] == "numberCaptcha"
    assert traits("tencent").variable_types == {} == traits("aws").variable_types
    assert traits("aws").endpoint("eu-west-1") == "https://sms-voice.eu-west-1.amazonaws.com"


def test_unknown_provider_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown provider 'twilio'") as caught:
        traits("twilio")
    assert "alibaba, tencent, aws, sandbox" in caught.value.hint


def test_provider_lint_rules_are_in_the_catalogue() -> None:
    """The rule ids the providers' lint modules report exist (the reporter would raise KeyError)."""
    import re
    from pathlib import Path

    root = Path(registry.__file__).parent
    used = {rule for path in root.glob("*/lint.py") for rule in re.findall(r'"(SMS\d{3})"', path.read_text())}
    assert used >= {"SMS201", "SMS202", "SMS207", "SMS208", "SMS209", "SMS210", "SMS212", "SMS215"}
    assert used <= set(RULES)


def test_reading_traits_imports_no_sdk() -> None:
    code = (
        "import sys; from reconciler.providers.traits import PROVIDERS, traits; [traits(n) for n in PROVIDERS];"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('alibabacloud_dysmsapi20170525', 'alibabacloud_tea_openapi', 'tencentcloud', 'boto3', 'botocore', "
        "'darabonba')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
