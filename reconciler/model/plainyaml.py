"""A fast reader for the plain subset of YAML that config files are written in; libyaml judges
everything else.

libyaml itself is quick, but PyYAML turns its events into Python objects one call at a time
(about 1 MB/s of config, measured: 1.7 s for 5,000 templates). Config files use a small part of
YAML: block mappings and sequences, one-line plain, quoted and flow scalars, ``|``/``>`` block
scalars. ``read`` handles exactly that part, line by line, and returns None - "ask libyaml" - the
moment it meets anything else, so it never has to be right about the hard parts of YAML (multi-line
flow or quoted scalars, escapes, anchors, tags, complex keys, duplicate keys, tabs, CR line
breaks, directives, empty documents, non-string keys, timestamps...).

Invariant: when ``read`` returns documents, they are what ``reconciler.model.source.parse_text``
builds from libyaml's nodes for the same text: same data, same document indices (empty documents
are not counted), same root marks. Scalars resolve through PyYAML's own resolver and constructor,
so ``yes``, ``0x1F`` or ``1_000`` mean what they mean to PyYAML. ``tests/test_plainyaml.py``
compares both readers on every construct and on mutated configs.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

Document = tuple[int, tuple[int, int], dict[str, Any]]

_STR = "tag:yaml.org,2002:str"
# Plain scalars whose tag is decided by a regex in PyYAML, and which tags this reader builds.
_RESOLVER: Any = yaml.resolver.Resolver()
_IMPLICIT_FIRST = frozenset(yaml.resolver.Resolver.yaml_implicit_resolvers)
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_BUILT = {f"tag:yaml.org,2002:{name}" for name in ("int", "float", "bool", "null")}

# Anything but YAML's printable characters, and tab, CR, the YAML 1.1 line breaks (NEL, LS, PS)
# and BOM, all of which change how lines are read. (Listed rather than negated: the negated class
# of the printable ranges costs 10 ms to compile.)
_UNUSUAL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
_MARKER_LINE = re.compile(r"^(?:---|\.\.\.|%)", re.MULTILINE)
_MARKER = re.compile(r"---(?: *| +#.*)$")
_ENTRY = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_./-]*):(?= |$) *(.*)$")
_LINE = re.compile(r"^( *)(?:([A-Za-z0-9_][A-Za-z0-9_./-]*):(?: +|$)|(-)(?: +|$))?(.*)$", re.MULTILINE)
_END = re.compile(r"(?: *| +#.*)$")
_DOUBLE = re.compile(r'"([^"\\]*)"(?: *| +#.*)$')
_SINGLE = re.compile(r"'((?:[^']|'')*)'(?: *| +#.*)$")
_BLOCK = re.compile(r"([|>])(-?)(?: *| +#.*)$")
_FLOW_KEY = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_./-]*): +")
_FLOW_PLAIN = re.compile(r"(?:[^ ,\[\]{}#&*!|>'\"%@`:?-]|-(?=[^ ,\[\]{}#:]))[^,\[\]{}#:]*")
_FLOW_DOUBLE = re.compile(r'"([^"\\]*)"')
_FLOW_SINGLE = re.compile(r"'((?:[^']|'')*)'")
_SPACES = re.compile(r" *")
_PAIR_TEXT = (
    r"([A-Za-z0-9_][A-Za-z0-9_./-]*): +"
    r"(?:\"([^\"\\]*)\"|'((?:[^']|'')*)'|((?:[^ ,\[\]{}#&*!|>'\"%@`:?-]|-(?=[^ ,\[\]{}#:]))[^,\[\]{}#:]*))"
)
_PAIR = re.compile(_PAIR_TEXT)
_FLAT = re.compile(rf"\{{ *((?:{_PAIR_TEXT} *, *)*{_PAIR_TEXT}) *\}}")
# Characters that cannot start a plain scalar here ('-' is checked apart: "-5" is plain).
_NOT_PLAIN = frozenset("?:,[]{}#&*!|>'\"%@`")


class _Unsupported(Exception):
    """Outside the subset: the caller asks libyaml."""


def read(text: str) -> list[Document] | None:
    """Every document of ``text`` as (index, 1-based root mark, data), or None when libyaml must
    read the file (see the module docstring). Roots are always mappings."""
    if _UNUSUAL.search(text):
        return None
    lines = text.split("\n")
    tokens = _LINE.findall(text)
    if len(tokens) != len(lines):
        return None
    starts: list[tuple[int, bool]] = [(0, False)]  # (first line, after an explicit '---')
    number, offset = 0, 0
    for found in _MARKER_LINE.finditer(text):
        number += text.count("\n", offset, found.start())
        offset = found.start()
        if not _MARKER.match(lines[number]):
            return None
        starts.append((number + 1, True))
    documents: list[Document] = []
    try:
        for position, (start, explicit) in enumerate(starts):
            end = starts[position + 1][0] - 1 if position + 1 < len(starts) else len(lines)
            reader = _Reader(lines, tokens, start, end)
            indent = reader.next_indent()
            if indent < 0:
                if explicit:  # '---' then nothing is a null document to libyaml
                    return None
                continue
            if indent != 0 or not tokens[reader.pos][1]:
                return None
            mark = (reader.pos + 1, 1)
            documents.append((len(documents), mark, reader.mapping(0)))
    except _Unsupported:
        return None
    return documents or None


# Plain scalars that PyYAML's resolver does not read as strings -> their (immutable) value.
# Config files repeat the same few (maxLength: 6, prune: false), so each is resolved once.
_VALUES: dict[str, Any] = {}
_STRINGS: set[str] = set()
_KEYS: set[str] = set()


def _scalar(text: str) -> Any:
    """A plain scalar's value as PyYAML's resolver and safe constructor give it."""
    if not text:
        return None
    if text[0] not in _IMPLICIT_FIRST or text in _STRINGS:
        return text
    if text in _VALUES:
        return _VALUES[text]
    tag = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))
    if tag == _STR:
        if len(_STRINGS) < 4096:
            _STRINGS.add(text)
        return text
    if tag not in _BUILT:
        raise _Unsupported
    value = _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, yaml.ScalarNode(tag, text))
    if len(_VALUES) < 4096:
        _VALUES[text] = value
    return value


def _key(text: str) -> str:
    if text not in _KEYS:
        if _scalar(text) is not text:
            raise _Unsupported  # 'on', 'null', '1': keys that are not strings to YAML 1.1
        if len(_KEYS) < 4096:
            _KEYS.add(text)
    return text


# Scalar values by the text that follows their key (``Template``, ``notification``, ``"482913"``):
# most lines of a large config repeat another line's value.
_SCALARS: dict[str, Any] = {}
_MISSING = object()


def _inline(rest: str) -> Any:
    """A value written on the rest of its line (no block scalar, nothing on the next lines)."""
    if rest[0] in "[{":
        return _flow_value(rest)
    value = _SCALARS.get(rest, _MISSING)
    return _inline_scalar(rest) if value is _MISSING else value


def _inline_scalar(rest: str) -> Any:
    value = _read_scalar(rest)
    if len(_SCALARS) < 8192:
        _SCALARS[rest] = value
    return value


def _read_scalar(rest: str) -> Any:
    first = rest[0]
    if first == '"':
        match = _DOUBLE.match(rest)
        if match is None:
            raise _Unsupported
        return match.group(1)
    if first == "'":
        match = _SINGLE.match(rest)
        if match is None:
            raise _Unsupported
        return match.group(1).replace("''", "'")
    if first in _NOT_PLAIN or (first == "-" and rest[1:2] in ("", " ")):
        raise _Unsupported
    cut = rest.find(" #")
    text = (rest if cut < 0 else rest[:cut]).rstrip(" ")
    if ": " in text or text.endswith(":"):
        raise _Unsupported
    return _scalar(text)


# One-line flow collections of scalars, by their text: configs repeat the same few (a variable
# spec, a channels list). Callers get a copy, so no two documents share a container.
_FLOWS: dict[str, dict[str, Any] | list[Any]] = {}


def _flow_value(rest: str) -> Any:
    known = _FLOWS.get(rest)
    if known is not None:
        return known.copy()
    value, end = _flow(rest, 0)
    if not _END.match(rest, end):
        raise _Unsupported
    flat = value.values() if isinstance(value, dict) else value
    if len(_FLOWS) < 4096 and not any(isinstance(item, dict | list) for item in flat):
        _FLOWS[rest] = value.copy()
    return value


def _flow(text: str, pos: int) -> tuple[Any, int]:
    """A one-line flow collection starting at ``text[pos]`` ('[' or '{') and where it ends."""
    if pos == 0 and text[0] == "{":
        flat = _flat_mapping(text)
        if flat is not None:
            return flat
    closing = "}" if text[pos] == "{" else "]"
    result: Any = {} if closing == "}" else []
    pos = _SPACES.match(text, pos + 1).end()  # type: ignore[union-attr]
    if text[pos : pos + 1] == closing:
        return result, pos + 1
    while True:
        if closing == "}":
            match = _FLOW_KEY.match(text, pos)
            if match is None:
                raise _Unsupported
            key = _key(match.group(1))
            if key in result:
                raise _Unsupported
            result[key], pos = _flow_item(text, match.end())
        else:
            item, pos = _flow_item(text, pos)
            result.append(item)
        pos = _SPACES.match(text, pos).end()  # type: ignore[union-attr]
        char = text[pos : pos + 1]
        if char == closing:
            return result, pos + 1
        if char != ",":
            raise _Unsupported
        pos = _SPACES.match(text, pos + 1).end()  # type: ignore[union-attr]
        if text[pos : pos + 1] in ("]", "}", ""):
            raise _Unsupported  # a trailing comma; rare enough to leave to libyaml


def _flat_mapping(text: str) -> tuple[dict[str, Any], int] | None:
    """``{key: value, ...}`` with scalar values only (the common case) in two regex calls."""
    whole = _FLAT.match(text)
    if whole is None:
        return None
    result: dict[str, Any] = {}
    for key, double, single, plain in _PAIR.findall(text, 1, whole.end(1)):
        key = _key(key)
        if key in result:
            raise _Unsupported
        if double or single:
            result[key] = double or single.replace("''", "'")
        elif plain:
            result[key] = _scalar(plain.rstrip(" "))
        else:  # an empty quoted string ('' or "")
            result[key] = ""
    return result, whole.end()


def _flow_item(text: str, pos: int) -> tuple[Any, int]:
    first = text[pos : pos + 1]
    if first in ("[", "{"):
        return _flow(text, pos)
    if first == '"':
        match = _FLOW_DOUBLE.match(text, pos)
        if match is None:
            raise _Unsupported
        return match.group(1), match.end()
    if first == "'":
        match = _FLOW_SINGLE.match(text, pos)
        if match is None:
            raise _Unsupported
        return match.group(1).replace("''", "'"), match.end()
    match = _FLOW_PLAIN.match(text, pos)
    if match is None:
        raise _Unsupported
    return _scalar(match.group().rstrip(" ")), match.end()


class _Reader:
    """Block structure of one document: lines ``start`` to ``end`` (exclusive). ``tokens`` is
    ``_LINE`` applied to every line at once (indent, key, dash, rest), so the loops here do no
    per-line regex work."""

    __slots__ = ("end", "lines", "pos", "tokens")

    def __init__(self, lines: list[str], tokens: list[tuple[str, str, str, str]], start: int, end: int) -> None:
        self.lines = lines
        self.tokens = tokens
        self.pos = start
        self.end = end

    def next_indent(self) -> int:
        """Move to the next line that is not blank or a comment; its indent, or -1 at the end."""
        tokens, pos, end = self.tokens, self.pos, self.end
        while pos < end:
            indent, key, dash, rest = tokens[pos]
            if key or dash or (rest and rest[0] != "#"):
                self.pos = pos
                return len(indent)
            pos += 1
        self.pos = end
        return -1

    def mapping(self, indent: int, first_column: int = -1) -> dict[str, Any]:
        """A block mapping whose keys sit at ``indent``; ``first_column`` when the first key
        follows a '- ' on the current line. (The hot loop: ``next_indent`` and ``value`` are
        inlined for the common line, ``key: scalar``.)"""
        result: dict[str, Any] = {}
        if first_column >= 0:
            match = _ENTRY.match(self.lines[self.pos], first_column)
            if match is None:
                raise _Unsupported
            key = _key(match.group(1))
            self.pos += 1
            result[key] = self.value(match.group(2), indent)
        tokens, pos, end = self.tokens, self.pos, self.end
        while pos < end:
            spaces, key, dash, rest = tokens[pos]
            if not (key or dash or (rest and rest[0] != "#")):
                pos += 1  # blank or comment
                continue
            if len(spaces) != indent:
                if len(spaces) < indent:
                    break
                raise _Unsupported
            if key not in _KEYS:
                if not key:
                    raise _Unsupported
                _key(key)
            if key in result:
                raise _Unsupported  # libyaml's reading reports the duplicate with both lines
            pos += 1
            if rest and rest[0] not in "#|>[{":
                value = _SCALARS.get(rest, _MISSING)
                result[key] = _inline_scalar(rest) if value is _MISSING else value
            else:
                self.pos = pos
                result[key] = self.value(rest, indent)
                pos = self.pos
        self.pos = pos
        return result

    def value(self, rest: str, indent: int) -> Any:
        """The value of a key at ``indent`` whose line ends with ``rest``."""
        if not rest or rest[0] == "#":
            found = self.next_indent()
            if found > indent:
                _, key, dash, _ = self.tokens[self.pos]
                if dash:
                    return self.sequence(found)
                if not key:
                    raise _Unsupported  # a plain scalar on the next line, or an error
                return self.mapping(found)
            if found == indent and self.tokens[self.pos][2]:
                return self.sequence(found)
            return None
        if rest[0] in "|>":
            return self.block(rest, indent)
        return _inline(rest)

    def sequence(self, indent: int) -> list[Any]:
        items: list[Any] = []
        while True:
            found = self.next_indent()
            if found < indent:
                return items
            if found > indent:
                raise _Unsupported
            _, _, dash, rest = self.tokens[self.pos]
            if not dash:
                return items  # the next key of the mapping this sequence is a value of
            if not rest or rest[0] in "#|>":
                raise _Unsupported  # an item on the next lines, or a block scalar item
            if _ENTRY.match(rest):
                column = len(self.lines[self.pos]) - len(rest)
                items.append(self.mapping(column, column))
            else:
                self.pos += 1
                items.append(_inline(rest))

    def block(self, header: str, indent: int) -> str:
        """A literal or folded scalar (clip or strip chomping, no indentation indicator)."""
        match = _BLOCK.match(header)
        if match is None:
            raise _Unsupported
        lines, end = self.lines, self.end
        pos = self.pos
        first = lines[pos] if pos < end else ""
        stripped = first.lstrip(" ")
        if not stripped:
            raise _Unsupported  # leading blank lines, or an empty scalar
        inner = len(first) - len(stripped)
        if inner <= indent:
            raise _Unsupported
        folded = match.group(1) == ">"
        texts: list[str] = []
        while pos < end:
            line = lines[pos]
            stripped = line.lstrip(" ")
            if not stripped:
                if len(line) > inner:
                    raise _Unsupported  # spaces that belong to the content
                texts.append("")
            elif len(line) - len(stripped) < inner:
                break
            else:
                text = line[inner:]
                if folded and text[0] == " ":
                    raise _Unsupported  # more-indented lines keep their breaks when folded
                texts.append(text)
            pos += 1
        self.pos = pos
        while not texts[-1]:
            texts.pop()
        if folded:
            body, empty = texts[0], 0
            for text in texts[1:]:
                if not text:
                    empty += 1
                    continue
                body += ("\n" * empty if empty else " ") + text
                empty = 0
        else:
            body = "\n".join(texts)
        return body if match.group(2) == "-" else body + "\n"
