"""Content in each provider's syntax, both directions, through the providers' traits."""

from __future__ import annotations

import pytest

from reconciler.content.parse import parse_content
from reconciler.content.translate import (
    from_native,
    native,
    native_parameters,
    positions,
    spell,
    to_canonical,
)
from reconciler.errors import ConfigError

CONTENT = "Hi {{ name }}, code {{code}}; again {{name}}."


def test_translations() -> None:
    parsed = parse_content(CONTENT)
    assert native(parsed, "alibaba") == "Hi ${name}, code ${code}; again ${name}."
    assert native(parsed, "sandbox") == native(parsed, "alibaba")
    assert native(parsed, "tencent") == "Hi {1}, code {2}; again {1}."
    assert positions(parsed) == {"name": 1, "code": 2}
    assert native(parsed, "aws") == to_canonical(parsed) == "Hi {{ name }}, code {{ code }}; again {{ name }}."


def test_send_parameters_use_the_providers_keys() -> None:
    parsed = parse_content(CONTENT)
    values = {"name": "Ann", "code": "1234"}
    assert native_parameters(parsed, "tencent", values) == {"1": "Ann", "2": "1234"}
    assert native_parameters(parsed, "alibaba", values) == values
    assert native_parameters(parsed, "aws", values) == values


@pytest.mark.parametrize("provider", ["alibaba", "sandbox", "tencent", "aws"])
def test_native_content_reads_back_to_the_same_native_content(provider: str) -> None:
    stored = native(parse_content(CONTENT), provider)
    canonical, names, notes = from_native(stored, provider)
    assert native(parse_content(canonical), provider) == stored
    assert len(names) == 2 and notes == ()


def test_translation_refuses_content_with_problems() -> None:
    with pytest.raises(ValueError, match=r"cannot be translated: SMS102"):
        native(parse_content("{{ a|upper }}"), "alibaba")
    with pytest.raises(ValueError, match=r"cannot be translated: SMS102"):
        spell(parse_content("{{ a|upper }}"), str)
    with pytest.raises(ConfigError, match="unknown provider 'smpp'"):
        native(parse_content("x"), "smpp")
