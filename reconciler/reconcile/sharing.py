"""One signature of one provider account is one resource, however many channels use it.

Each channel plans its managed signature on its own (``reconciler.reconcile.signatures``); this pass
over the whole plan keeps one row per signature of an account: the first sharing channel by name
that is not blocked carries it (its reason names every sharing channel), the others drop theirs and
their notices of a rejection, and leave that signature out of the digest apply checks (the owner's
apply changes it first). A signature no longer managed that several channels of an account still
mark is deleted by one row; the others say where. Templates of every sharing channel keep waiting
for the signature as their own plan said.

Every row of a shared signature names the other sharing channels (``Change.shared_with``), also
those outside a ``--channel`` selection: apply keeps the signature's marks beside each of them, so a
channel applied alone leaves the others' next plans knowing what was submitted.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.reconcile.changes import Action, Change, ChannelObservation, ChannelPlan

# A signature row's key (``_row_keys``) -> the channels with a row for it, the one that carries it first.
Carriers = dict[tuple[str, ...], list[str]]


def one_row_each(planned: Sequence[tuple[ChannelPlan, ChannelObservation]]) -> tuple[ChannelPlan, ...]:
    """``planned`` (each channel's plan with what it was computed from) with one row per signature."""
    plans = [(_naming_sharers(plan, observed), observed) for plan, observed in planned]
    carriers: Carriers = {}
    for plan, observed in sorted(plans, key=lambda p: (p[0].blockers != (), p[0].channel)):  # unblocked first
        for key in filter(None, _row_keys(plan, observed)):
            carriers.setdefault(key, []).append(plan.channel)
    return tuple(_one_each(plan, observed, carriers) for plan, observed in plans)


def _current(plan: ChannelPlan) -> Change | None:
    return next((c for c in plan.changes if c.signature is not None), None)


def _naming_sharers(plan: ChannelPlan, observed: ChannelObservation) -> ChannelPlan:
    """The channel's signature row naming the other channels of the account that manage it."""
    row = _current(plan)
    others = tuple(name for name in observed.signature_group if name != plan.channel)
    if row is None or not others:
        return plan
    shared = row.model_copy(
        update={"shared_with": others, "reason": f"{row.reason} (shared by {', '.join(observed.signature_group)})"}
    )
    return plan.model_copy(update={"changes": tuple(shared if c is row else c for c in plan.changes)})


def _one_each(plan: ChannelPlan, observed: ChannelObservation, carriers: Carriers) -> ChannelPlan:
    """``plan`` without the rows another channel carries; the carrier's row names the channels
    whose marks it writes too."""
    changes: list[Change] = []
    owner = ""
    for change, key in zip(plan.changes, _row_keys(plan, observed), strict=True):
        channels = carriers.get(key, [plan.channel]) if key else [plan.channel]
        if channels[0] == plan.channel:
            others = tuple(sorted({*change.shared_with, *channels[1:]}))
            changes.append(change.model_copy(update={"shared_with": others}) if others else change)
            continue
        owner = owner or channels[0]
        if change.retired_signature is not None:  # a row saying where it is deleted, no signature left behind
            why = f"deleted by channel {channels[0]}'s row (one signature of the account)"
            changes.append(change.model_copy(update={"action": Action.NOOP, "reason": why}))
    if not owner:
        return plan.model_copy(update={"changes": tuple(changes)})
    name = observed.signature.name if observed.signature is not None else None
    rejected = tuple(a for a in plan.attention if a.code.startswith("signature-") and f"'{name}'" in a.message)
    return plan.model_copy(
        update={
            "changes": tuple(changes),
            "attention": tuple(a for a in plan.attention if a not in rejected),
            "signature_owner": owner,
            "observed_digest": observed.digest(shared=True),
        }
    )


def _row_keys(plan: ChannelPlan, observed: ChannelObservation) -> list[tuple[str, ...]]:
    """Per change of ``plan``: its key among ``_keys`` (() for a change that is no signature row)."""
    keys = []
    for change in plan.changes:
        retired = change.retired_signature
        if change.signature is not None and len(observed.signature_group) > 1:
            keys.append(observed.signature_group)
        elif retired is not None and change.action is Action.DELETE and observed.account:
            keys.append((observed.account, retired.name, retired.settings.get("country", "")))
        else:
            keys.append(())
    return keys
