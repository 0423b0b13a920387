"""YAML text -> plain data per document, with positions on demand and a diagnostic for every
problem in the text itself.

libyaml composes nodes (each keeps its start mark); ``_Builder`` turns them into data while
refusing what smsops does not accept: aliases (so no YAML bomb can expand), merge keys, tags other
than the plain scalar ones, and duplicate keys (which PyYAML would silently overwrite).

Rule ids used here: SMS002 YAML syntax, SMS003 duplicate key, SMS004 unsupported YAML (also a
value that does not fit its tag, ``!!int 5m``, or does not exist, ``2024-02-30``), SMS005
unreadable / not text, SMS006 empty file, SMS007 an invalid ``sops`` block, SMS008 a value in a
SOPS file that is not encrypted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from reconciler.config.positions import (
    ODD_BREAKS,
    EditorLines,
    Mark,
    Positions,
    fix_marks,
    has_odd_breaks,
    mark_of,
    split_lines,
)
from reconciler.errors import Severity
from reconciler.secrets.metadata import metadata_problem, plaintext_paths

_TAG = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ, _MERGE = (f"{_TAG}{name}" for name in ("str", "map", "seq", "merge"))
_SCALARS = {f"{_TAG}{name}" for name in ("str", "int", "float", "bool", "null", "timestamp")}
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_PLAIN_TAGS: dict[str, str] = {}
# Deeper than any config needs; keeps every recursive walk after parsing (pydantic, lint) shallow.
MAX_DEPTH = 64

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # pure Python only if PyYAML lacks libyaml


class _Loader(_Base):  # type: ignore[misc]
    """libyaml calls ``resolve`` in Python once per node; PyYAML's version runs a list of regexes
    each time. A plain scalar's tag depends only on its text, and config files repeat the same
    keys thousands of times, so the answer is remembered."""

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            if not implicit[0]:
                return _STR
            tag = _PLAIN_TAGS.get(value)
            if tag is None:
                tag = _PLAIN_TAGS[value] = super().resolve(kind, value, implicit)
            return tag
        return _MAP if kind is yaml.MappingNode else _SEQ


def compose(text: str) -> Iterator[yaml.Node]:
    """The document nodes of ``text`` (empty documents skipped); raises ``yaml.YAMLError``."""
    return (node for node in yaml.compose_all(text, Loader=_Loader) if node is not None)


@dataclass(frozen=True)
class Problem:
    """A diagnostic without its file (so parse results can be cached independently of paths)."""

    line: int
    column: int
    rule: str
    message: str
    hint: str
    severity: Severity = Severity.ERROR


@dataclass
class ParsedText:
    """Documents as (index, root mark, data); ``sops`` means the file is SOPS data, not config."""

    documents: list[tuple[int, Mark, Any]] = field(default_factory=list)
    nodes: dict[int, yaml.Node] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    sops: bool = False
    sops_data: dict[Any, Any] | None = None  # the SOPS document itself, when ``sops``


class _Refused(Exception):
    def __init__(self, node: yaml.Node, message: str, hint: str) -> None:
        super().__init__(message)
        self.problem = Problem(*mark_of(node), "SMS004", message, hint)


def _tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag


class _Builder:
    def __init__(self, check_aliases: bool) -> None:
        # An alias is the same node object met twice. Without an '&' in the text there can be no
        # anchor, hence no alias, and the identity bookkeeping is skipped.
        self.seen: set[int] | None = set() if check_aliases else None
        self.problems: list[Problem] = []

    def build(self, node: yaml.Node, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise _Refused(node, f"nested more than {MAX_DEPTH} levels deep", "flatten the structure")
        if self.seen is not None:
            if id(node) in self.seen:
                raise _Refused(node, "YAML anchors and aliases are not supported", "write the value out in full")
            self.seen.add(id(node))
        tag = node.tag
        if tag == _STR:
            return node.value
        if tag == _MAP and isinstance(node, yaml.MappingNode):
            return self._mapping(node, depth)
        if tag == _SEQ and isinstance(node, yaml.SequenceNode):
            return [self.build(item, depth + 1) for item in node.value]
        if tag in _SCALARS and isinstance(node, yaml.ScalarNode):
            return construct(node)
        raise _Refused(node, f"unsupported YAML tag {_tag(tag)}", "remove the tag; plain values only")

    def _mapping(self, node: yaml.MappingNode, depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                raise _Refused(key_node, "YAML merge keys (<<) are not supported", "write the keys out in full")
            key = self.build(key_node, depth + 1)
            if isinstance(key, dict | list):
                raise _Refused(key_node, "a mapping key must be a plain value", "use a string key")
            if key in result:
                # .nan is not equal to itself but is one object, so `in` finds it and == does not
                first = next((k for k, _ in node.value if _same(_plain_key(k), key)), key_node)
                line, column = mark_of(key_node)
                self.problems.append(
                    Problem(
                        line, column, "SMS003",
                        f"duplicate key '{key}': already set at line {mark_of(first)[0]}, line {line} sets it again",
                        "keep one of them; YAML would silently use the last",
                    )
                )  # fmt: skip
            result[key] = self.build(value_node, depth + 1)
        return result


def _same(a: Any, b: Any) -> bool:
    return a is b or a == b


def construct(node: yaml.ScalarNode) -> Any:
    """A plain scalar's value; text that does not fit its tag (``!!int 5m``, ``2024-02-30``, an
    integer of more than 4,300 digits) is refused at the node instead of raising."""
    try:
        return _CONSTRUCTOR.yaml_constructors[node.tag](_CONSTRUCTOR, node)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, yaml.YAMLError):
        kind = _tag(node.tag).removeprefix("!!")
        shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
        what = "a valid date or time" if kind == "timestamp" else f"a valid {kind}"
        if kind == "int" and len(node.value) > 4000:
            what = "a number of at most 4,300 digits"
        # A plain value the resolver typed (rather than an explicit tag): quoting keeps it as text.
        if node.style is None and _PLAIN_TAGS.get(node.value) == node.tag:
            hint = f'quote it to keep it as text: "{shown}"'
        else:
            hint = f"remove the {_tag(node.tag)} tag or write {what}"
        raise _Refused(node, f"'{shown}' is not {what}", hint) from None


def _plain_key(node: yaml.Node) -> Any:
    """A scalar key's value, built again to find the first of two equal keys (``on`` and ``true``
    are the same key to YAML 1.1); only called once a duplicate was found."""
    if isinstance(node, yaml.ScalarNode) and node.tag in _SCALARS:
        if node.tag == _STR:
            return node.value
        try:
            return _CONSTRUCTOR.yaml_constructors[node.tag](_CONSTRUCTOR, node)
        except Exception:  # refused where it was built; here it only cannot match
            return None
    return None


def _has_odd_break(lines: list[str], line: int) -> bool:
    return line <= len(lines) and any(character in lines[line - 1] for character in ODD_BREAKS)


def _syntax_problem(text: str, error: yaml.YAMLError) -> Problem:
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        # libyaml's own line and column are wrong after an odd break and at the end of the text
        editor = EditorLines(text)
        line, column = editor.mark(mark.index) if mark else (1, 1)
        odd = has_odd_breaks(text)
        lines = split_lines(text)
        if mark and odd:
            # The odd break is usually on the line where the construct began (the context mark).
            for other in (error.context_mark, error.problem_mark):
                if other is not None and _has_odd_break(lines, editor.mark(other.index)[0]):
                    line, column = editor.mark(other.index)
                    break
        if odd and _has_odd_break(lines, line):
            message = (error.problem or "invalid syntax") + (f" ({error.context})" if error.context else "")
            hint = (
                "this line holds U+0085, U+2028 or U+2029, which YAML reads as a line break and editors do "
                "not show; remove it (or write it as \\u2028 in a double-quoted string)"
            )
        elif line <= len(lines) and lines[line - 1][column - 1 : column] == "\t":
            # libyaml says "found character that cannot start any token" without naming the tab
            message, hint = "tab character in indentation", "indent with spaces; YAML does not allow tabs"
        else:
            message = (error.problem or "invalid syntax") + (f" ({error.context})" if error.context else "")
            hint = "fix the YAML syntax at this position"
        return Problem(line, column, "SMS002", f"invalid YAML: {message}", hint)
    if isinstance(error, yaml.reader.ReaderError):
        before = text.encode("utf-8")[: error.position].decode("utf-8", "replace")
        line, column = EditorLines(text).mark(len(before))
        code = error.character if isinstance(error.character, int) else ord(str(error.character)[:1] or "?")
        return Problem(
            line, column, "SMS005", f"control character U+{code:04X} is not allowed in YAML",
            "this does not look like a text YAML file; remove it or fix its content",
        )  # fmt: skip
    return Problem(1, 1, "SMS002", f"invalid YAML: {error}", "fix the YAML syntax")


def decode(raw: bytes) -> tuple[str | None, Problem | None]:
    """UTF-8 text (a BOM is dropped), or a problem pinned to the first undecodable byte."""
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        body = bytes(error.object)  # ``raw`` without its BOM: what ``error.start`` counts in
        before = body[: error.start].decode("utf-8", "replace")
        line, column = EditorLines(body.decode("utf-8", "replace")).mark(len(before))
        return None, Problem(
            line, column, "SMS005", f"not UTF-8 text (byte 0x{body[error.start]:02x})",
            "config files must be UTF-8 YAML; remove binary files from the config directory",
        )  # fmt: skip


def _sops_key(node: yaml.Node) -> yaml.Node | None:
    """The ``sops`` key node of a document's top-level mapping, if it has one."""
    if isinstance(node, yaml.MappingNode):
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == "sops":
                return key
    return None


