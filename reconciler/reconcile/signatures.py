"""Signatures as code: a channel's ``kind: Signature`` from git to an approved provider signature.

Desired: the Signature document's block for the channel's provider API (sender-ID providers: the
entry of the channel's country) and its files, decrypted in memory (``reconciler.secrets.sops``) and
known to plans only by sha256. ``digest`` covers the settings and the files' digests, not the paths
nor the ciphertext, so re-encrypting a file changes nothing.

Plan rules for one channel's signature (``plan_signature``), in order:
- not at the provider: ``create`` (review follows); templates wait;
- pending or rejected, and git differs from what was submitted (the ``smsops-signature`` mark, or
  a setting the provider reports back): ``update`` in place where the provider allows it in that
  state (resubmits for review); rejected and unchanged: shown with the provider's reason;
- approved and unchanged: ready, templates go ahead; approved, not submitted by smsops (adopted)
  and never seen approved before: ``record`` its baseline (``reconciler.reconcile.baseline``: what
  the provider does not return, compared with git from then on), a visible row, no provider call;
- approved and changed: ``update`` when every changed setting is one the provider can change by
  API (its ``signature_mutable`` trait), else a blocker that says what to do (its
  ``signature_immutable`` trait).
"Changed" is a setting the provider reports back that differs from git (adopted or not), or git's
digest against the mark: what was submitted (``smsops-signature``) or, for an adopted signature,
the baseline (``smsops-baseline``, of the fields the provider does not return).
While the signature is not approved, nothing is created or rewritten against it: template changes
become ``noop`` with ``waits_for`` naming the signature.

Deleting (``retire_signatures``): a signature smsops registered for the channel (its mark) that the
channel no longer manages is deleted only with ``rollout.prune``, and only when nothing needs it: no
channel in git sends with it, the channel's published config no longer names it (the application
sends with what that names), it is not under review, and (AWS) its deletion protection is off. Each
reason to keep it is shown on its row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretBytes

from reconciler.config.load import LoadedConfig, Located
from reconciler.config.models import Channel
from reconciler.config.signature import EncryptedFile
from reconciler.errors import ConfigError, SmsopsError
from reconciler.providers.base import (
    ObservedSignature,
    ReviewStatus,
    SignatureFile,
    SignatureRequest,
    Signing,
)
from reconciler.providers.traits import traits
from reconciler.reconcile.baseline import BASELINE, Hidden, hidden
from reconciler.reconcile.changes import Action, Blocker, Change, ChannelObservation, ChannelPlan, DesiredChannel
from reconciler.reconcile.rollout import MarkStore
from reconciler.secrets.sops import decrypt_binary

SIGNED = "smsops-signature"  # mark: digest of the settings and files last submitted for review
DELETED = "deleted"  # the SIGNED mark of a signature smsops deleted: no longer its own
NO_ID = ("", "0")  # how git and providers say "no id" (a qualification, a record id)
MARK_PREFIX = "signature:"  # marks-document key of a signature (template marks are keyed by code)
# The way out when git was corrected to what the provider already had (not a change to make).
REBASELINE = (
    "if git now says what the provider already had (a correction, not a change), delete the "
    "'signature:{name}' entry of the channel's marks document (beside its published config): the next "
    "apply records a new baseline"
)


def mark_key(name: str) -> str:
    return f"{MARK_PREFIX}{name}"


def _files(settings: BaseModel, prefix: tuple[str, ...] = ()) -> list[tuple[str, EncryptedFile]]:
    """Every encrypted file of a block, with its field path as the document writes it."""
    found: list[tuple[str, EncryptedFile]] = []
    for attribute, info in type(settings).model_fields.items():
        value = getattr(settings, attribute)
        alias = info.alias or attribute
        items = list(enumerate(value)) if isinstance(value, tuple) else [(None, value)]
        for index, item in items:
            path = (*prefix, alias) if index is None else (*prefix, alias, str(index))
            if isinstance(item, EncryptedFile):
                found.append((".".join(path), item))
    return found


def _digest(settings: BaseModel, files: Iterable[SignatureFile]) -> str:
    data = settings.model_dump(mode="json", by_alias=True)
    data["files"] = {f.field: f.sha256 for f in files}
    return hashlib.sha256(json.dumps(_without_paths(data), sort_keys=True).encode()).hexdigest()[:16]


def _without_paths(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _without_paths(v) for k, v in data.items() if k != "sops"}
    if isinstance(data, list):
        return [_without_paths(v) for v in data]
    return data


def desired_signature(
    config: LoadedConfig, located: Located[Channel], *, environ: Mapping[str, str] | None = None
) -> SignatureRequest | None:
    """The signature ``located`` manages (``spec.signature.managed``), files decrypted in memory; None
    when the channel's signature is managed by hand."""
    spec = located.resource.spec
    name = spec.signature.managed
    if name is None:
        return None
    document = config.signature(name)
    block = document.resource.spec.for_api(traits(spec.provider).api) if document is not None else None
    if document is None or block is None:
        raise ConfigError(
            f"channel {located.resource.name}: no usable Signature '{name}'", hint="run `smsops validate`"
        )
    senders = getattr(block, "sender_ids", None)
    if senders is not None:  # sender-ID providers: one request per country, the channel's
        country = spec.signature.country
        block = block.model_copy(update={"sender_ids": tuple(s for s in senders if s.country == country)})
    files = []
    for path, ref in _files(block):
        source = document.resolve(ref.sops)
        content = decrypt_binary(source, environ=environ)
        digest = hashlib.sha256(content.get_secret_value()).hexdigest()
        shown = Path(source).relative_to(config.root) if Path(source).is_relative_to(config.root) else Path(source)
        files.append(SignatureFile(field=path, path=str(shown), suffix=ref.suffix, sha256=digest, content=content))
    return SignatureRequest(
        name=document.resource.spec.name, settings=block, files=tuple(files), digest=_digest(block, files)
    )


