"""One definition, one home: a type name means one thing across the core, every frozen model shares
``reconciler.models.Frozen``, and each JSON document's ``format_version`` is named in
``reconciler.formats``.

The sandbox is left out: its emulators stand in for the providers and import nothing from the core,
so its own names (``NumberLimit``, its frozen base) are not duplicates of ours.

Each ``PENDING`` set lists what another branch still has to move; the test fails on an entry that
has become clean, so a list cannot outlive its reason."""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "reconciler"

# Module-level type names that still mean two things (none now).
PENDING_NAMES: frozenset[str] = frozenset()
# Modules that still declare their own frozen pydantic base.
PENDING_FROZEN: frozenset[str] = frozenset()
# Modules that still spell their document's version as a literal.
PENDING_VERSIONS: frozenset[str] = frozenset()


def core_modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if not relative.startswith("sandbox/"):
            yield relative, ast.parse(path.read_text(encoding="utf-8"))


def _type_names(tree: ast.Module) -> Iterator[str]:
    """Classes, and aliases of types (``X = Literal[...]``, ``X = Callable[...]``), at module level."""
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            yield node.name
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Subscript):
            yield from (t.id for t in node.targets if isinstance(t, ast.Name) and t.id[:1].isupper())


def duplicate_type_names(modules: list[tuple[str, ast.Module]]) -> dict[str, list[str]]:
    homes: dict[str, list[str]] = defaultdict(list)
    for relative, tree in modules:
        for name in _type_names(tree):
            homes[name].append(relative)
    return {name: where for name, where in homes.items() if len(where) > 1}


def own_frozen_bases(relative: str, tree: ast.Module) -> list[str]:
    """``ConfigDict(frozen=True, ...)`` anywhere but the shared base."""
    if relative == "models.py":
        return []
    return [
        f"{relative}:{node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "ConfigDict"
        and any(k.arg == "frozen" for k in node.keywords)
    ]


def literal_versions(relative: str, tree: ast.Module) -> list[str]:
    """A version spelt as a number: ``*FORMAT_VERSION = 1``, ``format_version: int = 1`` or
    ``{"format_version": 1}``, anywhere but ``formats.py``."""
    if relative == "formats.py":
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Constant):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if any(name.lower().endswith("format_version") for name in names):
                found.append(f"{relative}:{node.lineno}")
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "format_version" and isinstance(value, ast.Constant):
                    found.append(f"{relative}:{node.lineno}")
    return found


def test_a_type_name_means_one_thing() -> None:
    duplicates = duplicate_type_names(list(core_modules()))
    assert {name: where for name, where in duplicates.items() if name not in PENDING_NAMES} == {}
    assert duplicates.keys() >= PENDING_NAMES, "a PENDING_NAMES entry is no longer duplicated: remove it"


def test_frozen_models_share_one_base() -> None:
    found = [hit for relative, tree in core_modules() for hit in own_frozen_bases(relative, tree)]
    assert [hit for hit in found if hit.split(":")[0] not in PENDING_FROZEN] == []
    assert {hit.split(":")[0] for hit in found} >= PENDING_FROZEN, "a PENDING_FROZEN entry is clean: remove it"


def test_document_versions_are_named_in_formats() -> None:
    found = [hit for relative, tree in core_modules() for hit in literal_versions(relative, tree)]
    assert [hit for hit in found if hit.split(":")[0] not in PENDING_VERSIONS] == []
    assert {hit.split(":")[0] for hit in found} >= PENDING_VERSIONS, "a PENDING_VERSIONS entry is clean: remove it"


def test_the_checks_catch_what_they_look_for() -> None:
    """Each check on a small module that breaks its rule, so a check that finds nothing is not
    silently passing."""
    source = ast.parse(
        "from typing import Literal\n"
        "from pydantic import BaseModel, ConfigDict\n"
        "Action = Literal['a']\n"
        "class Base(BaseModel):\n"
        "    model_config = ConfigDict(frozen=True)\n"
        "REPORT_FORMAT_VERSION = 2\n"
        "def doc() -> dict[str, int]:\n"
        "    return {'format_version': 1}\n"
    )
    other = ast.parse("class Action: ...\n")
    assert duplicate_type_names([("a.py", source), ("b.py", other)]) == {"Action": ["a.py", "b.py"]}
    assert own_frozen_bases("a.py", source) == ["a.py:5"]
    assert own_frozen_bases("models.py", source) == []
    assert literal_versions("a.py", source) == ["a.py:6", "a.py:8"]
    assert literal_versions("formats.py", source) == []
