"""Where each field of a parsed document is written: 1-based (line, column) by field path.

Apart from the parser (``reconciler.config.source``) so that a process which only receives a loaded
config (the plan side of ``reconciler.overlap``) does not import YAML: positions are built from
node trees, and nodes composed, only when someone asks where a field is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from yaml import Node

FieldPath = tuple[str | int, ...]
Mark = tuple[int, int]


class Recomposed:
    """The document nodes of a text composed again on first use: the positions of a file whose
    nodes were not kept (it was parsed in another process). Nodes before a syntax error count,
    as in ``parse_text``."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._nodes: list[Node] | None = None

    def node(self, index: int) -> Node:
        if self._nodes is None:
            import yaml

            from reconciler.config.source import compose

            self._nodes = []
            with contextlib.suppress(yaml.YAMLError, RecursionError):
                self._nodes.extend(compose(self._text))
        return self._nodes[index]


def mark_of(node: Node) -> Mark:
    return node.start_mark.line + 1, node.start_mark.column + 1


class Positions(Mapping[FieldPath, Mark]):
    """Field path -> 1-based (line, column) of its value, built from the node tree on first use:
    most documents are valid and nobody asks where their fields are, so the walk is rarely paid.
    ``root`` may be a callable that re-parses the file, so no node tree needs to be kept."""

    def __init__(self, root: Node | Callable[[], Node], again: Callable[[], Node] | None = None) -> None:
        self._root = root
        self._again = again  # composes the node again: what a copy in another process keeps
        self._values: dict[FieldPath, Mark] | None = None
        self._keys: dict[FieldPath, Mark] = {}

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled (to another process) without the node tree: the copy composes its node again."""
        again = self._again or (self._root if callable(self._root) else None)
        if again is None:
            raise TypeError("these positions cannot be composed again elsewhere")
        return Positions, (again, again)

    def _build(self) -> dict[FieldPath, Mark]:
        if self._values is None:
            import yaml

            root = self._root() if callable(self._root) else self._root
            values: dict[FieldPath, Mark] = {}
            stack: list[tuple[FieldPath, Node]] = [((), root)]
            while stack:  # children are popped last-first, so a repeated key points at the value kept
                path, node = stack.pop()
                if path in values:
                    continue
                values[path] = mark_of(node)
                if isinstance(node, yaml.MappingNode):
                    for key, value in node.value:
                        child = (*path, key.value if isinstance(key, yaml.ScalarNode) else str(mark_of(key)))
                        self._keys[child] = mark_of(key)
                        stack.append((child, value))
                elif isinstance(node, yaml.SequenceNode):
                    stack.extend(((*path, index), item) for index, item in enumerate(node.value))
            self._values = values
        return self._values

    def __getitem__(self, path: FieldPath) -> Mark:
        return self._build()[path]

    def __iter__(self) -> Iterator[FieldPath]:
        return iter(self._build())

    def __len__(self) -> int:
        return len(self._build())

    def key(self, path: FieldPath) -> Mark | None:
        """Where the key of ``path`` is written (None for the document root and list items)."""
        self._build()
        return self._keys.get(path)

    def nearest(self, path: FieldPath) -> Mark:
        """The position of ``path``, or of its nearest parent present in the document."""
        values = self._build()
        while path not in values:
            path = path[:-1]
        return values[path]
