"""Apply: execute exactly the changes of a plan, channel by channel, and report each result.

Steps per channel:
1. take the channel's lock (two applies on one machine never interleave);
2. re-observe and compare with the digest the plan was computed from: a stale plan is refused;
3. run each change in plan order. A create whose answer is lost is resolved by re-observing by
   name (the name carries the fingerprint) and sent again only when it is not there, so a template
   is never created twice. Nothing else is retried here: the adapter has already retried what can
   be (``reconciler.providers.retry``, the one layer of retrying). A daily quota defers the rest of
   the channel's creates;
4. promote only after the gate passed (where the channel has testSend) by marking the version live
   (or without the gate, when a person breaks the glass with a reason: ``BreakGlass``); renames and
   unpublishes are marked the same way;
5. publish: the channel's runtime config is written to its durable target in the same apply, right
   after the promotions, so what the application reads is never behind; codes it no longer names
   are marked unpublished (their grace period starts);
6. retire and delete last, only what the plan found unnamed by the published config, and only
   after a last look at the published configs of every channel of the config on the same provider
   (``named``): a code any of them names is never deleted, whoever planned it.
Each template created is marked as the channel's own (``smsops-owner``, ``reconcile.owner``) at once.
Nothing is decided here: the plan said what to do.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from reconciler.content.identity import parse_provider_name
from reconciler.errors import ErrorKind, ProviderError, ResponseLost, SmsopsError, StalePlan
from reconciler.models import Frozen
from reconciler.providers import retry
from reconciler.providers.base import ObservedTemplate, Provider
from reconciler.providers.ratelimit import quota
from reconciler.reconcile.breakglass import BreakGlass
from reconciler.reconcile.changes import Action, Change, ChannelObservation, ChannelPlan, Plan
from reconciler.reconcile.owner import ReadNamed, still_named
from reconciler.reconcile.rollout import (
    GATE,
    LIVE,
    OWNER,
    REMARK,
    REMOVED,
    RENAMED,
    SKIP_GATE,
    MarkStore,
    remark_digest,
    write_marks,
)
from reconciler.reconcile.signatures import apply_signature
from reconciler.secrets.redact import redact


class ChangeOutcome(StrEnum):
    """What became of one planned change (a gate send's outcome is ``verify.results.SendOutcome``)."""

    DONE = "done"
    FAILED = "failed"
    DEFERRED = "deferred"
    SKIPPED = "skipped"


class _NotCreated(Exception):
    """A create the provider refused or lost without effect (looked for, not there): safe to send again."""

    def __init__(self, error: ProviderError) -> None:
        super().__init__(error.message)
        self.error = error


class ChangeResult(Frozen):
    channel: str
    action: Action
    address: str
    outcome: ChangeOutcome
    code: str = ""
    error: str = ""
    attempts: int = 0
    note: str = ""  # a promotion made without its gate (break glass), and why


# Writes the channel's published runtime config now; returns where it went (raises on failure).
Publish = Callable[[], str]

# The last phase of a channel's apply: after the published config no longer names them.
_CLEAN_UP = (Action.RETIRE, Action.DELETE)
# Changes after which the published config must be written again.
_PUBLISHES = (Action.PROMOTE, Action.RENAME, Action.UNPUBLISH, Action.PUBLISH)


# The gate decides which versions may be promoted: address -> "" when its test passed, else why not.
Gate = Callable[[Sequence[Change]], dict[str, str]]


class Progress(Protocol):
    """Where apply is: a change starting, or a wait and why (shown as a progress bar)."""

    def step(self, message: str) -> None: ...

    def wait(self, message: str, seconds: float) -> None: ...


class _Quiet:
    def step(self, message: str) -> None:
        return None

    def wait(self, message: str, seconds: float) -> None:
        return None


_quiet = _Quiet()


class ChannelApplier:
    def __init__(
        self,
        provider: Provider,
        plan: ChannelPlan,
        *,
        observe: Callable[[], ChannelObservation],
        gate: Gate | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        progress: Progress = _quiet,
        create_spacing: float = 0.0,
        last_created: datetime | None = None,
        marks: MarkStore | None = None,
        retry_policy: retry.RetryPolicy | None = None,
        publish: Publish | None = None,
        break_glass: BreakGlass | None = None,
        on_result: Callable[[ChangeResult], None] = lambda _: None,
        remember_remarks: bool = True,
        config_dir: str = ".",
        marks_of: Callable[[str], MarkStore | None] = lambda _: None,
        named: ReadNamed | None = None,
    ) -> None:
        self.provider = provider
        self.marks_of = marks_of  # another channel's marks: a signature it shares is marked there too
        self.named = named
        self.config_dir = config_dir  # where a saved plan's signature files are decrypted from
        self.plan = plan
        self.observe = observe
        self.gate = gate
        self.now = now
        self.sleep = sleep
        self.progress = progress
        self.quota_reached = ""
        self.verdicts: dict[str, str] = {}
        self.marks = marks
        # Alibaba wants >= 30 s between template creations; the newest observed creation counts too,
        # so two runs in a row keep the spacing.
        self.create_spacing = create_spacing
        self.last_created = last_created
        # how often a create refused or lost without effect is sent again
        self.retry_policy = retry_policy or retry.RetryPolicy.from_env()
        self.publish = publish
        self.break_glass = break_glass
        # False where observing reports a rejected template's remark (a provider trait)
        self.remember_remarks = remember_remarks
        self.on_result = on_result

    def run(self, *, check_digest: bool) -> list[ChangeResult]:
        # Step 2: refuse to act on a provider state nobody reviewed.
        if check_digest:
            current = self.observe()
            if current.error:
                raise StalePlan(f"channel {self.plan.channel}: could not re-observe: {current.error}")
            if current.digest(shared=bool(self.plan.signature_owner)) != self.plan.observed_digest:
                raise StalePlan(
                    f"channel {self.plan.channel} changed at the provider since the plan was made",
                    hint="run `smsops plan --out plan.json` again, review it, and apply the new plan",
                )
        # Step 3: test every version about to be promoted in one gate run, then each change in plan
        # order; the published config is written before anything is retired or deleted.
        gated = [c for c in self.plan.changes if c.action is Action.PROMOTE and c.gated]
        gate_runs = self.gate is not None and gated and self.break_glass is None
        self.verdicts = self._run_gate(gated) if gate_runs else {}
        todo = [c for c in self.plan.changes if c.action not in (Action.NOOP, Action.PUBLISH)]
        results = [self._report(self._one(c)) for c in todo if c.action not in _CLEAN_UP]
        published = True
        done = {r.action for r in results if r.outcome is ChangeOutcome.DONE}
        if done & set(_PUBLISHES) or any(c.action is Action.PUBLISH for c in self.plan.changes):
            outcome = self._report(self._publish())
            results.append(outcome)
            published = outcome.outcome is ChangeOutcome.DONE
        clean_up = [c for c in todo if c.action in _CLEAN_UP]
        kept = still_named(self.named, clean_up) if published and clean_up else {}
        for change in clean_up:
            why = kept.get(change.address, "") if published else "not done: the published config could not be written"
            if why:
                results.append(self._report(self._result(change, ChangeOutcome.SKIPPED, error=why)))
            else:
                results.append(self._report(self._one(change)))
        return results

    def _run_gate(self, gated: Sequence[Change]) -> dict[str, str]:
        """The gate's verdicts. A provider failure of its own calls (a send that failed after the
        adapter's retries) fails these promotions, not the apply: the old versions stay live and the
        channel's other changes go on."""
        assert self.gate is not None
        try:
            return self.gate(gated)
        except ProviderError as error:
            return {change.address: f"the gate could not run: {error.message}" for change in gated}

    def _report(self, result: ChangeResult) -> ChangeResult:
        self.on_result(result)
        return result

    def _publish(self) -> ChangeResult:
        """Write the channel's published runtime config (what the application reads) to its target."""
        change = Change(
            action=Action.PUBLISH, channel=self.plan.channel, template="", address=f"{self.plan.channel}/published"
        )
        self.progress.step(f"publish {change.address}")
        if self.publish is None:
            return self._result(change, ChangeOutcome.SKIPPED, error="no publish target given to apply")
        try:
            return self._result(change, ChangeOutcome.DONE, code=self.publish(), attempts=1)
        except (ProviderError, SmsopsError) as error:
            return self._result(change, ChangeOutcome.FAILED, error=error.message, attempts=1)

    def _result(
        self,
        change: Change,
        outcome: ChangeOutcome,
        code: str = "",
        error: str = "",
        attempts: int = 0,
        note: str = "",
    ) -> ChangeResult:
        return ChangeResult(
            channel=change.channel,
            action=change.action,
            address=change.address,
            outcome=outcome,
            code=code,
            error=redact(error),
            attempts=attempts,
            note=redact(note),
        )

    def _one(self, change: Change) -> ChangeResult:
        self.progress.step(f"{change.action.value} {change.address}")
        try:
            if change.signature is not None or change.retired_signature is not None:  # kind: Signature
                return self._once(change, lambda: self._signature(change))
            if change.action is Action.CREATE:
                return self._create(change)
            if change.action is Action.UPDATE:
                return self._once(change, lambda: self._update(change))
            if change.action is Action.PROMOTE:
                return self._promote(change)
            if change.action is Action.UNPUBLISH:
                assert change.before is not None
                code = change.before.code
                return self._once(change, lambda: self._mark(code, {REMOVED: self._stamp()}))
            if change.action is Action.RENAME:
                return self._once(change, lambda: self._rename(change))
            return self._once(change, lambda: self._delete(change))
        except ProviderError as error:
            return self._result(change, ChangeOutcome.FAILED, error=error.message)

    def _once(self, change: Change, operation: Callable[[], str]) -> ChangeResult:
        """One call; the adapter has retried whatever could be retried."""
        try:
            return self._result(change, ChangeOutcome.DONE, code=operation(), attempts=1)
        except ProviderError as error:
            return self._result(change, ChangeOutcome.FAILED, error=error.message, attempts=1)

    def _signature(self, change: Change) -> str:
        own = self.plan.channel
        found = (self.marks if name == own else self.marks_of(name) for name in sorted({own, *change.shared_with}))
        stores = [store for store in found if store is not None]
        return apply_signature(self.provider, change, marks=stores, config_dir=self.config_dir)

    def _find_by_name(self, name: str) -> str:
        """The template a lost create made: that name, no other channel's owner mark, and not one
        the plan saw (another channel's template of the same name is not ours to claim)."""
        plan = self.plan
        seen = {t.code for t in (*plan.foreign, *plan.unmanaged)}
        seen |= {v.code for c in plan.changes for v in (c.before, c.after) if v is not None}
        for template in self.provider.list_templates():
            mark = template.tags.get(OWNER, plan.owner)
            if template.name == name and mark == plan.owner and template.code not in seen:
                return template.code
        return ""

    def _create(self, change: Change) -> ChangeResult:
        request = change.request
        assert request is not None, "a create change always carries its request"
        if self.quota_reached:
            return self._result(change, ChangeOutcome.DEFERRED, error=self.quota_reached)
        attempts = 0

        def attempt() -> str:
            nonlocal attempts
            attempts += 1
            self._space_creates()
            try:
                code = self.provider.create_template(request)
            except ResponseLost as lost:
                # The create may have happened: look before sending it again.
                found = self._find_by_name(request.name)
                if found:
                    self._claim(found)
                    return found
                raise _NotCreated(lost) from None
            except ProviderError as error:
                if error.kind is ErrorKind.SPACING and self.create_spacing:
                    self.last_created = self.now()  # the provider saw a creation we did not: space again
                    raise _NotCreated(error) from None
                raise
            self.last_created = self.now()
            self._claim(code)
            self._remember_remark(code, request.remark)
            return code

        try:
            code = retry.call(
                attempt, self.retry_policy, sleep=self.sleep, retry_if=lambda error: isinstance(error, _NotCreated)
            )
        except _NotCreated as gone:
            return self._result(change, ChangeOutcome.FAILED, error=gone.error.message, attempts=attempts)
        except ProviderError as error:
            if error.kind is ErrorKind.QUOTA_EXHAUSTED:
                self.quota_reached = f"provider quota reached ({error.code}); continues on the next run"
                return self._result(change, ChangeOutcome.DEFERRED, error=self.quota_reached, attempts=attempts)
            return self._result(change, ChangeOutcome.FAILED, error=error.message, attempts=attempts)
        return self._result(change, ChangeOutcome.DONE, code=code, attempts=attempts)

    def _space_creates(self) -> None:
        if not self.create_spacing or self.last_created is None:
            return
        wait = (self.last_created - self.now()).total_seconds() + self.create_spacing
        if wait > 0:
            self.progress.wait(f"the provider allows one template creation every {self.create_spacing:.0f}s", wait)
            self.sleep(wait)

    def _update(self, change: Change) -> str:
        assert change.request is not None and change.before is not None
        self.provider.update_template(change.before.code, change.request)
        self._remember_remark(change.before.code, change.request.remark)
        return change.before.code

    def _claim(self, code: str) -> None:
        """Mark a template just created as this channel's: the only mark that lets a later apply
        retire or delete it. Without it (the write failed) the template is kept for good: safe."""
        if self.plan.owner:
            with contextlib.suppress(ProviderError, SmsopsError):
                self._mark(code, {OWNER: self.plan.owner})

    def _remember_remark(self, code: str, remark: str) -> None:
        """Mark which remark went to review, so a changed remark can resubmit a rejected version,
        where observing does not report it. Best effort: without it, a remark change is not seen."""
        if not self.remember_remarks:
            return
        with contextlib.suppress(ProviderError, SmsopsError):
            self._mark(code, {REMARK: remark_digest(remark)})

    def _rename(self, change: Change) -> str:
        assert change.before is not None
        identity = parse_provider_name(change.before.provider_name)
        old = identity.name if identity is not None else change.template
        return self._mark(change.before.code, {RENAMED: f"{self._stamp()} {old}"})

    def _stamp(self) -> str:
        # Fractions of a second: two promotions within one second still order (``promotion_order``).
        return self.now().isoformat(timespec="microseconds")

    def _delete(self, change: Change) -> str:
        """Retire or delete a version. Its being gone is the goal, so a version already gone is done:
        another apply deleted it (the provider answers "not found"), or our delete went through and
        its answer was lost (looked for, not there)."""
        assert change.before is not None
        code = change.before.code
        try:
            self.provider.delete_template(code)
        except ResponseLost:
            if any(template.code == code for template in self.provider.list_templates()):
                raise
        except ProviderError as error:
            if error.kind is not ErrorKind.NOT_FOUND:
                raise
        return code

    def _mark(self, code: str, marks: dict[str, str]) -> str:
        """Record rollout marks: as template tags, or beside the published config."""
        write_marks(self.provider, self.marks, code, marks)
        return code

    def _promote(self, change: Change) -> ChangeResult:
        assert change.after is not None
        code = change.after.code
        if self.break_glass is not None and change.gated and self.gate is not None:
            glass, stamp = self.break_glass, self._stamp()
            marks = {LIVE: stamp, SKIP_GATE: glass.mark(stamp)}
            result = self._once(change, lambda: self._mark(code, marks))
            return result.model_copy(update={"note": redact(f"gate skipped: {glass.describe()}")})
        if change.gated and self.gate is not None:
            why = self.verdicts.get(change.address, "the gate gave no verdict")
            if why:
                # Keep the verdict where `status` reads it; the old version stays live.
                stamp = self.now().isoformat(timespec="seconds")
                with contextlib.suppress(ProviderError):
                    self._mark(code, {GATE: f"failed {stamp}: {why}"})
                return self._result(change, ChangeOutcome.FAILED, code=code, error=f"gate failed: {why}")
        return self._once(change, lambda: self._mark(code, {LIVE: self._stamp()}))


def create_spacing(provider: str, configured: timedelta | None = None) -> float:
    """Seconds between template creations: the channel's setting, else the provider's rule."""
    if configured is not None:
        return configured.total_seconds()
    return quota(provider, "CreateSmsTemplate").min_spacing_s


def _observed(observe: Callable[[str], ChannelObservation], channel: str) -> tuple[ObservedTemplate, ...]:
    observation = observe(channel)
    return observation.templates


def summarize(results: Sequence[ChangeResult]) -> str:
    counts = {outcome: sum(1 for r in results if r.outcome is outcome) for outcome in ChangeOutcome}
    return (
        f"Apply: {counts[ChangeOutcome.DONE]} done, {counts[ChangeOutcome.FAILED]} failed, "
        f"{counts[ChangeOutcome.DEFERRED]} deferred, {counts[ChangeOutcome.SKIPPED]} skipped."
    )


def apply_plan(
    plan: Plan,
    providers: dict[str, Provider],
    observe: Callable[[str], ChannelObservation],
    *,
    check_digest: bool,
    gate: Gate | None = None,
    progress: Progress = _quiet,
    sleep: Callable[[float], None] = time.sleep,
    spacing: Mapping[str, float] | None = None,
    marks: Mapping[str, MarkStore] | None = None,
    publish: Callable[[str], str] | None = None,
    break_glass: BreakGlass | None = None,
    on_result: Callable[[ChangeResult], None] = lambda _: None,
    remarks_observed: Collection[str] = (),
    marks_of: Callable[[str], MarkStore | None] | None = None,
    named: Callable[[str], dict[str, str]] | None = None,
) -> list[ChangeResult]:
    """Apply each channel's changes. ``spacing``: seconds between creations per channel;
    ``publish(channel)`` writes a channel's published runtime config; ``on_result`` hears of each
    result as it happens (an interrupted apply still reports what it did); ``marks_of(channel)``: the
    marks of a channel outside the plan that shares a signature with one in it; ``named(channel)``
    reads every code the published configs of the channels sharing its provider name (``ReadNamed``)."""
    spacing = spacing or {}
    known = marks or {}
    results: list[ChangeResult] = []
    for channel in plan.channels:
        if channel.blockers:
            skipped = [
                ChangeResult(
                    channel=c.channel,
                    action=c.action,
                    address=c.address,
                    outcome=ChangeOutcome.SKIPPED,
                    error=f"channel blocked: {channel.blockers[0].message}",
                )
                for c in channel.changes
                if c.action is not Action.NOOP
            ]
            for result in skipped:
                on_result(result)
            results.extend(skipped)
            continue
        provider = providers[channel.channel]
        newest = None
        if spacing.get(channel.channel) and any(c.action is Action.CREATE for c in channel.changes):
            # the provider's last creation counts too (an earlier run's), so the spacing holds across runs
            newest = max((t.created_at for t in _observed(observe, channel.channel) if t.created_at), default=None)
        applier = ChannelApplier(
            provider,
            channel,
            create_spacing=spacing.get(channel.channel, 0.0),
            last_created=newest,
            marks=known.get(channel.channel),
            marks_of=marks_of or known.get,
            observe=lambda name=channel.channel: observe(name),  # type: ignore[misc]
            gate=gate,
            progress=progress,
            sleep=sleep,
            publish=(lambda name=channel.channel: publish(name)) if publish is not None else None,  # type: ignore[misc]
            break_glass=break_glass,
            on_result=on_result,
            remember_remarks=channel.channel not in remarks_observed,
            config_dir=plan.config_dir,
            named=(lambda name=channel.channel: named(name)) if named is not None else None,  # type: ignore[misc]
        )
        results.extend(applier.run(check_digest=check_digest))
    return results
