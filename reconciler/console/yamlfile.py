"""Round-trip YAML edits of config files: what is not edited keeps its comments, quoting and layout.

ruamel.yaml reads a file into maps that remember their comments and styles; a save changes only the
keys whose values differ and writes every other document of the file back as it was. The digest of
the bytes an editor was opened on travels with the form, and a save whose file no longer has that
digest is refused (``StaleFile``): another tab or person changed it, and overwriting would lose
their work.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from reconciler.errors import SmsopsError

ABSENT = "absent"  # the digest of a file that does not exist (a new template's file)


class StaleFile(SmsopsError):
    """The file changed on disk since the editor loaded it."""


def digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return ABSENT


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line that was not edited
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def load_documents(text: str) -> list[Any]:
    return [doc for doc in _yaml().load_all(text) if doc is not None]


def dump_documents(documents: list[Any]) -> str:
    out = io.StringIO()
    _yaml().dump_all(documents, out)
    return out.getvalue()


def find(documents: list[Any], kind: str, name: str) -> int | None:
    for index, doc in enumerate(documents):
        if isinstance(doc, Mapping) and doc.get("kind") == kind and (doc.get("metadata") or {}).get("name") == name:
            return index
    return None


def merge(target: CommentedMap, wanted: Mapping[str, Any]) -> None:
    """Make ``target`` hold ``wanted`` (None: remove the key), touching only what differs, so an
    unchanged value keeps its comment and style. Strings keep the quoting they had."""
    for key, value in wanted.items():
        if value is None:
            target.pop(key, None)
        elif key in target and _plain(target[key]) == _plain(value):
            continue
        elif isinstance(value, Mapping) and isinstance(target.get(key), CommentedMap):
            merge(target[key], value)
            for gone in [k for k in target[key] if k not in value]:
                del target[key][gone]
        elif isinstance(value, str) and isinstance(target.get(key), DoubleQuotedScalarString):
            target[key] = DoubleQuotedScalarString(value)
        else:
            target[key] = styled(value)


def styled(value: Any) -> Any:
    """Plain data as ruamel nodes in the example config's style: short mappings of scalars and
    lists of scalars in flow style (``{type: code, example: "1"}``, ``[a, b]``)."""
    if isinstance(value, Mapping):
        node = CommentedMap((k, styled(v)) for k, v in value.items())
        if all(not isinstance(v, Mapping | list) for v in value.values()):
            node.fa.set_flow_style()
        return node
    if isinstance(value, list | tuple):
        seq = CommentedSeq(styled(v) for v in value)
        seq.fa.set_flow_style()
        return seq
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value) if isinstance(value, str) else value


def edited_text(path: Path, kind: str, name: str, change: Callable[[CommentedMap | None], CommentedMap | None]) -> str:
    """The file's new text after ``change`` is applied to the ``kind``/``name`` document (None when
    there is none yet); ``change`` returning None takes the document out. "" means no document is left."""
    text = path.read_text(encoding="utf-8-sig") if path.exists() else ""
    documents = load_documents(text)
    index = find(documents, kind, name)
    result = change(documents[index] if index is not None else None)
    if index is None and result is not None:
        documents.append(result)
    elif index is not None and result is None:
        del documents[index]
    elif index is not None:
        documents[index] = result
    return dump_documents(documents) if documents else ""


def write_checked(path: Path, text: str, loaded_digest: str) -> None:
    """Write ``text`` (or delete the file for "") if the file is still what the editor loaded."""
    require_fresh(path, loaded_digest)
    if text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    else:
        path.unlink()


def require_fresh(path: Path, loaded_digest: str) -> None:
    """Raise ``StaleFile`` if ``path`` is no longer what the editor loaded."""
    if digest(path) != loaded_digest:
        raise StaleFile(
            f"{path.name} changed since it was loaded (another tab or person saved it): nothing was written",
            hint="your edits are still in the form: copy them, reload the file, and apply them again",
        )
