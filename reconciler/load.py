"""Config files -> resources with source positions, and a diagnostic for everything that is wrong.

Every ``*.yaml``/``*.yml`` under the config dir (sorted, recursive, hidden directories skipped) is
parsed with libyaml into nodes, so each value keeps its ``line:column``. ``.sops.yaml`` and
SOPS-encrypted files (a top-level ``sops`` mapping with a ``mac``) are data, not documents.
Nothing here raises for bad input: problems come back as ``Diagnostic``s, all of them, sorted.

Rule ids: SMS001 config dir, SMS002 YAML syntax, SMS003 duplicate key, SMS004 unsupported YAML
(aliases, merge keys, tags), SMS005 unreadable file, SMS006 empty file, SMS010 kind, SMS011
apiVersion, SMS020 schema, SMS021 duplicate resource name. SMS1xx belong to ``reconciler.lint``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import ValidationError

from reconciler.errors import Diagnostic, Severity
from reconciler.model.describe import describe
from reconciler.model.resources import API_VERSION, KINDS, Channel, Template

try:  # libyaml: composing 5,000 templates in C is what keeps `validate` under a second
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

T = TypeVar("T")
FieldPath = tuple[str | int, ...]
Mark = tuple[int, int]

_TAG = "tag:yaml.org,2002:"
_SCALARS = {f"{_TAG}{name}" for name in ("str", "int", "float", "bool", "null", "timestamp")}
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def _mark(node: yaml.Node) -> Mark:
    return node.start_mark.line + 1, node.start_mark.column + 1


class Positions(Mapping[FieldPath, Mark]):
    """Field path -> (line, column) of its value, built from the node tree on first use: most
    documents are valid and nobody asks where their fields are, so the walk is usually never paid."""

    def __init__(self, root: yaml.Node) -> None:
        self._root = root
        self._values: dict[FieldPath, Mark] | None = None
        self._keys: dict[FieldPath, Mark] = {}

    def _build(self) -> dict[FieldPath, Mark]:
        if self._values is None:
            values: dict[FieldPath, Mark] = {}
            stack: list[tuple[FieldPath, yaml.Node]] = [((), self._root)]
            while stack:
                path, node = stack.pop()
                if path in values:  # an alias: the first occurrence wins
                    continue
                values[path] = _mark(node)
                if isinstance(node, yaml.MappingNode):
                    for key, value in node.value:
                        child = (*path, key.value if isinstance(key, yaml.ScalarNode) else str(_mark(key)))
                        self._keys.setdefault(child, _mark(key))
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


@dataclass(frozen=True)
class Located(Generic[T]):
    """A resource and where it was written. ``positions`` maps field paths (YAML key names, list
    indices) to 1-based (line, column) of the value."""

    resource: T
    file: str
    line: int
    column: int
    positions: Mapping[FieldPath, Mark]

    def at(self, *path: str | int) -> tuple[str, int, int]:
        """``file, line, column`` of a field, falling back to the nearest parent present."""
        while path not in self.positions:
            path = path[:-1]
            if not path:
                return self.file, self.line, self.column
        line, column = self.positions[path]
        return self.file, line, column

    def resolve(self, relative: str) -> Path:
        """A path written in this document (``sops: ../secrets/x.enc.yaml``), relative to its file."""
        return Path(os.path.normpath(os.path.join(os.path.dirname(self.file), relative)))


@dataclass(frozen=True)
class RawDocument:
    """Every parsed document, valid or not, as plain data (``index`` is 0-based within the file)."""

    file: str
    index: int
    data: Any
    positions: Mapping[FieldPath, Mark]


@dataclass(frozen=True)
class LoadedConfig:
    root: Path
    channels: tuple[Located[Channel], ...]
    templates: tuple[Located[Template], ...]
    documents: tuple[RawDocument, ...]
    files: tuple[str, ...]

    def channel(self, name: str) -> Located[Channel] | None:
        return next((located for located in self.channels if located.resource.name == name), None)

    def templates_for(self, channel_name: str) -> tuple[Located[Template], ...]:
        return tuple(located for located in self.templates if located.resource.targets(channel_name))


class _Refused(Exception):
    """A document uses YAML smsops does not accept; it is reported and skipped."""

    def __init__(self, node: yaml.Node, message: str, hint: str) -> None:
        super().__init__(message)
        self.node, self.message, self.hint = node, message, hint


class _Builder:
    """Nodes -> Python data, refusing aliases (no YAML bombs), merge keys and custom tags, and
    reporting duplicate keys (which PyYAML would silently overwrite)."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.seen: set[int] = set()
        self.diagnostics: list[Diagnostic] = []

    def build(self, node: yaml.Node) -> Any:
        if id(node) in self.seen:
            raise _Refused(node, "YAML anchors and aliases are not supported", "write the value out in full")
        self.seen.add(id(node))
        tag = node.tag
        if isinstance(node, yaml.ScalarNode):
            if tag == f"{_TAG}str":
                return node.value
            if tag not in _SCALARS:
                raise _Refused(node, f"unsupported YAML tag {tag}", "remove the tag; plain values only")
            return _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, node)
        if isinstance(node, yaml.SequenceNode) and tag == f"{_TAG}seq":
            return [self.build(item) for item in node.value]
        if isinstance(node, yaml.MappingNode) and tag == f"{_TAG}map":
            return self._mapping(node)
        raise _Refused(node, f"unsupported YAML tag {tag}", "remove the tag; plain values only")

    def _mapping(self, node: yaml.MappingNode) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == f"{_TAG}merge":
                raise _Refused(key_node, "YAML merge keys (<<) are not supported", "write the keys out in full")
            key = self.build(key_node)
            if isinstance(key, dict | list):
                raise _Refused(key_node, "a mapping key must be a plain value", "use a string key")
            if key in result:
                first = next(k for k, _ in node.value if k is not key_node and self._same(k, key))
                line, column = _mark(key_node)
                self.diagnostics.append(
                    Diagnostic(
                        self.file, line, column, "SMS003",
                        f"duplicate key '{key}': already set at line {_mark(first)[0]}, "
                        f"line {line} sets it again",
                        "keep one of them; YAML would silently use the last",
                    )
                )  # fmt: skip
            result[key] = self.build(value_node)
        return result

    @staticmethod
    def _same(node: yaml.Node, key: Any) -> bool:
        return isinstance(node, yaml.ScalarNode) and node.value == str(key)


