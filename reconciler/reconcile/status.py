"""Review status per channel and template: what is live, what is in review, what was rejected.

Pure: computed from a ``DesiredChannel`` and a ``ChannelObservation`` with no provider calls, so
``status``, ``wait`` and ``export`` agree with ``plan`` about which version is which:
- a template's versions, its live version and its desired version are ``matching.match_templates``'s
  answers (the planner's own rule: a renamed template's versions keep their earlier provider-side name);
- the versions on their way out (superseded ones kept for the grace period, templates removed from
  git waiting for deletion) are read from ``plan_channel``'s own decisions, so status never states a
  retirement rule of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from reconciler.content.identity import parse_provider_name
from reconciler.errors import stage
from reconciler.models import Frozen
from reconciler.providers.base import ObservedSignature, ObservedTemplate, ReviewStatus
from reconciler.reconcile.breakglass import BreakGlass
from reconciler.reconcile.changes import Action, ChannelObservation, DesiredChannel, DesiredTemplate
from reconciler.reconcile.desired import desired_channel
from reconciler.reconcile.matching import TemplateMatch, match_templates
from reconciler.reconcile.observe import Session, observe_all
from reconciler.reconcile.plan import created_order, plan_channel, promoted_at
from reconciler.reconcile.rollout import GATE, SKIP_GATE


class TemplateState(StrEnum):
    """Where a template's desired version stands, as one word for summaries and ``wait``."""

    LIVE = "live"  # the desired version is the live one
    APPROVED = "approved"  # approved, not promoted yet (apply promotes it after its gate)
    PENDING = "pending"  # in provider review
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    NOT_REGISTERED = "not-registered"  # apply has not created it yet
    CLIENT_RENDERED = "client-rendered"  # AWS: no template registry, the application renders it
    UNKNOWN = "unknown"  # the channel could not be observed


class SignatureState(StrEnum):
    APPROVED = "approved"
    PENDING = "pending"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    MISSING = "missing"
    UNKNOWN = "unknown"


class VersionStatus(Frozen):
    """One registered version. ``since`` is when it was submitted (the provider's create time)."""

    code: str
    provider_name: str
    fingerprint: str = ""  # "" for an adopted template not named by smsops
    status: ReviewStatus
    since: datetime | None = None
    reason: str = ""
    desired: bool = False  # the version git asks for
    gate: str = ""  # the last refused test-send gate ("failed <time>: <why>"), kept as a rollout mark


class LiveVersion(Frozen):
    """The version the application uses. ``since`` is its promotion time (None where the provider
    keeps no tags, or for an adopted template never promoted)."""

    code: str
    provider_name: str
    fingerprint: str = ""
    since: datetime | None = None
    adopted: bool = False
    gate_skipped: BreakGlass | None = None  # promoted without its test-send gate (apply --skip-gate): why, who


class LeavingVersion(Frozen):
    """A version on its way out, as the plan decides: ``noop`` while it is kept (``reason`` says
    until when: the grace period), else what the next apply does to it (retire, unpublish, delete)."""

    template: str
    code: str
    provider_name: str
    action: Action
    reason: str


class TemplateStatus(Frozen):
    name: str
    fingerprint: str  # of the desired version
    state: TemplateState
    registered: bool  # the desired version exists at the provider
    live: LiveVersion | None = None
    versions: tuple[VersionStatus, ...] = ()  # newer than the live one (all, when none is live)
    leaving: tuple[LeavingVersion, ...] = ()  # superseded versions not deleted yet

    @property
    def desired_version(self) -> VersionStatus | None:
        return next((v for v in self.versions if v.desired), None)

    @property
    def reason(self) -> str:
        version = self.desired_version
        return version.reason if version else ""


