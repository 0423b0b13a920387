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
    assert sandbox.embedded and not alibaba.embedded  # only the sandbox may run the demo
    assert (sandbox.default_endpoint, sandbox.default_region) == (None, None)
    differing = {
        f.name for f in dataclasses.fields(ProviderTraits) if getattr(sandbox, f.name) != getattr(alibaba, f.name)
    }
    assert differing == {"name", "needs_credentials", "embedded", "default_endpoint", "default_region"}


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


def test_marks_trait_matches_what_each_adapter_can_do() -> None:
    """Marks in tags exactly where the adapter can tag templates (``Tagging.set_tags``)."""
    from reconciler.providers.alibaba.adapter import AlibabaProvider
    from reconciler.providers.aws.adapter import AwsProvider
    from reconciler.providers.tencent.adapter import TencentProvider

    # A sandbox channel opens the Alibaba adapter itself (reconciler.providers.sandbox.adapter).
    adapters = {"alibaba": AlibabaProvider, "tencent": TencentProvider, "aws": AwsProvider, "sandbox": AlibabaProvider}
    assert set(adapters) == set(PROVIDERS)
    for name, adapter in adapters.items():
        own = traits(name)
        assert (own.marks == "tags") == callable(getattr(adapter, "set_tags", None)), name
        assert (own.marks == "none") == (not own.registers_templates), name


def test_number_limits_per_kind() -> None:
    alibaba = traits("alibaba").number_limits
    assert [limit.window_s for limit in alibaba("verification")] == [60, 3600, 86400]
    assert [(limit.scope, limit.max) for limit in alibaba("notification")] == [("template", 50)]
    assert traits("sandbox").number_limits("verification") == alibaba("verification")
    assert [limit.scope for limit in traits("tencent").number_limits("marketing")] == ["template", "number"]
    assert traits("aws").number_limits("verification") == ()
    assert [traits(name).test_send_dry_run for name in PROVIDERS] == [False, False, True, False]


def test_number_limits_are_the_ones_the_gate_paces_by() -> None:
    """The gate asks the opened adapter (``Provider.number_limits``), which states its traits'."""
    from reconciler.providers.alibaba.adapter import AlibabaProvider
    from reconciler.providers.aws.adapter import AwsProvider
    from reconciler.providers.base import TemplateKind
    from reconciler.providers.tencent.adapter import TencentProvider

    # A sandbox channel opens the Alibaba adapter itself (reconciler.providers.sandbox.adapter).
    adapters = {"alibaba": AlibabaProvider, "tencent": TencentProvider, "aws": AwsProvider, "sandbox": AlibabaProvider}
    for name, adapter in adapters.items():
        own = traits(name)
        assert adapter.dry_run_by_default is own.test_send_dry_run, name
        for kind in TemplateKind:
            paced = [dataclasses.astuple(limit) for limit in adapter.number_limits(None, kind)]  # type: ignore[arg-type]
            assert paced == [dataclasses.astuple(limit) for limit in own.number_limits(kind.value)], (name, kind)