def _syntax_error(file: str, text: str, error: yaml.YAMLError) -> Diagnostic:
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = error.problem or "invalid YAML"
        if error.context:
            problem += f" ({error.context})"
        tab = "'\\t'" in problem
        hint = "indent with spaces; YAML does not allow tabs" if tab else "fix the YAML syntax here"
        return Diagnostic(file, line, column, "SMS002", f"invalid YAML: {problem}", hint)
    if isinstance(error, yaml.reader.ReaderError):
        before = text.encode("utf-8")[: error.position].decode("utf-8", "replace")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        return Diagnostic(
            file, line, column, "SMS005", f"character {error.character!r} is not allowed in YAML",
            "this does not look like a text YAML file; remove it or fix its content",
        )  # fmt: skip
    return Diagnostic(file, 1, 1, "SMS002", f"invalid YAML: {error}", "fix the YAML syntax")


def _is_sops(node: yaml.Node) -> bool:
    if not isinstance(node, yaml.MappingNode):
        return False
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "sops" and isinstance(value, yaml.MappingNode):
            return any(isinstance(k, yaml.ScalarNode) and k.value == "mac" for k, _ in value.value)
    return False


def _read(path: Path, file: str) -> tuple[str | None, Diagnostic | None]:
    try:
        raw = path.read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        if path.is_symlink() and not path.exists():
            reason = "broken symbolic link"
        return None, Diagnostic(file, 1, 1, "SMS005", f"cannot read file: {reason}", "check the path and permissions")
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        before = raw[: error.start].decode("utf-8", "replace")
        line, column = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        return None, Diagnostic(
            file, line, column, "SMS005", f"not UTF-8 text (byte 0x{raw[error.start]:02x})",
            "config files must be UTF-8 YAML; remove binary files from the config directory",
        )  # fmt: skip


def _parse(file: str, text: str) -> tuple[list[yaml.Node] | None, list[Diagnostic]]:
    """The file's document nodes; None when it is a SOPS file (data, not config)."""
    nodes: list[yaml.Node] = []
    diagnostics: list[Diagnostic] = []
    try:
        for node in yaml.compose_all(text, Loader=_Loader):
            if node is not None:
                nodes.append(node)
    except yaml.YAMLError as error:  # the documents before the broken one are still checked
        diagnostics.append(_syntax_error(file, text, error))
    except RecursionError:
        diagnostics.append(Diagnostic(file, 1, 1, "SMS002", "invalid YAML: nested too deeply", "flatten it"))
    if any(_is_sops(node) for node in nodes):
        return None, []
    if not nodes and not diagnostics:
        diagnostics.append(
            Diagnostic(file, 1, 1, "SMS006", "file contains no YAML documents",
                       "delete the file or add a Channel or Template", Severity.WARNING)
        )  # fmt: skip
    return nodes, diagnostics


def _config_files(root: Path) -> list[str]:
    found: list[str] = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(name for name in dirnames if not name.startswith("."))
        relative = os.path.relpath(directory, root)
        for name in filenames:
            if name.endswith((".yaml", ".yml")) and name != ".sops.yaml":
                found.append(os.path.normpath(os.path.join(relative, name)))
    return sorted(found, key=lambda name: name.split(os.sep))


