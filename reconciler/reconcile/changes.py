"""The plan's data: ``Change``s per channel, blockers, and the observed state they came from.

The JSON form (``Plan.to_json``) is the contract renderers and ``apply --plan`` consume; it carries
``format_version`` and, per channel, the digest of the observed state the plan was computed from.

``before``/``after`` per action:
  create  live or None -> new version   update  old content -> new content (same code)
  promote live or None -> version       retire  superseded -> None
  delete  managed orphan -> None        noop    current -> current
  unpublish  live managed orphan -> None (marked removed; deleted once the grace period has passed)
  rename  live version -> the same version under a new name (published at once, no review, no gate)
  publish None -> None: the published runtime config differs from what is live (written at apply)
  record  None -> None: a signature row (``signature`` set): the baseline of an approved signature
          smsops did not submit is kept in its marks; no provider call
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import Field

from reconciler.formats import PLAN_FORMAT_VERSION
from reconciler.models import Frozen
from reconciler.providers.base import (
    ObservedSignature,
    ObservedTemplate,
    ReviewStatus,
    SignatureRequest,
    TemplateKind,
    TemplateRequest,
)


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    PROMOTE = "promote"
    RETIRE = "retire"
    DELETE = "delete"
    UNPUBLISH = "unpublish"  # a live template removed from git: marked now, deleted after the grace period
    RENAME = "rename"  # the live code published under a new name; the old name stays as an alias for the grace
    PUBLISH = "publish"  # the published runtime config is behind what is live: write it
    RECORD = "record"  # an adopted signature's baseline: what the provider never returns, as a digest
    NOOP = "noop"


class Blocker(Frozen):
    channel: str
    code: str
    message: str
    hint: str = ""


class DesiredTemplate(Frozen):
    """One template as one channel should have it, already in provider-native form."""

    name: str
    fingerprint: str
    request: TemplateRequest
    segments: int = 1
    adopt_code: str = ""
    renamed_from: str = ""  # metadata.renamedFrom: the old name whose versions are this template's


class DesiredChannel(Frozen):
    name: str
    provider: str
    enabled: bool = True
    signature: str
    templates: tuple[DesiredTemplate, ...]
    prune: bool = False
    grace: timedelta = timedelta(hours=24)
    registers_templates: bool = True  # False for AWS: content is rendered by the application
    # Review states in which the provider lets a template be rewritten in place: Alibaba only
    # rejected ones (UpdateSmsTemplate), Tencent also those still under review (ModifySmsTemplate).
    updatable: tuple[ReviewStatus, ...] = (ReviewStatus.REJECTED,)
    # kind: Signature managed by this channel (spec.signature.managed), files decrypted in memory
    managed_signature: SignatureRequest | None = None
    # Why the managed signature's files could not be read (decrypted): the channel is blocked.
    signature_unreadable: Blocker | None = None
    # The smsops-owner mark of the templates this channel creates (reconcile.owner): the only ones
    # it retires, deletes or counts as copies. "" (hand-built channels only): it owns none.
    owner: str = ""


class ChannelObservation(Frozen):
    """What the provider has, read-only. ``error`` is set when the channel could not be observed."""

    channel: str
    signature: ObservedSignature | None = None
    templates: tuple[ObservedTemplate, ...] = ()
    tags_supported: bool = False
    # The channel's published runtime config as its durable target holds it: template name -> code
    # (aliases of renamed templates included); None when the target holds no document yet.
    published: dict[str, str] | None = None
    published_signature: str | None = None  # the signature the published config names
    # Signatures smsops registered for this channel earlier (their marks) that it no longer manages,
    # as the provider has them now: candidates for deletion with prune.
    retired_signatures: tuple[ObservedSignature, ...] = ()
    # Codes the channel's own marks document holds marks for (reconcile.owner: proof of a template
    # created before smsops recorded owners); empty where marks are template tags only.
    recorded: tuple[str, ...] = ()
    account: str = ""  # the provider account, as a digest never shown (reconcile.accounts); "": unknown
    # The channels that manage this channel's signature on its account, in name order, this one
    # among them (``reconciler.reconcile.accounts``); () or one name: not shared.
    signature_group: tuple[str, ...] = ()
    # Per retired signature: the other channels of the account that send with it (it is kept).
    signature_users: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    error: str = ""

    def digest(self, *, shared: bool = False) -> str:
        """Hash of the observed state a plan was computed from (apply refuses a plan whose digest
        moved). ``shared``: without the signatures another channel's row applies (the channel's
        signature and those it no longer manages), which that channel's apply may change first."""
        exclude = {"channel", "signature", "retired_signatures"} if shared else {"channel"}
        data = self.model_dump(mode="json", exclude=exclude)
        data["templates"] = sorted(data["templates"], key=lambda t: t["code"])
        return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class TemplateVersion(Frozen):
    code: str = ""
    provider_name: str
    content: str
    kind: TemplateKind
    international: bool = False
    status: ReviewStatus | None = None
    reason: str = ""

    @classmethod
    def observed(cls, template: ObservedTemplate) -> TemplateVersion:
        return cls(
            code=template.code,
            provider_name=template.name,
            content=template.content,
            kind=template.kind,
            international=template.international,
            status=template.status,
            reason=template.reason,
        )

    @classmethod
    def desired(cls, template: DesiredTemplate, code: str = "") -> TemplateVersion:
        request = template.request
        return cls(
            code=code,
            provider_name=request.name,
            content=request.content,
            kind=request.kind,
            international=request.international,
        )


