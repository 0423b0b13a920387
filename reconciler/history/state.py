"""The parsed state of a config directory during the ``smsops history`` walk: per file, its
validated documents or its SOPS metadata, and an index from ``(kind, name)`` to documents.

Files are selected by the loader's rules (``reconciler.config.load``) and parsed with the same YAML
parser (``reconciler.config.source``), so history sees what ``validate`` sees.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from reconciler.config.models import API_VERSION, KINDS, Channel, Signature, Template
from reconciler.config.source import decode, parse_text
from reconciler.errors import Severity
from reconciler.history.diff import SopsMeta, sops_meta
from reconciler.history.git import config_file

Key = tuple[str, str]  # (kind, metadata.name)


@dataclass(frozen=True)
class Doc:
    key: Key
    file: str
    index: int
    resource: Channel | Template | Signature
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Invalid:
    reason: str


Parsed = tuple[Doc, ...] | SopsMeta | Invalid | None  # None: not a config file (ignored)


def _document_error(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "a document is not a mapping"
    if not isinstance(data.get("kind"), str) or data.get("kind") not in KINDS:
        return f"unknown kind {data.get('kind')!r}"
    if data.get("apiVersion") != API_VERSION:
        return f"unsupported apiVersion {data.get('apiVersion')!r}"
    return None


def parse_file(path: str, raw: bytes) -> Parsed:
    """The resources of one file's content (or its SOPS metadata), or why it is not usable."""
    text, undecodable = decode(raw)
    if text is None:
        return Invalid(undecodable.message if undecodable else "not UTF-8 text")
    parsed = parse_text(text)
    if parsed.sops:
        return sops_meta(text)
    errors = [p for p in parsed.problems if p.severity is Severity.ERROR]
    if errors:
        return Invalid(f"line {errors[0].line}: {errors[0].message}")
    docs: list[Doc] = []
    for index, (line, _column), data in parsed.documents:
        problem = _document_error(data)
        if problem:
            return Invalid(f"line {line}: {problem}")
        try:
            resource = KINDS[data["kind"]].model_validate(data)
        except ValidationError as error:
            detail = error.errors(include_url=False)[0]
            where = ".".join(str(part) for part in detail["loc"])
            return Invalid(f"line {line}: {where}: {detail['msg']}")
        dumped = resource.model_dump(mode="json", by_alias=True)
        docs.append(Doc((resource.kind, resource.name), path, index, resource, dumped))
    return tuple(docs)


class Tree:
    """The parsed state of the config directory at one commit."""

    def __init__(self, config: str) -> None:
        self.config = config
        self.files: dict[str, tuple[Doc, ...]] = {}
        self.sops: dict[str, SopsMeta] = {}
        self.index: dict[Key, dict[str, Doc]] = {}

    def wanted(self, path: str) -> bool:
        """A config or SOPS file by the loader's rules: .yaml/.yml, not .sops.yaml, no hidden directory."""
        relative = path if self.config == "." else posixpath.relpath(path, self.config)
        return not relative.startswith("../") and config_file(relative)

    def resolve(self, key: Key) -> Doc | None:
        """The document defining ``key``; with duplicates (a lint error) the first by file path."""
        found = self.index.get(key)
        return found[min(found)] if found else None

    def remove(self, path: str) -> None:
        self.sops.pop(path, None)
        for doc in self.files.pop(path, ()):
            self.index[doc.key].pop(path, None)

    def put(self, path: str, entry: tuple[Doc, ...] | SopsMeta) -> None:
        self.remove(path)
        if isinstance(entry, SopsMeta):
            self.sops[path] = entry
            return
        self.files[path] = entry
        for doc in entry:
            self.index.setdefault(doc.key, {})[path] = doc

    def channels(self) -> dict[Key, Doc]:
        found = (self.resolve(key) for key in self.index if key[0] == "Channel")
        return {doc.key: doc for doc in found if doc is not None}


def secret_refs(doc: Doc) -> list[tuple[str, str, tuple[str, ...]]]:
    """(field, repo-relative SOPS path, keys used) for each secret a channel refers to."""
    channel = doc.resource
    assert isinstance(channel, Channel)
    refs: list[tuple[str, str, tuple[str, ...]]] = []
    folder = posixpath.dirname(doc.file)
    if channel.spec.credentials is not None:
        credentials = channel.spec.credentials
        path = posixpath.normpath(posixpath.join(folder, credentials.sops))
        refs.append(("credentials", path, (credentials.access_key_id, credentials.access_key_secret)))
    if channel.spec.test_send is not None:
        recipients = channel.spec.test_send.recipients
        refs.append(
            ("testSend.recipients", posixpath.normpath(posixpath.join(folder, recipients.sops)), (recipients.key,))
        )
    return refs


def channel_targets(doc: Doc | None) -> frozenset[str] | None:
    if doc is None or not isinstance(doc.resource, Template):
        return frozenset()
    channels = doc.resource.spec.channels
    return None if channels is None else frozenset(channels)
