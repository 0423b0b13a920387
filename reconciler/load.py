"""Config files -> resources with source positions, and a diagnostic for everything that is wrong.

Every ``*.yaml``/``*.yml`` under the config dir (sorted, recursive, hidden directories skipped) is a
config file, except ``.sops.yaml`` and SOPS-encrypted files (a top-level ``sops`` mapping with a
``mac``), which are data. Nothing here raises for bad input: every problem comes back as a
``Diagnostic``, sorted. Parsing is in ``reconciler.model.source`` (plain config text is read by
``reconciler.model.plainyaml``, everything else by libyaml). Results are also cached by content
digest (see ``_Cache``); the cache only ever saves time (about 0.4 s for 5,000 templates) and
``SMSOPS_NO_CACHE=1`` turns it off.

Rule ids: SMS001 config dir, SMS002-SMS006 YAML text (see ``reconciler.model.source``), SMS010
kind, SMS011 apiVersion, SMS020 schema, SMS021 duplicate resource name. SMS1xx+ are ``reconciler.lint``'s.
"""

from __future__ import annotations

import gc
import hashlib
import marshal
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import ValidationError

from reconciler.errors import Diagnostic, Severity
from reconciler.model import plainyaml, source
from reconciler.model.resources import API_VERSION, KINDS, Channel, Template
from reconciler.model.source import FieldPath, Mark, ParsedText, Positions, Problem, Reparse, decode, parse_text

T = TypeVar("T")


def _cache_version() -> str:
    """Cache entries are valid for this Python (marshal format), this PyYAML and libyaml (their
    resolver and error messages) and this exact parsing code: any edit to the modules that produce
    them retires every entry, with nobody having to remember a version bump."""
    digest = hashlib.blake2b(digest_size=8)
    for module in (source, plainyaml, sys.modules[__name__]):
        digest.update(Path(str(module.__file__)).read_bytes())
    libyaml = yaml._yaml.get_version_string() if getattr(yaml, "__with_libyaml__", False) else "none"
    return f"python-{sys.version}/pyyaml-{yaml.__version__}/libyaml-{libyaml}/{digest.hexdigest()}"


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


class _Cache:
    """Parse results keyed by the file's content digest, one marshal file per config root.

    marshal holds only plain data (it cannot run code on load, unlike pickle); a document whose
    data it cannot hold (a YAML timestamp) simply is not cached. Any failure to read or write the
    cache falls back to parsing: the cache only ever saves time.
    """

    def __init__(self, root: Path, environ: Mapping[str, str]) -> None:
        self.path: Path | None = None
        self.version = ""
        self.entries: dict[str, Any] = {}
        self.dirty = False
        if environ.get("SMSOPS_NO_CACHE"):
            return
        base = environ.get("SMSOPS_CACHE_DIR") or os.path.join(
            environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "smsops"
        )
        key = hashlib.blake2b(str(root.resolve()).encode(), digest_size=8).hexdigest()
        self.path = Path(base) / f"load-{key}.marshal"
        self.version = _cache_version()
        try:
            stored = marshal.loads(self.path.read_bytes())
            if isinstance(stored, dict) and stored.get("version") == self.version:
                self.entries = stored["files"]
        except (OSError, ValueError, EOFError, TypeError, KeyError):
            pass

    def parse(self, relative: str, text: str, raw: bytes) -> ParsedText:
        """The parse of ``text``; one from the cache has no nodes (positions re-parse on demand)."""
        digest = hashlib.blake2b(raw, digest_size=16).hexdigest()
        entry = self.entries.get(relative)
        if entry is not None and entry[0] == digest:
            try:
                return self._decode(entry[1])
            except (TypeError, ValueError):  # an entry of another shape: parse instead
                pass
        parsed = parse_text(text)
        payload = (
            parsed.sops,
            [(index, mark[0], mark[1], data) for index, mark, data in parsed.documents],
            [(p.line, p.column, p.rule, p.message, p.hint, p.severity.value) for p in parsed.problems],
        )
        try:
            marshal.dumps(payload)
        except ValueError:
            self.entries.pop(relative, None)
        else:
            self.entries[relative] = (digest, payload)
        self.dirty = True
        return parsed

    @staticmethod
    def _decode(payload: Any) -> ParsedText:
        sops, documents, problems = payload
        parsed = ParsedText([(i, (line, col), data) for i, line, col, data in documents], {}, [], bool(sops))
        parsed.problems = [
            Problem(line, col, rule, msg, hint, Severity(sev)) for line, col, rule, msg, hint, sev in problems
        ]
        return parsed

    def save(self, present: set[str]) -> None:
        stale = set(self.entries) - present
        if self.path is None or not (self.dirty or stale):
            return
        files = {name: entry for name, entry in self.entries.items() if name in present}
        temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            temporary.write_bytes(marshal.dumps({"version": self.version, "files": files}))
            os.replace(temporary, self.path)
        except (OSError, ValueError):  # unwritable or full: validate does not depend on the cache
            with suppress(OSError):
                temporary.unlink(missing_ok=True)


