"""Content in a provider's syntax, both directions: canonical ``{{ name }}`` -> native for a
template or a send, and native -> canonical for adoption.

The syntax itself is each provider's trait (``reconciler.providers.<name>.traits``); this module
holds the machinery they share and the lookups core modules call with a provider name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from reconciler.content.parse import ParsedContent, require_ok
from reconciler.providers.traits import traits


def spell(parsed: ParsedContent, write: Callable[[str], str]) -> str:
    """The content with each variable written ``write(name)`` and the text kept as is."""
    require_ok(parsed)
    return "".join([part if isinstance(part, str) else write(part.name) for part in parsed.parts])


def to_canonical(parsed: ParsedContent) -> str:
    """The content with every variable written ``{{ name }}`` (normalised spacing)."""
    return spell(parsed, lambda name: f"{{{{ {name} }}}}")


def positions(parsed: ParsedContent) -> dict[str, int]:
    """Name -> 1-based position in order of first appearance (a name used twice keeps its first)."""
    require_ok(parsed)
    return {name: index for index, name in enumerate(parsed.variables, start=1)}


def by_name(parsed: ParsedContent) -> dict[str, str]:
    """Parameters keyed by the variables' own names (providers that keep names)."""
    require_ok(parsed)
    return {name: name for name in parsed.variables}


def by_position(parsed: ParsedContent) -> dict[str, str]:
    """Parameters keyed by position "1", "2"… (providers that number their variables)."""
    return {name: str(index) for name, index in positions(parsed).items()}


def read_native(content: str, pattern: re.Pattern[str], name_of: Callable[[str], str]) -> tuple[str, tuple[str, ...]]:
    """Native content -> canonical: each ``pattern`` match (group 1 the provider's variable) becomes
    ``{{ name_of(group) }}``; also the names in order of first use."""
    names: dict[str, None] = {}

    def replace(match: re.Match[str]) -> str:
        name = name_of(match.group(1))
        names.setdefault(name)
        return f"{{{{ {name} }}}}"

    return pattern.sub(replace, content), tuple(names)


def native(parsed: ParsedContent, provider: str) -> str:
    """Content as ``provider`` stores it."""
    return traits(provider).to_native(parsed)


def native_parameters(parsed: ParsedContent, provider: str, values: Mapping[str, str]) -> dict[str, str]:
    """Values keyed by the provider's parameter names for a send."""
    keys = traits(provider).native_keys(parsed)
    return {keys[name]: values[name] for name in parsed.variables}


def from_native(content: str, provider: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """Stored content -> (``{{ name }}`` content, variable names in order of first use, notes)."""
    return traits(provider).from_native(content)