class ChannelStatus(Frozen):
    channel: str
    provider: str
    enabled: bool
    signature_name: str
    signature: SignatureState
    signature_reason: str = ""
    # carrier filings of the signature where the provider reports them: "CMCC filed", ...
    signature_filings: tuple[str, ...] = ()
    signature_managed: bool = False  # the signature is kind: Signature in git (smsops registers it)
    templates: tuple[TemplateStatus, ...] = ()
    removed: tuple[LeavingVersion, ...] = ()  # versions of templates no longer in git, not deleted yet
    error: str = ""  # the channel could not be observed; templates are then UNKNOWN

    @property
    def leaving(self) -> tuple[LeavingVersion, ...]:
        return tuple(v for t in self.templates for v in t.leaving) + self.removed


def _signature_state(signature: ObservedSignature | None) -> SignatureState:
    return SignatureState.MISSING if signature is None else SignatureState(signature.status.value)


def _fingerprint(template: ObservedTemplate) -> str:
    identity = parse_provider_name(template.name)
    return identity.fingerprint if identity else ""


def template_status(
    template: DesiredTemplate, match: TemplateMatch, leaving: tuple[LeavingVersion, ...] = ()
) -> TemplateStatus:
    versions, live, wanted = match.versions, match.live, match.current
    live_model = (
        LiveVersion(
            code=live.code,
            provider_name=live.name,
            fingerprint=_fingerprint(live),
            since=promoted_at(live),
            adopted=live.code == template.adopt_code,
            gate_skipped=BreakGlass.from_mark(live.tags[SKIP_GATE]) if live.tags.get(SKIP_GATE) else None,
        )
        if live is not None
        else None
    )
    # Versions submitted after the live one: what is on its way. Older ones are superseded history.
    newer = [
        v
        for v in versions
        if live is None
        or (v.code != live.code and (created_order(v) > created_order(live) or (wanted is not None and v == wanted)))
    ]
    shown = tuple(
        VersionStatus(
            code=v.code,
            provider_name=v.name,
            fingerprint=_fingerprint(v),
            status=v.status,
            since=v.created_at,
            reason=v.reason,
            desired=wanted is not None and v.code == wanted.code,
            gate=v.tags.get(GATE, ""),
        )
        for v in sorted(newer, key=created_order)
    )
    if wanted is None:
        state = TemplateState.NOT_REGISTERED
    elif live is not None and wanted.code == live.code:
        state = TemplateState.LIVE
    else:
        state = TemplateState(wanted.status.value)
    return TemplateStatus(
        name=template.name,
        fingerprint=template.fingerprint,
        state=state,
        registered=wanted is not None,
        live=live_model,
        versions=shown,
        leaving=leaving,
    )


# What the plan may do to a version it does not keep; a noop on a version other than the desired
# one is a superseded or removed version the plan keeps for now (a rewrite in place is an update).
_LEAVING = (Action.RETIRE, Action.UNPUBLISH, Action.DELETE)


def leaving_versions(
    desired: DesiredChannel, observed: ChannelObservation, now: datetime, kept: set[str]
) -> dict[str, tuple[LeavingVersion, ...]]:
    """Versions waiting to be retired or deleted, by template name (also names no longer in git).
    ``kept``: the codes of the templates' desired versions, which a noop keeps rather than lets go
    (by code: a renamed template's live version keeps its earlier provider-side name)."""
    found: dict[str, list[LeavingVersion]] = {}
    for change in plan_channel(desired, observed, now=now).changes:
        version = change.before
        if version is None or not (
            change.action in _LEAVING or (change.action is Action.NOOP and version.code not in kept)
        ):
            continue
        leaving = LeavingVersion(
            template=change.template,
            code=version.code,
            provider_name=version.provider_name,
            action=change.action,
            reason=change.reason,
        )
        found.setdefault(change.template, []).append(leaving)
    return {name: tuple(versions) for name, versions in found.items()}