def reported(request: SignatureRequest) -> dict[str, str]:
    """The request's scalar settings keyed by their leaf name, valued as adapters report them back
    (``ObservedSignature.settings``), so a difference the provider can see is found without a mark."""
    flat: dict[str, str] = {}

    def walk(value: Any, key: str) -> None:
        if isinstance(value, dict):
            for inner, item in value.items():
                walk(item, inner)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                walk(item, key)
        elif isinstance(value, list):
            flat[key] = ",".join(sorted(str(v) for v in value))
        elif isinstance(value, bool):
            flat[key] = "true" if value else "false"
        elif value is not None:
            flat[key] = str(value)

    walk(request.settings.model_dump(mode="json", by_alias=True), "")
    return flat


@dataclass
class SignaturePlan:
    """The signature's change (if any), why templates must wait (empty: they need not), and what to show."""

    change: Change
    waits: str = ""
    blockers: list[Blocker] = field(default_factory=list)
    attention: list[Blocker] = field(default_factory=list)


def changed_settings(request: SignatureRequest, observed: ObservedSignature) -> list[str]:
    """The fields the provider reports that differ from git; one git leaves unset counts as "" (none),
    and an id of "0" is none too on either side (``import`` writes "0" for a required id the provider
    reports unset: a signature registered before qualifications were required)."""
    wanted = reported(request)
    return sorted(key for key, value in observed.settings.items() if not _same(key, wanted.get(key, ""), value))


def _same(key: str, wanted: str, seen: str) -> bool:
    return wanted == seen or (key.endswith("Id") and wanted in NO_ID and seen in NO_ID)


