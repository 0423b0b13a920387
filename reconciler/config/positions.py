"""Where each field of a parsed document is written: 1-based (line, column) by field path.

Positions are built from the document's node tree only when someone asks where a field is.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import yaml
from yaml import Node

FieldPath = tuple[str | int, ...]
Mark = tuple[int, int]


def mark_of(node: Node) -> Mark:
    return node.start_mark.line + 1, node.start_mark.column + 1


class Positions(Mapping[FieldPath, Mark]):
    """Field path -> 1-based (line, column) of its value, built from the node tree on first use:
    most documents are valid and nobody asks where their fields are, so the walk is rarely paid."""

    def __init__(self, root: Node) -> None:
        self._root = root
        self._values: dict[FieldPath, Mark] | None = None
        self._keys: dict[FieldPath, Mark] = {}

    def _build(self) -> dict[FieldPath, Mark]:
        if self._values is None:
            root = self._root
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