def _check_header(file: str, data: Any, positions: Positions) -> str | None:
    """The document's kind if it is one we know with the right apiVersion; else why not."""
    if not isinstance(data, dict):
        raise _Header(file, positions.nearest(()), "SMS010", "a document must be a mapping with apiVersion and kind")
    kind = data.get("kind")
    if kind not in KINDS:
        what = "missing kind" if kind is None else f"unknown kind {kind!r}"
        raise _Header(file, positions.nearest(("kind",)), "SMS010", f"{what}; expected Channel or Template")
    version = data.get("apiVersion")
    if version != API_VERSION:
        what = "missing apiVersion" if version is None else f"unsupported apiVersion {version!r}"
        raise _Header(file, positions.nearest(("apiVersion",)), "SMS011", f"{what}; expected {API_VERSION}")
    return str(kind)


class _Header(Exception):
    def __init__(self, file: str, mark: Mark, rule: str, message: str) -> None:
        super().__init__(message)
        hint = f"start the document with 'apiVersion: {API_VERSION}' and 'kind: Channel' or 'kind: Template'"
        self.diagnostic = Diagnostic(file, mark[0], mark[1], rule, message, hint)


def _validate(document: RawDocument, positions: Positions, kind: str) -> tuple[Any, list[Diagnostic]]:
    model = KINDS[kind]
    try:
        return model.model_validate(document.data), []
    except ValidationError as error:
        diagnostics = []
        for detail in error.errors(include_url=False):
            problem = describe(detail, model)
            mark = (positions.key(problem.path) if problem.anchor == "key" else None) or positions.nearest(problem.path)
            diagnostics.append(Diagnostic(document.file, *mark, "SMS020", problem.message, problem.hint))
        return None, diagnostics


def load_config(root: Path | str) -> tuple[LoadedConfig, list[Diagnostic]]:
    """Load every document under ``root``. Never raises for bad input; see the module docstring."""
    root_path = Path(root)
    shown_root = os.path.normpath(str(root))
    diagnostics: list[Diagnostic] = []
    channels: list[Located[Channel]] = []
    templates: list[Located[Template]] = []
    documents: list[RawDocument] = []
    files: list[str] = []
    names: dict[tuple[str, str], Located[Any]] = {}

    if not root_path.is_dir():
        why = "does not exist" if not root_path.exists() else "is not a directory"
        diagnostics.append(Diagnostic(shown_root, 0, 0, "SMS001", f"config directory {why}",
                                      "pass the directory holding channels/ and templates/"))  # fmt: skip
        return LoadedConfig(root_path, (), (), (), ()), diagnostics

    for relative in _config_files(root_path):
        file = os.path.normpath(os.path.join(shown_root, relative))
        text, problem = _read(root_path / relative, file)
        if text is None:
            if problem:
                diagnostics.append(problem)
            files.append(file)
            continue
        nodes, found = _parse(file, text)
        if nodes is None:
            continue
        files.append(file)
        diagnostics.extend(found)
        builder = _Builder(file)
        for index, node in enumerate(nodes):
            positions = Positions(node)
            try:
                data = builder.build(node)
            except _Refused as refused:
                line, column = _mark(refused.node)
                diagnostics.append(Diagnostic(file, line, column, "SMS004", refused.message, refused.hint))
                continue
            except RecursionError:
                diagnostics.append(Diagnostic(file, *_mark(node), "SMS002", "nested too deeply", "flatten it"))
                continue
            document = RawDocument(file, index, data, positions)
            documents.append(document)
            try:
                kind = _check_header(file, data, positions)
            except _Header as header:
                diagnostics.append(header.diagnostic)
                continue
            resource, problems = _validate(document, positions, str(kind))
            diagnostics.extend(problems)
            if resource is None:
                continue
            located: Located[Any] = Located(resource, file, *_mark(node), positions)
            first = names.setdefault((resource.kind, resource.name), located)
            if first is not located:
                at_file, line, column = located.at("metadata", "name")
                diagnostics.append(Diagnostic(
                    at_file, line, column, "SMS021",
                    f"{resource.kind} '{resource.name}' is defined twice: first at {first.file}:{first.line}:"
                    f"{first.column}, again here",
                    "rename one of them or delete the copy",
                ))  # fmt: skip
            elif isinstance(resource, Channel):
                channels.append(located)
            else:
                templates.append(located)
        diagnostics.extend(builder.diagnostics)

    if not files:
        diagnostics.append(Diagnostic(shown_root, 0, 0, "SMS001", "no .yaml or .yml config files found",
                                      "add channels/*.yaml and templates/*.yaml"))  # fmt: skip
    config = LoadedConfig(root_path, tuple(channels), tuple(templates), tuple(documents), tuple(files))
    return config, sorted(diagnostics)