def plan_signature(
    channel: str, provider: str, request: SignatureRequest, observed: ObservedSignature | None
) -> SignaturePlan:
    """The rules of the module docstring for one channel's managed signature."""
    own = traits(provider)
    address = f"{channel}/signature/{request.name}"

    def change(action: Action, reason: str, baseline: str = "") -> Change:
        status = observed.status if observed is not None else None
        return Change(
            action=action,
            channel=channel,
            template="",
            address=address,
            reason=reason,
            signature=request,
            signature_status=status,
            baseline=baseline,
        )

    if observed is None:
        return SignaturePlan(change(Action.CREATE, own.signature_created), waits="to be created")
    submitted = observed.tags.get(SIGNED)
    submitted = None if submitted == DELETED else submitted  # deleted by smsops, made again by hand
    fields = changed_settings(request, observed)
    unseen = hidden(request, observed)
    baseline = observed.tags.get(BASELINE) if submitted is None else None
    moved = submitted != request.digest if submitted is not None else bool(baseline and baseline != unseen.digest)
    differs = bool(fields) or moved
    status = observed.status
    if status is ReviewStatus.APPROVED and not differs:
        if submitted is None and baseline is None and unseen:
            return SignaturePlan(change(Action.RECORD, _recorded(unseen), baseline=unseen.digest))
        return SignaturePlan(change(Action.NOOP, "approved"))
    if status is ReviewStatus.APPROVED:
        if fields and set(fields) <= set(own.signature_mutable) and not (baseline and moved):
            return SignaturePlan(
                change(Action.UPDATE, f"approved; {', '.join(fields)} changed: {own.signature_updated}")
            )
        what = [f"{', '.join(fields)} changed in git"] if fields else []
        if not fields and not baseline:
            what = ["its settings or files changed in git"]
        hint = own.signature_immutable
        if baseline and moved:
            what.append(
                f"{' or '.join(unseen.fields)} changed in git since its baseline was recorded "
                "(the provider does not return them)"
            )
            hint += f"; {REBASELINE.format(name=request.name)}"
        blocker = Blocker(
            channel=channel,
            code="signature-immutable",
            message=f"signature '{request.name}' is approved, and {'; and '.join(what)}",
            hint=hint,
        )
        return SignaturePlan(change(Action.NOOP, "approved; the change in git cannot be made"), blockers=[blocker])
    state = f"{status.value}" + (f": {observed.reason}" if observed.reason else "")
    if status is ReviewStatus.REJECTED and submitted is None and not baseline and status in own.signature_updatable:
        # Submitted outside smsops (by hand, or before it was adopted): what the provider rejected is
        # unknown, so git's document is the fix; from then on the mark says what was submitted.
        return SignaturePlan(
            change(Action.UPDATE, f"{state}; submitted outside smsops: resubmitted in place from git"),
            waits=status.value,
        )
    if differs and status in own.signature_updatable:
        return SignaturePlan(change(Action.UPDATE, f"{state}; resubmitted in place"), waits=status.value)
    if status is ReviewStatus.PENDING:
        return SignaturePlan(change(Action.NOOP, "awaiting provider review"), waits="pending review")
    notice = Blocker(
        channel=channel,
        code=f"signature-{status.value}",
        message=f"signature '{request.name}' was {status.value} by the provider: {observed.reason or 'no reason'}",
        hint="fix the Signature document (its settings or files) and commit: apply resubmits it in place",
    )
    return SignaturePlan(change(Action.NOOP, state), waits=status.value, attention=[notice])


def _recorded(unseen: Hidden) -> str:
    return (
        f"approved, not submitted by smsops: baseline recorded (the provider does not return "
        f"{', '.join(unseen.fields)}); later edits are compared to it"
    )


def with_signature(planned: ChannelPlan, desired: DesiredChannel, observed: ObservedSignature | None) -> ChannelPlan:
    """``planned`` (the channel's template plan) with its managed signature's change first, its
    template changes held while the signature is not approved, and what to show about it."""
    request = desired.managed_signature
    if desired.signature_unreadable is not None:  # its files could not be decrypted: nothing to go on
        kept = [b for b in planned.blockers if not b.code.startswith("signature-")]
        held = hold_templates(planned.changes, desired.signature, "its files cannot be decrypted")
        return planned.model_copy(update={"changes": tuple(held), "blockers": (*kept, desired.signature_unreadable)})
    if request is None or any(b.code == "observe-failed" for b in planned.blockers):
        return planned
    signature = plan_signature(desired.name, desired.provider, request, observed)
    changes = list(planned.changes)
    if signature.waits:
        changes = hold_templates(changes, request.name, signature.waits)
    # The hand-managed signature's blockers (missing, pending, rejected) are this plan's to say.
    kept = [b for b in planned.blockers if not b.code.startswith("signature-")]
    return planned.model_copy(
        update={
            "changes": (signature.change, *changes),
            "blockers": (*kept, *signature.blockers),
            "attention": (*planned.attention, *signature.attention),
        }
    )


def retired_signatures(
    provider: object, kept: dict[str, dict[str, str]], current: str
) -> tuple[ObservedSignature, ...]:
    """The signatures smsops registered for this channel (their marks in ``kept``) other than
    ``current``, as the provider has them now; one the provider no longer has is left out."""
    names = sorted(
        key.removeprefix(MARK_PREFIX)
        for key, marks in kept.items()
        if key.startswith(MARK_PREFIX) and marks.get(SIGNED) not in (None, DELETED)
    )
    if not isinstance(provider, Signing):
        return ()
    found = ((name, provider.read_signature(name)) for name in names if name != current)
    return tuple(s.model_copy(update={"tags": kept[mark_key(name)]}) for name, s in found if s is not None)


