"""Unit tests of the apply engine's pure decisions, with an in-memory provider and a fake clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from reconciler.errors import ErrorKind, ProviderError, ProviderFailure, ResponseLost
from reconciler.providers.base import ObservedTemplate, ReviewStatus, TemplateKind, TemplateRequest
from reconciler.reconcile.apply import ChangeOutcome, ChannelApplier
from reconciler.reconcile.changes import Action, Change, ChannelObservation, ChannelPlan, TemplateVersion

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += timedelta(seconds=seconds)


class MemoryProvider:
    """Registers templates in a dict; ``lose`` names creates whose answer is lost after they happen."""

    name = "memory"

    def __init__(self, clock: Clock, lose: set[str] = frozenset(), quota: int = 100) -> None:  # type: ignore[assignment]
        self.clock = clock
        self.lose = set(lose)
        self.quota = quota
        self.templates: dict[str, ObservedTemplate] = {}
        self.created_at: list[datetime] = []

    def create_template(self, request: TemplateRequest) -> str:
        if len(self.templates) >= self.quota:
            failure = ProviderFailure("memory", "create", "isv.DAY_LIMIT_CONTROL", "quota", False)
            raise ProviderError(replace(failure, kind=ErrorKind.QUOTA_EXHAUSTED))
        code = f"SMS_{len(self.templates) + 1}"
        self.templates[code] = ObservedTemplate(
            code=code, name=request.name, content=request.content, kind=request.kind, status=ReviewStatus.PENDING
        )
        self.created_at.append(self.clock.now)
        if request.name in self.lose:
            self.lose.discard(request.name)
            raise ResponseLost(ProviderFailure("memory", "create", "ReadTimeout", "no answer", False))
        return code

    def list_templates(self) -> list[ObservedTemplate]:
        return list(self.templates.values())


def creates(*names: str) -> ChannelPlan:
    changes = tuple(
        Change(
            action=Action.CREATE,
            channel="prod",
            template=name,
            address=f"prod/{name}~1234567",
            after=TemplateVersion(provider_name=f"{name}~1234567", content="x", kind=TemplateKind.NOTIFICATION),
            request=TemplateRequest(name=f"{name}~1234567", content="x", kind=TemplateKind.NOTIFICATION),
        )
        for name in names
    )
    return ChannelPlan(channel="prod", provider="memory", changes=changes, observed_digest="d")


def applier(provider: MemoryProvider, plan: ChannelPlan, clock: Clock, **options: object) -> ChannelApplier:
    return ChannelApplier(
        provider,  # type: ignore[arg-type]
        plan,
        observe=lambda: ChannelObservation(channel="prod"),
        now=lambda: clock.now,
        sleep=clock.sleep,
        **options,  # type: ignore[arg-type]
    )


def test_creations_keep_the_providers_spacing_counting_an_earlier_runs_creation() -> None:
    clock = Clock()
    provider = MemoryProvider(clock)
    earlier = T0 - timedelta(seconds=10)  # the newest template at the provider, from a run before
    results = applier(provider, creates("a", "b", "c"), clock, create_spacing=30.0, last_created=earlier).run(
        check_digest=False
    )
    assert [r.outcome for r in results] == [ChangeOutcome.DONE] * 3
    assert clock.slept == [20.0, 30.0, 30.0]
    gaps = [(b - a).total_seconds() for a, b in zip(provider.created_at, provider.created_at[1:], strict=False)]
    assert gaps == [30.0, 30.0]


def test_a_lost_answer_is_resolved_by_looking_before_retrying() -> None:
    clock = Clock()
    provider = MemoryProvider(clock, lose={"b~1234567"})
    results = applier(provider, creates("a", "b"), clock).run(check_digest=False)
    assert [(r.outcome, r.code) for r in results] == [(ChangeOutcome.DONE, "SMS_1"), (ChangeOutcome.DONE, "SMS_2")]
    assert len(provider.templates) == 2  # no duplicate of b


def test_the_daily_quota_defers_the_rest_instead_of_failing_it() -> None:
    clock = Clock()
    provider = MemoryProvider(clock, quota=1)
    results = applier(provider, creates("a", "b", "c"), clock).run(check_digest=False)
    assert [r.outcome for r in results] == [ChangeOutcome.DONE, ChangeOutcome.DEFERRED, ChangeOutcome.DEFERRED]
    assert results[1].error == "provider quota reached (isv.DAY_LIMIT_CONTROL); continues on the next run"
