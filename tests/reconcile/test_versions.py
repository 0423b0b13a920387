"""Which version is live when several carry a ``smsops-live`` mark (pure logic over observed templates)."""

from __future__ import annotations

from datetime import UTC, datetime

from reconciler.providers.base import ObservedTemplate, ReviewStatus, TemplateKind
from reconciler.reconcile.rollout import LIVE, UNPUBLISHED
from reconciler.reconcile.versions import live_version

T0 = datetime(2026, 12, 5, 8, 0, 0, tzinfo=UTC)


def version(code: str, created_s: int, **marks: str) -> ObservedTemplate:
    return ObservedTemplate(
        code=code,
        name=f"login~{code.lower()}",
        content="Your code is ${code}",
        kind=TemplateKind.VERIFICATION,
        status=ReviewStatus.APPROVED,
        created_at=T0.replace(second=created_s),
        tags={{"live": LIVE, "unpublished": UNPUBLISHED}[key]: value for key, value in marks.items()},
    )


def live(*versions: ObservedTemplate, published: str = "") -> str:
    found = live_version(list(versions), True, published_code=published)
    assert found is not None
    return found.code


def test_two_promotions_in_one_second_order_by_their_fractions() -> None:
    # a rollback: the older version promoted again 0.4 s after the newer one
    old = version("SMS_1", 1, live="2026-12-05T08:00:30.900000+00:00")
    new = version("SMS_2", 2, live="2026-12-05T08:00:30.500000+00:00")
    assert live(old, new, published="SMS_2") == "SMS_1"


def test_stamps_of_one_second_resolution_that_tie_pick_the_newer_version() -> None:
    """A forward rollout promoted twice within a second (a fast clock, stamps written without
    fractions): the version created last is the one promoted last, whatever the published config
    still names (promotion writes the mark first, then publishes)."""
    old = version("SMS_1", 1, live="2026-12-05T08:00:30+00:00")
    new = version("SMS_2", 2, live="2026-12-05T08:00:30+00:00")
    assert live(old, new, published="SMS_1") == "SMS_2"
    assert live(new, old, published="SMS_1") == "SMS_2"  # not the order the provider lists them in


def test_stamps_compare_as_instants_not_as_text() -> None:
    old = version("SMS_1", 1, live="2026-12-05T08:00:30Z")
    new = version("SMS_2", 2, live="2026-12-05T07:00:31-01:00")  # one second later, another offset
    assert live(old, new) == "SMS_2"
    naive = version("SMS_3", 3, live="2026-12-05T08:00:29")  # no offset: UTC
    assert live(naive, old) == "SMS_1"


def test_a_version_the_published_config_dropped_after_its_promotion_is_not_live() -> None:
    """Another runner's clock was ahead when it promoted SMS_1; the published config has since
    moved on to SMS_2 (SMS_1 carries the unpublished mark written after its promotion)."""
    old = version("SMS_1", 1, live="2026-12-05T08:05:00+00:00", unpublished="2026-12-05T08:06:00+00:00")
    new = version("SMS_2", 2, live="2026-12-05T08:04:00+00:00")
    assert live(old, new, published="SMS_2") == "SMS_2"
    # A rollback promotes it again after that mark: it counts again.
    rolled_back = old.model_copy(update={"tags": {**old.tags, LIVE: "2026-12-05T08:07:00+00:00"}})
    assert live(rolled_back, new, published="SMS_2") == "SMS_1"


def test_without_live_marks_the_published_code_is_live() -> None:
    old, new = version("SMS_1", 1), version("SMS_2", 2)
    assert live(old, new, published="SMS_1") == "SMS_1"
    assert live_version([old, new], True) is None
    assert live_version([old, new], False) == new  # no marks at all: the newest approved
