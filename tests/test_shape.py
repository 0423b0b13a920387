"""Core modules name no provider: what differs between providers is each provider's traits
(``reconciler.providers.<name>.traits``), so adding one touches ``providers/`` (its emulator under
``sandbox/``) and the provider list only.

Found by reading the code as Python (string constants), so comments and prose in docstrings may
still speak of Alibaba or AWS."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "reconciler"
PROVIDER_NAMES = frozenset({"alibaba", "tencent", "aws"})
# "sandbox" is also a command, a directory and a common word; as a provider it is compared with.
COMPARED_NAMES = PROVIDER_NAMES | {"sandbox"}
# The config enum lists the providers for the schema: the one place allowed to spell them.
ENUM = ("config/models.py", "ProviderName")
# Modules another change is taking the provider names out of (per-number send limits and the
# dry-run/parameter choice of the test-send gate). Remove an entry once its module is clean:
# the test fails on an entry that no longer leaks, so the list cannot outlive its reason.
PENDING: frozenset[str] = frozenset()


def core_modules() -> Iterator[Path]:
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in ("providers", "sandbox") or path.stem == "sandbox":
            continue
        yield path


def _constants(node: ast.AST) -> Iterator[ast.Constant]:
    for child in ast.walk(node):
        if isinstance(child, ast.Constant) and isinstance(child.value, str):
            yield child


def leaks(path: Path, root: Path = PACKAGE) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    relative = path.relative_to(root).as_posix()
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and (relative, node.name) == ENUM:
            allowed.update(id(constant) for constant in _constants(node))
    found: dict[int, str] = {}
    for constant in _constants(tree):
        if constant.value in PROVIDER_NAMES and id(constant) not in allowed:
            found[id(constant)] = f"{relative}:{constant.lineno}: {constant.value!r}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for constant in _constants(node):
                if constant.value in COMPARED_NAMES and id(constant) not in allowed:
                    found[id(constant)] = f"{relative}:{constant.lineno}: {constant.value!r}"
    return sorted(found.values())


def test_core_modules_name_no_provider() -> None:
    found = [leak for path in core_modules() for leak in leaks(path) if leak.split(":")[0] not in PENDING]
    assert not found, "provider names outside providers/ and sandbox/ (ask the provider's traits):\n" + "\n".join(found)


def test_pending_modules_still_leak() -> None:
    clean = sorted(name for name in PENDING if not leaks(PACKAGE / name))
    assert not clean, f"these modules no longer name a provider: remove them from PENDING: {clean}"


def test_the_check_finds_a_comparison_and_spares_the_enum(tmp_path: Path) -> None:
    module = PACKAGE / ENUM[0]
    assert leaks(module) == []
    assert "ALIBABA" in module.read_text(encoding="utf-8")  # the enum is there, and spared
    probe = tmp_path / "probe.py"
    probe.write_text(
        '"""About alibaba."""\nNAMES = {"sandbox": 1}\ndef f(p):\n    return p == "sandbox" or p in ("aws",)\n'
    )
    assert leaks(probe, tmp_path) == ["probe.py:4: 'aws'", "probe.py:4: 'sandbox'"]