def _config_files(root: Path) -> list[str]:
    found: list[str] = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = [name for name in dirnames if not name.startswith(".")]
        relative = os.path.relpath(directory, root)
        for name in filenames:
            if name.endswith((".yaml", ".yml")) and name != ".sops.yaml":
                found.append(os.path.normpath(os.path.join(relative, name)))
    return sorted(found, key=lambda name: name.split(os.sep))


def _header_problem(data: Any) -> tuple[FieldPath, str, str] | None:
    """Why this document is not a Channel or Template of our apiVersion, if it is not."""
    if not isinstance(data, dict):
        return (), "SMS010", "a document must be a mapping with apiVersion and kind"
    kind = data.get("kind")
    if kind not in KINDS:
        what = "missing kind" if kind is None else f"unknown kind {kind!r}"
        return ("kind",), "SMS010", f"{what}; expected Channel or Template"
    version = data.get("apiVersion")
    if version != API_VERSION:
        what = "missing apiVersion" if version is None else f"unsupported apiVersion {version!r}"
        return ("apiVersion",), "SMS011", f"{what}; expected {API_VERSION}"
    return None


_HEADER_HINT = f"start the document with 'apiVersion: {API_VERSION}' and 'kind: Channel' or 'kind: Template'"


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
        from reconciler.model.describe import describe  # only a broken document pays for difflib

        diagnostics = []
        for detail in error.errors(include_url=False):
            problem = describe(detail, model)
            key = positions.key(problem.path) if problem.anchor == "key" else None
            line, column = key or positions.nearest(problem.path)
            diagnostics.append(Diagnostic(document.file, line, column, "SMS020", problem.message, problem.hint))
        return None, diagnostics


def _read(path: Path, file: str) -> tuple[bytes | None, Diagnostic | None]:
    try:
        return path.read_bytes(), None
    except OSError as error:
        reason = error.strerror or str(error)
        if isinstance(error, FileNotFoundError) and path.is_symlink():
            reason = "broken symbolic link"
        elif path.is_dir():
            reason = "it is a directory"
        return None, Diagnostic(file, 1, 1, "SMS005", f"cannot read file: {reason}", "check the path and permissions")


def load_config(root: Path | str, *, environ: Mapping[str, str] = os.environ) -> tuple[LoadedConfig, list[Diagnostic]]:
    """Load every document under ``root``. Never raises for bad input; see the module docstring.
    ``environ``: SMSOPS_CACHE_DIR (default $XDG_CACHE_HOME/smsops) and SMSOPS_NO_CACHE."""
    with gc_paused():
        return _load(root, environ)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Loading allocates hundreds of thousands of acyclic objects (nodes, dicts, models); each
    allocation burst triggers collections that rescan the whole growing heap and cost more than
    the parse itself (measured: 4.5 s -> 2.0 s CPU for 5,000 templates). Pausing frees nothing
    late: these objects hold no reference cycles.

    On the way out everything allocated meanwhile (still in the youngest generation) is moved to
    the oldest one: otherwise the first collection after ``gc.enable`` scans it all at once (and
    the next generation's does again). freeze + unfreeze is that move, two list splices."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def _load(root: Path | str, environ: Mapping[str, str]) -> tuple[LoadedConfig, list[Diagnostic]]:
    root_path = Path(root)
    shown_root = os.path.normpath(str(root))
    if not root_path.is_dir():
        why = "does not exist" if not root_path.exists() else "is not a directory"
        hint = "pass the directory holding channels/ and templates/"
        return LoadedConfig(root_path, (), (), (), ()), [
            Diagnostic(shown_root, 0, 0, "SMS001", f"config directory {why}", hint)
        ]

    cache = _Cache(root_path, environ)
    diagnostics: list[Diagnostic] = []
    channels: list[Located[Channel]] = []
    templates: list[Located[Template]] = []
    documents: list[RawDocument] = []
    files: list[str] = []
    first_seen: dict[tuple[str, str], Located[Any]] = {}
    relatives = _config_files(root_path)
    for relative in relatives:
        file = os.path.normpath(os.path.join(shown_root, relative))
        raw, unreadable = _read(root_path / relative, file)
        text, undecodable = decode(raw) if raw is not None else (None, None)
        if text is None or raw is None:
            files.append(file)
            problem = unreadable or (Diagnostic(file, *_fields(undecodable)) if undecodable else None)
            diagnostics.extend([problem] if problem else [])
            continue
        parsed = cache.parse(relative, text, raw)
        if parsed.sops:
            continue
        files.append(file)
        diagnostics.extend(Diagnostic(file, *_fields(problem)) for problem in parsed.problems)
        reparse = Reparse(text)
        for index, (line, column), data in parsed.documents:
            node = parsed.nodes.get(index)
            positions = Positions(node if node is not None else partial(reparse.node, index))
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
            else:
                templates.append(located)
    cache.save(set(relatives))

    if not files:
        hint = "add channels/*.yaml and templates/*.yaml"
        diagnostics.append(Diagnostic(shown_root, 0, 0, "SMS001", "no .yaml or .yml config files found", hint))
    config = LoadedConfig(root_path, tuple(channels), tuple(templates), tuple(documents), tuple(files))
    return config, sorted(diagnostics)


def _fields(problem: Problem) -> tuple[int, int, str, str, str, Severity]:
    return problem.line, problem.column, problem.rule, problem.message, problem.hint, problem.severity
