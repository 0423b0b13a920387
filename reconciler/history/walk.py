"""``smsops history``: the audit trail of channels and templates, reconstructed from git.

The walk replays the first-parent history of the config directory, oldest commit first, keeping
the parsed state of every file. At each commit the resources of the files it touched are compared
before and after, by identity ``(kind, metadata.name)``: moving a document to another file, renaming
a file or reformatting YAML is not a change. In one commit, a resource that disappears and one of
the same kind that appears in its place (same file and position, or the same spec) is a rename of
``metadata.name``; both names then belong to one resource for ``--channel``/``--template``.

A channel's secret file is followed through its SOPS metadata (``diff_credentials``); where a
value's ciphertext changed and a key is at hand, both revisions are decrypted in memory and compared
by keyed digests only (``values.KeyedValues``), to tell a re-encryption from a new value.

A file that does not parse or validate at some commit keeps its earlier state (with a warning),
so its changes show at the next commit where it is valid again.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from reconciler.errors import SmsopsError
from reconciler.history.diff import FieldChange, SopsMeta, diff_credentials, diff_resources
from reconciler.history.git import BlobReader, CommitInfo, open_repository
from reconciler.history.marks import GateSkip
from reconciler.history.signatures import SignatureFiles, managing
from reconciler.history.state import Doc, Invalid, Key, Tree, channel_targets, parse_file, secret_refs
from reconciler.history.values import KeyedValues
from reconciler.models import Frozen

EventAction = Literal["created", "changed", "renamed", "deleted"]


class ResourceRef(Frozen):
    kind: Literal["Channel", "Template", "Signature"]
    name: str


class Event(Frozen):
    """One resource changed by one commit. ``file`` is repo-relative (where the document is after
    the commit; before it, for a deletion). Created and deleted events list every field set."""

    commit: str
    short: str
    author: str
    email: str
    date: str
    subject: str
    pr: int | None
    resource: ResourceRef
    action: EventAction
    file: str
    changes: tuple[FieldChange, ...]


class History(Frozen):
    config_dir: str
    channel: str | None = None
    template: str | None = None
    events: tuple[Event, ...]
    warnings: tuple[str, ...] = ()
    # history --marks: promotions made without their test-send gate, from the rollout marks (None: not read)
    gate_skips: tuple[GateSkip, ...] | None = None
    # history --marks: why a channel's marks could not be read; its skips are unknown, not none
    marks_unread: tuple[str, ...] = ()

    def summary(self) -> str:
        counts = {action: sum(1 for e in self.events if e.action == action) for action in get_args(EventAction)}
        commits = len({event.commit for event in self.events})
        done = ", ".join(f"{count} {action}" for action, count in counts.items())
        events = "event" if len(self.events) == 1 else "events"
        text = f"{len(self.events)} {events} in {commits} commit{'' if commits == 1 else 's'}: {done}"
        if self.gate_skips is not None:
            text += f"; {len(self.gate_skips)} promotion(s) without their test-send gate"
        return text


# An event not yet tied to its commit: action, the document shown, the one before, field changes.
_Pending = tuple[EventAction, Doc, Doc | None, list[FieldChange]]


@dataclass(frozen=True)
class _Record:
    """An event and the channels its template targeted before or after (None: every channel)."""

    event: Event
    targets: frozenset[str] | None


class _Walk:
    def __init__(self, config: str, blobs: BlobReader, values: KeyedValues | None = None) -> None:
        self.tree = Tree(config)
        self.blobs = blobs
        self.values = values
        self.records: list[_Record] = []
        self.warnings: list[str] = []
        self.parent: dict[Key, Key] = {}  # union-find: names one resource has had
        self.signature_files = SignatureFiles(values)
        self.other: dict[str, bytes | None] = {}  # this commit's files that are not config (encrypted images)

    def group(self, key: Key) -> Key:
        self.parent.setdefault(key, key)
        while self.parent[key] != key:
            key = self.parent[key]
        return key

    def step(self, commit: CommitInfo) -> None:
        """Replay one commit on the tree and record an event per resource it changed in substance."""
        tree = self.tree
        removed, written = self._read(commit)
        touched = removed | set(written)
        keys = {doc.key for path in touched for doc in tree.files.get(path, ())}
        keys |= {doc.key for entry in written.values() if isinstance(entry, tuple) for doc in entry}
        sops_touched = any(path in tree.sops or isinstance(written.get(path), SopsMeta) for path in touched)

        # Apply, remembering the state of everything the commit may have changed.
        before = {key: tree.resolve(key) for key in keys}
        channels_before = tree.channels() if sops_touched else {}
        sops_before = dict(tree.sops)
        for path in removed - set(written):
            tree.remove(path)
        for path, entry in written.items():
            tree.put(path, entry)
        after = {key: tree.resolve(key) for key in keys}

        renamed_from = self._pair_renames(commit, keys, before, after)
        events = self._resource_events(keys, before, after, renamed_from)
        if sops_touched:
            self._secret_events(events, channels_before, sops_before, touched)
        self._signature_file_events(events)
        for key in sorted(events):
            action, shown, old_doc, changes = events[key]
            event = Event(
                commit=commit.sha, short=commit.short, author=commit.author, email=commit.email,
                date=commit.date, subject=commit.subject, pr=commit.pr,
                resource=ResourceRef(kind=shown.resource.kind, name=shown.resource.name),
                action=action, file=shown.file, changes=tuple(changes),
            )  # fmt: skip
            targets_before, targets_after = channel_targets(old_doc), channel_targets(after.get(key))
            targets = None if targets_before is None or targets_after is None else targets_before | targets_after
            if key[0] == "Signature":  # a Signature belongs to the trail of the channels that manage it
                targets = managing(tree.channels().values(), key[1])
            self.records.append(_Record(event, targets))

    def _read(self, commit: CommitInfo) -> tuple[set[str], dict[str, tuple[Doc, ...] | SopsMeta]]:
        """The paths the commit removed, and the parsed content of those it wrote; a file that is
        not valid at this commit keeps its earlier state (with a warning)."""
        tree = self.tree
        removed: set[str] = set()
        written: dict[str, tuple[Doc, ...] | SopsMeta] = {}
        self.other = {}
        for change in commit.changes:
            old = change.old_path if change.status == "R" else None
            if old is not None or change.status == "D":
                removed.add(old or change.path)
                if not tree.wanted(old or change.path):
                    self.other[old or change.path] = None
            if change.status != "D" and not tree.wanted(change.path):
                self.other[change.path] = self.blobs.read(commit.sha, change.stored)
            if change.status == "D" or not tree.wanted(change.path):
                continue
            raw = self.blobs.read(commit.sha, change.stored)
            parsed = parse_file(change.path, raw) if raw is not None else None
            if isinstance(parsed, Invalid):
                self.warnings.append(
                    f"{commit.short}: {change.path} is not valid there ({parsed.reason}); its earlier state is kept"
                )
                earlier = tree.files.get(old or change.path, ())
                parsed = tuple(Doc(d.key, change.path, d.index, d.resource, d.data) for d in earlier)
            if parsed is not None:
                written[change.path] = parsed
            elif tree.files.get(change.path) or change.path in tree.sops:
                removed.add(change.path)  # no longer a config file (e.g. now plain text)
        return removed, written

    def _pair_renames(
        self, commit: CommitInfo, keys: set[Key], before: dict[Key, Doc | None], after: dict[Key, Doc | None]
    ) -> dict[Key, Doc]:
        """Which disappearance each appearance of the same kind renames (same file and position,
        or the same spec), as new key -> old document; the two names join one resource."""
        renames = {c.path: c.old_path for c in commit.changes if c.status == "R" and c.old_path}
        gone = [before[key] for key in sorted(keys) if before[key] is not None and after[key] is None]
        new = [after[key] for key in sorted(keys) if after[key] is not None and before[key] is None]
        renamed_from: dict[Key, Doc] = {}
        for doc in new:
            assert doc is not None
            matches = [
                old
                for old in gone
                if old is not None
                and old.key[0] == doc.key[0]
                and old.key not in {d.key for d in renamed_from.values()}
                and (
                    (renames.get(doc.file, doc.file) == old.file and old.index == doc.index)
                    or old.data["spec"] == doc.data["spec"]
                )
            ]
            if matches:
                renamed_from[doc.key] = matches[0]
                self.parent[self.group(matches[0].key)] = self.group(doc.key)
        return renamed_from

    def _resource_events(
        self,
        keys: set[Key],
        before: dict[Key, Doc | None],
        after: dict[Key, Doc | None],
        renamed_from: dict[Key, Doc],
    ) -> dict[Key, _Pending]:
        """One event per resource that changed in substance (a rename is one event, on the new name)."""
        events: dict[Key, _Pending] = {}
        paired = {doc.key for doc in renamed_from.values()}
        for key in sorted(keys):
            old_doc, new_doc = before[key], after[key]
            self.group(key)
            if key in paired:
                continue
            if key in renamed_from:
                old_doc = renamed_from[key]
            if old_doc is None and new_doc is None:
                continue
            changes = diff_resources(old_doc.data if old_doc else None, new_doc.data if new_doc else None)
            action: EventAction = (
                "created" if old_doc is None else "deleted" if new_doc is None
                else "renamed" if key in renamed_from else "changed"
            )  # fmt: skip
            if changes or action != "changed":
                shown = new_doc or old_doc
                assert shown is not None
                events[key] = (action, shown, old_doc, changes)
        return events

    def _signature_file_events(self, events: dict[Key, _Pending]) -> None:
        """Add to ``events`` the changes of the encrypted files Signatures name (signatures.py)."""
        tree = self.tree
        signatures = [doc for doc in (tree.resolve(key) for key in tree.index if key[0] == "Signature") if doc]
        for key, changes in self.signature_files.changes(signatures, self.other).items():
            if changes:
                doc = tree.resolve(key)
                assert doc is not None
                action, shown, prior, earlier = events.get(key, ("changed", doc, doc, []))
                events[key] = (action, shown, prior, [*earlier, *changes])

    def _secret_events(
        self,
        events: dict[Key, _Pending],
        channels_before: Mapping[Key, Doc],
        sops_before: Mapping[str, SopsMeta],
        touched: set[str],
    ) -> None:
        """Add to ``events`` the secret file changes of channels that exist on both sides, seen
        through their SOPS metadata only."""
        tree = self.tree
        for key, now in tree.channels().items():
            earlier_channel = channels_before.get(key)
            if earlier_channel is None:
                continue
            old_refs = {field: (path, keys_) for field, path, keys_ in secret_refs(earlier_channel)}
            # Recipients belong to the file: one file for credentials and test recipients says them once.
            recipients_said: set[tuple[str, str]] = set()
            for field, path, secret_keys in secret_refs(now):
                if field not in old_refs or not ({path, old_refs[field][0]} & touched):
                    continue
                secret_changes = diff_credentials(
                    sops_before.get(old_refs[field][0]), tree.sops.get(path), secret_keys,
                    field=field, values=self.values, name=path,
                )  # fmt: skip
                if (old_refs[field][0], path) in recipients_said:
                    secret_changes = [c for c in secret_changes if c.field != f"{field}.recipients"]
                recipients_said.add((old_refs[field][0], path))
                if not secret_changes:
                    continue
                action, shown, prior, changes = events.get(key, ("changed", now, earlier_channel, []))
                events[key] = (action, shown, prior, [*changes, *secret_changes])

    def names(self, kind: str, name: str) -> set[str]:
        """Every name the resource called ``name`` has had (empty if it never existed)."""
        if (kind, name) not in self.parent:
            return set()
        root = self.group((kind, name))
        return {key[1] for key in self.parent if key[0] == kind and self.group(key) == root}

    def known(self, kind: str) -> list[str]:
        return sorted({key[1] for key in self.parent if key[0] == kind})


def _unknown(kind: str, name: str, known: list[str], config_dir: str) -> SmsopsError:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    listed = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "") if known else "none"
    return SmsopsError(
        f"no {kind.lower()} named {name!r} in the git history of {config_dir}",
        hint=f"{hint}known {kind.lower()}s: {listed}",
    )


def _selected(records: Iterable[_Record], walk: _Walk, channel: str | None, template: str | None,
              config_dir: str) -> list[Event]:  # fmt: skip
    if channel is None and template is None:
        return [record.event for record in records]
    kind, name = ("Channel", channel) if channel is not None else ("Template", template)
    assert name is not None
    names = walk.names(kind, name)
    if not names:
        raise _unknown(kind, name, walk.known(kind), config_dir)
    chosen: list[Event] = []
    for record in records:
        resource = record.event.resource
        own = resource.kind == kind and resource.name in names
        # A template with no channels list goes to every channel, so it is part of each one's trail.
        targeting = kind == "Channel" and (
            (resource.kind == "Template" and (record.targets is None or record.targets & names))
            or (resource.kind == "Signature" and bool(record.targets and record.targets & names))
        )
        if own or targeting:
            chosen.append(record.event)
    return chosen


def collect_history(
    config_dir: Path | str,
    *,
    channel: str | None = None,
    template: str | None = None,
    newest_first: bool = True,
    environ: Mapping[str, str] = os.environ,
) -> History:
    """The audit trail of ``config_dir`` from git; with ``channel``, that channel's events and those
    of templates targeting it; with ``template``, that template's. Raises SmsopsError for a path
    outside a git work tree or a name that never existed."""
    if channel is not None and template is not None:
        raise SmsopsError("pass --channel or --template, not both", hint="run history once for each")
    repository = open_repository(config_dir, environ=environ)
    with repository.blobs() as blobs:
        walk = _Walk(repository.config, blobs, KeyedValues.from_environment(environ))
        for commit in repository.commits():
            walk.step(commit)
    events = _selected(walk.records, walk, channel, template, str(config_dir))
    if newest_first:
        events.reverse()  # commits newest first; resources within a commit stay in name order
        events = _regroup(events)
    return History(
        config_dir=str(config_dir),
        channel=channel,
        template=template,
        events=tuple(events),
        warnings=tuple(walk.warnings),
    )


def _regroup(events: list[Event]) -> list[Event]:
    """Reverse commit order without reversing the (kind, name) order inside each commit."""
    order: dict[str, list[Event]] = {}
    for event in events:
        order.setdefault(event.commit, []).append(event)
    return [event for group in order.values() for event in reversed(group)]
