"""Unit tests of ownership in the pure planner: a channel retires, deletes and counts as copies only
the versions marked as its own (``smsops-owner``); others' are left alone (reconcile.owner)."""

from __future__ import annotations

from datetime import timedelta

from reconciler.providers.base import ObservedTemplate
from reconciler.reconcile.changes import Action
from reconciler.reconcile.owner import Ownership, ownership
from reconciler.reconcile.plan import plan_channel
from reconciler.reconcile.rollout import OWNER, UNPUBLISHED
from tests.reconcile.test_plan_logic import NOW, OWNER_ID, V1, V2, actions, channel, observe, seen

OTHER = "ali@fedcba9876"


def owned_by(template: ObservedTemplate, owner: str | None) -> ObservedTemplate:
    tags = {k: v for k, v in template.tags.items() if k != OWNER}
    return template.model_copy(update={"tags": {**tags, OWNER: owner} if owner else tags})


def test_ownership_needs_the_mark_or_proof_from_the_channels_own_target() -> None:
    mine, theirs, bare = (owned_by(seen(V1, "SMS_1"), o) for o in (OWNER_ID, OTHER, None))
    assert ownership(mine, OWNER_ID) is Ownership.OWN
    assert ownership(theirs, OWNER_ID) is Ownership.FOREIGN
    assert ownership(theirs, OWNER_ID, recorded={"SMS_1"}, wanted={V1.request.name}) is Ownership.FOREIGN
    assert ownership(theirs, OWNER_ID, used={"SMS_1"}) is Ownership.KNOWN  # our published config names it
    assert ownership(bare, OWNER_ID) is Ownership.FOREIGN
    assert ownership(bare, OWNER_ID, recorded={"SMS_1"}) is Ownership.KNOWN
    assert ownership(bare, OWNER_ID, wanted={V1.request.name}) is Ownership.KNOWN
    assert ownership(bare, "", wanted=()) is Ownership.FOREIGN


def test_another_channels_templates_are_neither_removed_nor_used() -> None:
    theirs = owned_by(seen(V1, "SMS_1", live_since=NOW - timedelta(days=3)), OTHER)
    # A pruning channel that does not have the template: nothing to do, the template is foreign.
    pruned = plan_channel(channel(prune=True), observe(theirs, published={}), now=NOW)
    assert pruned.changes == () and [t.code for t in pruned.foreign] == ["SMS_1"]
    # A channel that wants the same content registers its own version: the other's is not its live one.
    wanting = plan_channel(channel(V1, prune=True), observe(theirs, published={}), now=NOW)
    assert actions(wanting.changes) == [("create", f"prod/{V1.request.name}")]
    assert wanting.changes[0].before is None


def test_copies_are_counted_per_owner() -> None:
    oldest_theirs = owned_by(seen(V1, "SMS_1", created=NOW - timedelta(days=3)), OTHER)
    ours = seen(V1, "SMS_2", live_since=NOW - timedelta(days=2), created=NOW - timedelta(days=2))
    our_copy = seen(V1, "SMS_3", created=NOW - timedelta(days=2) + timedelta(seconds=1))
    plan = plan_channel(channel(V1, prune=True), observe(oldest_theirs, ours, our_copy), now=NOW)
    assert actions(plan.changes) == [("noop", f"prod/{V1.request.name}"), ("retire", f"prod/{V1.request.name}")]
    assert plan.changes[0].before is not None and plan.changes[0].before.code == "SMS_2"  # ours, not their older one
    assert plan.changes[1].before is not None and plan.changes[1].before.code == "SMS_3"
    assert [t.code for t in plan.foreign] == ["SMS_1"]


def test_a_version_without_an_owner_mark_is_used_but_never_deleted() -> None:
    """Created by an older smsops (or its mark never written): unpublished when removed from git,
    then left alone; while the channel's target still proves it the plan says how to claim it."""
    legacy = owned_by(seen(V1, "SMS_1", live_since=NOW - timedelta(days=3)), None)
    first = plan_channel(channel(prune=True), observe(legacy, published={"alert": "SMS_1"}), now=NOW)
    assert actions(first.changes) == [("unpublish", f"prod/{V1.request.name}")]
    gone = legacy.model_copy(update={"tags": {**legacy.tags, UNPUBLISHED: NOW.isoformat()}})
    later = plan_channel(channel(prune=True), observe(gone, published={}), now=NOW + timedelta(days=2))
    assert later.changes == () and [t.code for t in later.foreign] == ["SMS_1"]
    # Its marks document still has marks of its own for it: a superseded version kept with a hint.
    v2 = seen(V2, "SMS_2", live_since=NOW - timedelta(days=2), created=NOW - timedelta(days=2))
    seen_both = observe(gone, v2, published={"alert": "SMS_2"}).model_copy(update={"recorded": ("SMS_1",)})
    both = plan_channel(channel(V2, prune=True), seen_both, now=NOW + timedelta(days=2))
    assert [(c.action, c.before.code if c.before else "") for c in both.changes] == [
        (Action.NOOP, "SMS_2"),
        (Action.NOOP, "SMS_1"),
    ]
    assert both.changes[1].reason.endswith(f"mark it smsops-owner={OWNER_ID} to let this channel delete it")


def test_without_template_tags_a_name_proves_nothing() -> None:
    """Tencent keeps marks beside each channel's published config: another channel's owner mark is
    out of sight, so an unmarked version counts only when this channel's marks document has it."""
    bare = owned_by(seen(V1, "SMS_1"), None)
    tencent = channel(V1).model_copy(update={"provider": "tencent"})
    unseen = plan_channel(tencent, observe(bare, published={}), now=NOW)
    assert actions(unseen.changes) == [("create", f"prod/{V1.request.name}")] and len(unseen.foreign) == 1
    recorded = observe(bare, published={}).model_copy(update={"recorded": ("SMS_1",)})
    known = plan_channel(tencent, recorded, now=NOW)
    assert actions(known.changes) == [("promote", f"prod/{V1.request.name}")] and known.foreign == ()