def channel_status(
    desired: DesiredChannel, observed: ChannelObservation, *, now: datetime | None = None
) -> ChannelStatus:
    """Status of every desired template of one channel, from one observation; ``now`` (default: the
    clock) decides, as in ``plan``, which superseded versions are past their grace period."""
    base = {
        "channel": desired.name,
        "provider": desired.provider,
        "enabled": desired.enabled,
        "signature_name": desired.signature,
        "signature_managed": desired.managed_signature is not None,
    }
    if observed.error:
        unknown = tuple(
            TemplateStatus(name=t.name, fingerprint=t.fingerprint, state=TemplateState.UNKNOWN, registered=False)
            for t in desired.templates
        )
        return ChannelStatus(**base, signature=SignatureState.UNKNOWN, templates=unknown, error=observed.error)
    signature = observed.signature
    signature_fields = {
        "signature": _signature_state(signature),
        "signature_reason": signature.reason if signature else "",
        "signature_filings": tuple(f"{f.operator} {f.status}" for f in signature.filings) if signature else (),
    }
    if not desired.registers_templates:
        rendered = tuple(
            TemplateStatus(
                name=t.name, fingerprint=t.fingerprint, state=TemplateState.CLIENT_RENDERED, registered=False
            )
            for t in desired.templates
        )
        return ChannelStatus(**base, **signature_fields, templates=rendered)
    matches = match_templates(desired, observed)
    kept = {m.current.code for m in matches.values() if m.current is not None}
    leaving = leaving_versions(desired, observed, now or datetime.now(UTC), kept)
    templates = tuple(template_status(t, matches[t.name], leaving.pop(t.name, ())) for t in desired.templates)
    removed = tuple(version for name in sorted(leaving) for version in leaving[name])
    return ChannelStatus(**base, **signature_fields, templates=templates, removed=removed)


def _with_signatures(versions: int, label: str, channels: list[ChannelStatus], state: SignatureState) -> str:
    """``versions`` plus the channels whose signature is in ``state``, named when there are any:
    ``1 rejected (1 signature)``."""
    signatures = sum(1 for c in channels if c.signature is state)
    text = f"{versions + signatures} {label}"
    if signatures:
        text += f" ({signatures} signature{'s' if signatures > 1 else ''})"
    return text


def summary(statuses: Iterable[ChannelStatus]) -> str:
    """One line: ``Status: 3 live, 1 approved, 1 pending, 0 rejected, 0 not registered; 2 channel(s).``
    A signature in review or rejected counts with the versions in that state (``1 pending review
    (1 signature)``, ``1 rejected (1 signature)``): it holds its channel as surely, and a summary that
    read "0 pending review" or "0 rejected" would hide it."""
    channels = list(statuses)
    counts: dict[TemplateState, int] = {state: 0 for state in TemplateState}
    for channel in channels:
        for template in channel.templates:
            counts[template.state] += 1
    pending = _with_signatures(counts[TemplateState.PENDING], "pending review", channels, SignatureState.PENDING)
    rejected = _with_signatures(counts[TemplateState.REJECTED], "rejected", channels, SignatureState.REJECTED)
    text = (
        f"Status: {counts[TemplateState.LIVE]} live, {counts[TemplateState.APPROVED]} approved awaiting promotion, "
        f"{pending}, {rejected}, "
        f"{counts[TemplateState.NOT_REGISTERED]} not registered; {len(channels)} channel(s)."
    )
    skipped = sum(1 for c in channels for t in c.templates if t.live is not None and t.live.gate_skipped)
    if skipped:
        text += f" {skipped} live version(s) promoted without their test-send gate."
    leaving = sum(len(c.leaving) for c in channels)
    if leaving:
        text += f" {leaving} version(s) waiting to be retired or deleted."
    failed = sum(1 for c in channels if c.error)
    if failed:
        text += f" {failed} channel(s) could not be observed."
    return text


# -- wait ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewOutcome:
    """Addresses (``channel/template``) sorted by what waiting longer can do for them."""

    ready: tuple[str, ...]
    pending: tuple[str, ...]
    failed: tuple[str, ...]  # one message each, with the provider's reason; waiting cannot help
    # waited for their channel's managed signature, approved now: the next apply registers them
    to_register: tuple[str, ...] = ()