def _sops_problems(text: str, node: yaml.Node, data: dict[Any, Any]) -> list[Problem]:
    """A real SOPS file: one problem per value left in the clear (pasted in after encryption)."""
    positions = Positions(node)
    problems = []
    for path in plaintext_paths(data):
        line, column = positions.nearest(path)
        shown = ".".join(str(part) for part in path)
        problems.append(
            Problem(
                line, column, "SMS008", f"value '{shown}' in this SOPS file is not encrypted",
                "remove the line and add the value with `sops edit FILE`; rotate it if it was ever committed",
            )
        )  # fmt: skip
    return problems


def not_sops_reason(parsed: ParsedText) -> str:
    """Why a parsed file is not SOPS data (for a file that should be)."""
    found = next((problem.message for problem in parsed.problems if problem.rule == "SMS007"), None)
    if found is not None:
        return found.removeprefix("not a valid SOPS file: ")
    if any(problem.rule in ("SMS002", "SMS004", "SMS005") for problem in parsed.problems):
        return "it is not valid YAML"
    return "it has no sops metadata"


def parse_text(text: str) -> ParsedText:
    """Every document of ``text`` as data, with its node for positions; the ones before a syntax
    error are kept. A file that is one document with a valid ``sops`` block is SOPS data
    (``sops=True``, no documents); any other ``sops`` block is reported (SMS007) and its document
    is config like any other, so nothing is hidden from the checks."""
    parsed = ParsedText()
    nodes: list[yaml.Node] = []
    try:
        nodes.extend(compose(text))
    except yaml.YAMLError as error:
        parsed.problems.append(_syntax_problem(text, error))
    except RecursionError:
        parsed.problems.append(Problem(1, 1, "SMS002", "invalid YAML: nested too deeply", "flatten the structure"))
    if nodes:
        fix_marks(text, nodes)
    if not nodes and not parsed.problems:
        parsed.problems.append(
            Problem(1, 1, "SMS006", "file contains no YAML documents",
                    "delete the file or add a Channel or Template", Severity.WARNING)
        )  # fmt: skip
    builder = _Builder(check_aliases="&" in text)
    for index, node in enumerate(nodes):
        try:
            data = builder.build(node)
        except _Refused as refused:
            parsed.problems.append(refused.problem)
            continue
        except RecursionError:
            parsed.problems.append(Problem(*mark_of(node), "SMS002", "nested too deeply", "flatten the structure"))
            continue
        sops_key = _sops_key(node)
        if sops_key is not None and isinstance(data, dict):
            why = metadata_problem(data.get("sops"))
            if why is None and len(nodes) == 1 and not parsed.problems and not builder.problems:
                return ParsedText(problems=_sops_problems(text, node, data), sops=True, sops_data=data)
            why = why or "a SOPS file holds one document and nothing else"
            parsed.problems.append(
                Problem(*mark_of(sops_key), "SMS007", f"not a valid SOPS file: {why}",
                        "encrypt secrets with `sops encrypt -i FILE`; a config document has no sops key")
            )  # fmt: skip
        parsed.documents.append((index, mark_of(node), data))
        parsed.nodes[index] = node
    parsed.problems.extend(builder.problems)
    return parsed