class Change(Frozen):
    action: Action
    channel: str
    template: str
    address: str
    before: TemplateVersion | None = None
    after: TemplateVersion | None = None
    reason: str = ""  # for display only; apply never reads it
    segments: int | None = None
    request: TemplateRequest | None = None  # create/update: exactly what apply sends
    gated: bool = False  # promote: a test send must be delivered first
    # A change of the channel's managed signature (kind: Signature): the request apply sends, its
    # files by sha256 only. ``template`` is "" and before/after are None for these.
    signature: SignatureRequest | None = None
    waits_for: str = ""  # a template change held until this (``signature <name>``) is approved
    signature_status: ReviewStatus | None = None  # a signature row: its review state at the provider
    retired_signature: ObservedSignature | None = None  # delete (or keep) a signature no longer managed
    baseline: str = ""  # record: the digest apply keeps as the signature's baseline mark
    # The other channels sharing the signature (one account): apply writes its marks beside theirs too.
    shared_with: tuple[str, ...] = ()

    @property
    def awaiting_review(self) -> bool:
        version = self.after or self.before
        return (
            self.action in (Action.CREATE, Action.UPDATE)
            or (version is not None and version.status is ReviewStatus.PENDING)
            or self.signature_status is ReviewStatus.PENDING
        )


class ChannelPlan(Frozen):
    channel: str
    provider: str
    enabled: bool = True
    signature: ObservedSignature | None = None
    changes: tuple[Change, ...] = ()
    blockers: tuple[Blocker, ...] = ()
    # Drift that apply cannot fix by itself (a rejected version): shown like blockers, counted as
    # drift by ``plan --detailed-exitcode``, but the rest of the channel is applied.
    attention: tuple[Blocker, ...] = ()
    unmanaged: tuple[ObservedTemplate, ...] = ()
    # smsops-named templates this channel does not own (another channel's or repository's, or
    # unproven): left alone by plan and apply, only counted in the plan (reconcile.owner).
    foreign: tuple[ObservedTemplate, ...] = ()
    owner: str = ""  # the smsops-owner mark apply writes on each template it creates
    observed_digest: str
    # The channel whose rows apply the signature this channel shares with it (one resource of the
    # account: one row); this plan's ``observed_digest`` leaves that signature out (``digest``).
    signature_owner: str = ""


class Plan(Frozen):
    format_version: Literal[1] = PLAN_FORMAT_VERSION
    created_at: datetime
    config_dir: str
    channels: tuple[ChannelPlan, ...]

    @property
    def changes(self) -> tuple[Change, ...]:
        return tuple(change for channel in self.channels for change in channel.changes)

    @property
    def blockers(self) -> tuple[Blocker, ...]:
        return tuple(blocker for channel in self.channels for blocker in channel.blockers)

    @property
    def attention(self) -> tuple[Blocker, ...]:
        return tuple(item for channel in self.channels for item in channel.attention)

    @property
    def has_changes(self) -> bool:
        return any(change.action is not Action.NOOP for change in self.changes)

    @property
    def drift(self) -> bool:
        """What ``plan --detailed-exitcode`` reports as 2: changes to apply, or a rejection to fix."""
        return self.has_changes or bool(self.attention)

    def counts(self) -> Counter[str]:
        return Counter(change.action.value for change in self.changes)

    def summary(self) -> str:
        counts = self.counts()
        waiting = sum(1 for change in self.changes if change.awaiting_review)
        text = (
            f"Plan: {counts['create']} to create, {counts['update']} to update, {counts['promote']} to promote, "
            f"{counts['retire']} to retire, {counts['delete']} to delete; {waiting} awaiting review."
        )
        extra = [f"{counts[a]} to {a}" for a in ("unpublish", "rename", "publish", "record") if counts[a]]
        if extra:
            text = text.replace(" to delete;", f" to delete, {', '.join(extra)};")
        if self.attention:
            text += f" {len(self.attention)} rejected by the provider."
        if self.blockers:
            text += f" {len(self.blockers)} channel(s) blocked."
        return text

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"