def retire_signatures(desired: DesiredChannel, observed: ChannelObservation) -> tuple[list[Change], list[Blocker]]:
    """A row per signature the channel no longer manages: delete, or why it is kept; and what needs
    a person: with prune on, one that only its deletion protection keeps (else it stays forever,
    unremarked)."""
    rows, attention = [], []
    for old in observed.retired_signatures:
        users = observed.signature_users.get(old.name, ())
        if users:
            why = f"kept: channel(s) {', '.join(users)} in git send with it"
        elif observed.published_signature == old.name:
            why = "kept: the published config still names it (the application sends with it) until the next publish"
        elif old.status is ReviewStatus.PENDING:
            why = "kept: under review; deleted once reviewed"
        elif old.settings.get("deletionProtection") == "true":
            why = "kept: deletion protection is on (UpdateSenderId DeletionProtectionEnabled=false releases it)"
            if desired.prune:
                attention.append(
                    Blocker(
                        channel=desired.name,
                        code="signature-protected",
                        message=f"signature '{old.name}' is no longer used, but its deletion protection keeps it",
                        hint="to release it, set deletionProtection: false in its Signature document and apply "
                        "before removing the document (or turn protection off at the provider); to keep it, "
                        "nothing to do",
                    )
                )
        elif not desired.prune:
            why = "kept: no longer used; rollout.prune is off"
        else:
            why = ""
        rows.append(
            Change(
                action=Action.DELETE if not why else Action.NOOP,
                channel=desired.name,
                template="",
                address=f"{desired.name}/signature/{old.name}",
                reason=why or "no longer used by any channel: deleted (prune)",
                signature_status=old.status,
                retired_signature=old,
            )
        )
    return rows, attention


def hold_templates(changes: Iterable[Change], name: str, why: str) -> list[Change]:
    """Template changes while the signature is not approved: nothing is created, rewritten or
    promoted against it; each says what it waits for."""
    # Publishing too: the application would send with a signature the provider does not accept.
    held = (Action.CREATE, Action.UPDATE, Action.PROMOTE, Action.RENAME, Action.PUBLISH)
    return [
        c.model_copy(
            update={
                "action": Action.NOOP,
                "waits_for": f"signature {name}",
                "reason": f"waits for signature '{name}' ({why}): {c.action.value} once it is approved",
            }
        )
        if c.action in held and c.signature is None
        else c
        for c in changes
    ]


def apply_signature(provider: object, change: Change, *, marks: Sequence[MarkStore], config_dir: str) -> str:
    """Run one planned signature change and remember what was submitted in ``marks``: the stores
    of every channel sharing the signature, in name order (the order observing reads them in).
    Files the plan carries only by digest (a saved plan) are decrypted now and must still have
    that digest."""
    if not isinstance(provider, Signing):
        raise SmsopsError(f"{change.address}: this provider cannot register signatures")
    if change.retired_signature is not None:
        return _delete(provider, change, marks)
    request = change.signature
    assert request is not None, "a signature change carries its request"
    if change.action is Action.RECORD:  # nothing goes to the provider: smsops remembers what git said
        if not marks:
            raise SmsopsError(
                f"{change.address}: no place to keep the signature's baseline",
                hint="give the channel a publish target (spec.publish)",
            )
        _mark(marks, request.name, {BASELINE: change.baseline})
        return request.name
    request = request.model_copy(update={"files": tuple(_decrypted(f, config_dir) for f in request.files)})
    if change.action is Action.CREATE:
        provider.create_signature(request)
    else:
        observed = provider.read_signature(request.name)
        if observed is None:
            raise SmsopsError(f"{change.address}: the signature is gone at the provider", hint="plan again")
        provider.update_signature(observed, request)
    _mark(marks, request.name, {SIGNED: request.digest})
    return request.name


def _mark(stores: Sequence[MarkStore], name: str, marks: dict[str, str]) -> None:
    for store in stores:
        store.write(mark_key(name), marks)


def _delete(provider: Signing, change: Change, marks: Sequence[MarkStore]) -> str:
    retired = change.retired_signature
    assert retired is not None and change.action is Action.DELETE
    current = provider.read_signature(retired.name)
    if current is not None:  # already gone: nothing to do but forget it
        provider.delete_signature(current)
    _mark(marks, retired.name, {SIGNED: DELETED})
    return retired.name


def _decrypted(planned: SignatureFile, config_dir: str) -> SignatureFile:
    if planned.content is not None:
        return planned
    content = decrypt_binary(Path(config_dir) / planned.path)
    if hashlib.sha256(content.get_secret_value()).hexdigest() != planned.sha256:
        raise SmsopsError(
            f"{planned.path} changed since the plan was made", hint="run `smsops plan --out plan.json` again"
        )
    return planned.model_copy(update={"content": SecretBytes(content.get_secret_value())})