def review_outcome(statuses: Iterable[ChannelStatus]) -> ReviewOutcome:
    ready: list[str] = []
    pending: list[str] = []
    failed: list[str] = []
    to_register: list[str] = []
    for channel in statuses:
        if channel.error:
            failed.append(f"{channel.channel}: could not be observed: {channel.error}")
            continue
        signature = f"{channel.channel}: signature '{channel.signature_name}'"
        # Templates are registered only once the signature is approved: until then they wait too.
        held = channel.signature in (SignatureState.PENDING, SignatureState.MISSING)
        if channel.signature is SignatureState.PENDING:
            pending.append(f"{signature} (pending review)")
        elif channel.signature is not SignatureState.APPROVED:
            reason = f": {channel.signature_reason}" if channel.signature_reason else ""
            failed.append(f"{signature} is {channel.signature.value}{reason}")
        for template in channel.templates:
            address = f"{channel.channel}/{template.name}"
            version = template.desired_version
            code = f" ({version.code})" if version else ""
            if template.state in (TemplateState.LIVE, TemplateState.APPROVED, TemplateState.CLIENT_RENDERED):
                ready.append(address)
            elif template.state is TemplateState.PENDING:
                pending.append(f"{address}{code}")
            elif template.state is TemplateState.REJECTED:
                failed.append(f"{address}{code} rejected by the provider: {template.reason or 'no reason given'}")
            elif template.state is TemplateState.CANCELLED:
                failed.append(f"{address}{code}: review was cancelled")
            elif held:
                pending.append(f"{address} (waits for signature '{channel.signature_name}')")
            elif channel.signature_managed and channel.signature is SignatureState.APPROVED:
                # It waited for the signature smsops registered, now approved: review is over, and
                # the next apply registers the template (a pipeline runs apply after wait).
                to_register.append(address)
            else:
                failed.append(f"{address}: version {template.fingerprint} is not registered; run `smsops apply` first")
    return ReviewOutcome(tuple(ready), tuple(pending), tuple(failed), tuple(to_register))


@dataclass(frozen=True)
class WaitResult:
    statuses: tuple[ChannelStatus, ...]
    outcome: ReviewOutcome
    timed_out: bool
    polls: int

    @property
    def ok(self) -> bool:
        return not self.outcome.failed and not self.outcome.pending


def wait_for_review(
    poll: Callable[[], Sequence[ChannelStatus]],
    *,
    timeout: timedelta,
    interval: timedelta,
    progress: Callable[[str], None] = lambda _: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> WaitResult:
    """Poll until nothing is pending (every desired version approved), something failed (a rejection
    is final: waiting cannot turn it into an approval), or ``timeout`` has passed."""
    deadline = clock() + timeout.total_seconds()
    polls = 0
    while True:
        statuses = tuple(poll())
        polls += 1
        outcome = review_outcome(statuses)
        if outcome.failed or not outcome.pending:
            return WaitResult(statuses, outcome, timed_out=False, polls=polls)
        remaining = deadline - clock()
        if remaining <= 0:
            return WaitResult(statuses, outcome, timed_out=True, polls=polls)
        pause = min(interval.total_seconds(), remaining)
        shown = ", ".join(outcome.pending[:3]) + (
            f" and {len(outcome.pending) - 3} more" if len(outcome.pending) > 3 else ""
        )
        progress(
            f"waiting for review: {len(outcome.pending)} pending ({shown}), {len(outcome.ready)} ready; "
            f"next check in {pause:.0f}s, {remaining:.0f}s left"
        )
        sleep(pause)


def observe_statuses(session: Session, *, now: datetime | None = None) -> list[ChannelStatus]:
    """Observe every channel of an open session (concurrently) and compute its status."""
    desired = [desired_channel(session.config, located) for located in session.channels]
    with stage("observe"):
        observed = observe_all(session, desired)
    moment = now or datetime.now(UTC)
    return [channel_status(d, o, now=moment) for d, o in zip(desired, observed, strict=True)]
