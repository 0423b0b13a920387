"""Config files -> resources with source positions, and a diagnostic for everything that is wrong.

Every ``*.yaml``/``*.yml`` under the config dir (sorted, recursive, hidden directories skipped) is a
config file, except ``.sops.yaml`` and SOPS-encrypted files (one document with a full, valid
``sops`` block; see ``reconciler.secrets.metadata``), which are data. Only regular files are read,
up to a size cap (``reconciler.config.files``). Nothing here raises for bad input: every problem comes back as a
``Diagnostic``, sorted. Parsing is in ``reconciler.config.source`` (libyaml, through PyYAML).
Nothing is cached on disk: a config file may hold a plaintext secret (which lint reports), and no
copy of it may land anywhere else.

Rule ids: SMS001 config dir, SMS002-SMS008 YAML text and SOPS blocks (see ``reconciler.config.source``), SMS010
kind, SMS011 apiVersion, SMS020 schema, SMS021 duplicate resource name. SMS1xx+ are ``reconciler.config.lint.run``'s.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from reconciler.config.describe import describe, show
from reconciler.config.files import find_config_files, read_regular, skipped_diagnostics
from reconciler.config.heap import gc_paused
from reconciler.config.models import API_VERSION, KINDS, Channel, Signature, Template
from reconciler.config.positions import FieldPath, Mark, Positions
from reconciler.config.source import Problem, decode, parse_text
from reconciler.errors import Diagnostic, Severity

T = TypeVar("T")


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
    # Files not read to their end (unreadable, not text, invalid YAML): the resources they define may
    # be missing from ``documents``, so a reference to one is not known to be wrong.
    unread: tuple[str, ...] = ()
    # Files read from ``load_config``'s ``overlay`` instead of the disk (file as shown -> text): lint
    # reads their lines from here too (a draft being edited in ``smsops console``).
    overlay: Mapping[str, str] = field(default_factory=dict)
    signatures: tuple[Located[Signature], ...] = ()

    def signature(self, name: str) -> Located[Signature] | None:
        return next((located for located in self.signatures if located.resource.name == name), None)

    def channel(self, name: str) -> Located[Channel] | None:
        return next((located for located in self.channels if located.resource.name == name), None)

    def templates_for(self, channel_name: str) -> tuple[Located[Template], ...]:
        return tuple(located for located in self.templates if located.resource.targets(channel_name))


def config_files(root: Path) -> list[str]:
    """The config files under ``root``, relative to it, in load order."""
    return find_config_files(root).files


def _header_problem(data: Any) -> tuple[FieldPath, str, str] | None:
    """Why this document is not a Channel or Template of our apiVersion, if it is not."""
    if not isinstance(data, dict):
        return (), "SMS010", "a document must be a mapping with apiVersion and kind"
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:  # a mapping as kind is unhashable
        what = "missing kind" if kind is None else f"unknown kind {show(kind)}"
        return ("kind",), "SMS010", f"{what}; expected Channel, Template or Signature"
    version = data.get("apiVersion")
    if version != API_VERSION:
        what = "missing apiVersion" if version is None else f"unsupported apiVersion {show(version)}"
        return ("apiVersion",), "SMS011", f"{what}; expected {API_VERSION}"
    return None


_HEADER_HINT = (
    f"start the document with 'apiVersion: {API_VERSION}' and 'kind: Channel', 'kind: Template' or 'kind: Signature'"
)


def _check(document: RawDocument, positions: Positions) -> tuple[Any, list[Diagnostic]]:
    """The validated resource, or the diagnostics explaining why there is none."""
    header = _header_problem(document.data)
    if header is not None:
        path, rule, message = header
        return None, [Diagnostic(document.file, *positions.nearest(path), rule, message, _HEADER_HINT)]
    model = KINDS[document.data["kind"]]
    try:
        return model.model_validate(document.data), []
    except ValidationError as error:
        diagnostics = []
        for detail in error.errors(include_url=False):
            problem = describe(detail, model)
            key = positions.key(problem.path) if problem.anchor == "key" else None
            line, column = key or positions.nearest(problem.path)
            diagnostics.append(Diagnostic(document.file, line, column, "SMS020", problem.message, problem.hint))
        return None, diagnostics


def load_config(
    root: Path | str, *, overlay: Mapping[str, str | None] | None = None
) -> tuple[LoadedConfig, list[Diagnostic]]:
    """Load every document under ``root``. Never raises for bad input; see the module docstring.

    ``overlay`` (paths relative to ``root`` -> text, or None for a file taken away) is loaded as if
    it were on disk, so a draft is checked by the very rules that check the saved file; nothing is
    written anywhere."""
    with gc_paused():
        return _load(root, overlay or {})


def _load(root: Path | str, overlay: Mapping[str, str | None]) -> tuple[LoadedConfig, list[Diagnostic]]:
    root_path = Path(root)
    shown_root = os.path.normpath(str(root))
    if not root_path.is_dir():
        why = "does not exist" if not root_path.exists() else "is not a directory"
        hint = "pass the directory holding channels/ and templates/"
        return LoadedConfig(root_path, (), (), (), ()), [
            Diagnostic(shown_root, 0, 0, "SMS001", f"config directory {why}", hint)
        ]

    diagnostics: list[Diagnostic] = []
    channels: list[Located[Channel]] = []
    templates: list[Located[Template]] = []
    signatures: list[Located[Signature]] = []
    documents: list[RawDocument] = []
    files: list[str] = []
    unread: list[str] = []
    first_seen: dict[tuple[str, str], Located[Any]] = {}
    drafts = {os.path.normpath(relative): text for relative, text in overlay.items()}
    found = find_config_files(root_path)
    diagnostics.extend(skipped_diagnostics(shown_root, found))
    on_disk = [relative for relative in found.files if relative not in drafts]
    present = [relative for relative, text in drafts.items() if text is not None]
    shown_drafts: dict[str, str] = {}
    for relative in sorted([*on_disk, *present], key=lambda name: name.split(os.sep)):
        file = os.path.normpath(os.path.join(shown_root, relative))
        draft = drafts.get(relative)
        raw: bytes | None
        if draft is not None:
            shown_drafts[file] = draft
            raw, unreadable = draft.encode("utf-8"), None
        else:
            raw, unreadable = read_regular(root_path / relative, file)
        text, undecodable = decode(raw) if raw is not None else (None, None)
        if text is None:
            files.append(file)
            unread.append(file)
            unusable = unreadable or (Diagnostic(file, *_fields(undecodable)) if undecodable else None)
            diagnostics.extend([unusable] if unusable else [])
            continue
        parsed = parse_text(text)
        if parsed.sops:  # data, not config; only values left in the clear are reported
            diagnostics.extend(Diagnostic(file, *_fields(problem)) for problem in parsed.problems)
            continue
        files.append(file)
        diagnostics.extend(Diagnostic(file, *_fields(problem)) for problem in parsed.problems)
        if any(problem.rule in _UNREAD for problem in parsed.problems):
            unread.append(file)
        for index, (line, column), data in parsed.documents:
            positions = Positions(parsed.nodes[index])
            document = RawDocument(file, index, data, positions)
            documents.append(document)
            resource, problems = _check(document, positions)
            diagnostics.extend(problems)
            if resource is None:
                continue
            located: Located[Any] = Located(resource, file, line, column, positions)
            first = first_seen.setdefault((resource.kind, resource.name), located)
            if first is not located:
                where = f"{first.file}:{first.line}:{first.column}"
                message = f"{resource.kind} '{resource.name}' is defined twice: first at {where}, again here"
                diagnostics.append(
                    Diagnostic(*located.at("metadata", "name"), "SMS021", message, "rename or delete one of them")
                )
            elif isinstance(resource, Channel):
                channels.append(located)
            elif isinstance(resource, Signature):
                signatures.append(located)
            else:
                templates.append(located)

    if not files:
        hint = "add channels/*.yaml and templates/*.yaml"
        diagnostics.append(Diagnostic(shown_root, 0, 0, "SMS001", "no .yaml or .yml config files found", hint))
    config = LoadedConfig(
        root_path,
        tuple(channels),
        tuple(templates),
        tuple(documents),
        tuple(files),
        tuple(unread),
        shown_drafts,
        tuple(signatures),
    )
    return config, sorted(diagnostics)


# Parse problems after which the rest of the file is not read: invalid YAML, a forbidden character.
_UNREAD = ("SMS002", "SMS005")


def _fields(problem: Problem) -> tuple[int, int, str, str, str, Severity]:
    return problem.line, problem.column, problem.rule, problem.message, problem.hint, problem.severity
