"""Alibaba's content syntax, both directions: ``${name}`` variables that keep their names."""

from __future__ import annotations

import re

from reconciler.content.parse import NOT_NAMES, VARIABLE_NAME_RE, ParsedContent
from reconciler.content.translate import read_native, spell
from reconciler.providers.traits import NativeVariable

_VARIABLE = re.compile(r"\$\{([^{}]*)\}")
_NAMED = re.compile(r"\$\{([A-Za-z][A-Za-z0-9_]*)\}")


def to_native(parsed: ParsedContent) -> str:
    """Alibaba native content: ``${name}``."""
    return spell(parsed, lambda name: f"${{{name}}}")


def from_native(content: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """``${name}`` keeps its name; a name smsops cannot use becomes ``varN`` (with a note)."""
    found = _VARIABLE.findall(content)
    usable = {n for n in found if VARIABLE_NAME_RE.fullmatch(n) and n not in NOT_NAMES}
    renamed: dict[str, str] = {}
    notes: list[str] = []
    for raw in dict.fromkeys(found):
        if raw in usable:
            continue
        index = len(renamed) + 1
        while f"var{index}" in usable or f"var{index}" in renamed.values():
            index += 1
        renamed[raw] = f"var{index}"
        notes.append(f"variable ${{{raw}}} is not a usable name here; renamed {{{{ var{index} }}}}")
    canonical, names = read_native(content, _VARIABLE, lambda raw: renamed.get(raw, raw))
    return canonical, names, tuple(notes)


def exported_variables(content: str, canonical: str | None) -> tuple[NativeVariable, ...]:
    return tuple((name, None) for name in dict.fromkeys(_NAMED.findall(content)))
