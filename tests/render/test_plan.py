from __future__ import annotations

from datetime import timedelta

from reconciler.reconcile.changes import Blocker, ChannelPlan, Plan
from reconciler.reconcile.plan import make_plan
from reconciler.render.plan import render, render_markdown
from tests.reconcile.test_plan_logic import NOW, V1, V2, channel, observe, seen


def sample_plan() -> Plan:
    live = seen(V1, "SMS_1", live_since=NOW - timedelta(days=3))
    return make_plan([(channel(V2), observe(live))], config_dir="sms-config", now=NOW)


def test_text_lists_each_change_and_ends_with_the_summary() -> None:
    text = render(sample_plan(), "text")
    lines = text.rstrip("\n").splitlines()
    assert lines[0] == "Channel prod (alibaba)"
    assert lines[1].split()[:3] == ["+", "create", f"prod/{V2.request.name}"]
    assert "      - Alert ${name} fired" in lines
    assert "      + Alert ${name} fired at ${time}" in lines
    assert lines[-1] == "Plan: 1 to create, 0 to update, 0 to promote, 0 to retire, 0 to delete; 1 awaiting review."


def test_json_is_the_plan_itself() -> None:
    plan = sample_plan()
    assert Plan.model_validate_json(render(plan, "json")) == plan


def test_markdown_has_a_section_per_channel_and_the_summary() -> None:
    md = render(sample_plan(), "markdown")
    assert "### Channel `prod` (alibaba)" in md
    assert f"| + | create | `prod/{V2.request.name}` | (new) | to review |" in md
    assert md.rstrip().endswith(
        "**Plan: 1 to create, 0 to update, 0 to promote, 0 to retire, 0 to delete; 1 awaiting review.**"
    )


def test_markdown_stays_under_the_comment_limit_with_a_truncation_note() -> None:
    plan = sample_plan()
    many = plan.model_copy(update={"channels": plan.channels * 400})
    md = render_markdown(many, limit=20_000)
    assert len(md) < 20_000
    assert "_Truncated: " in md and "left out to stay under 20,000 characters" in md


def test_a_large_channel_keeps_its_first_changes_and_counts_the_rest() -> None:
    plan = sample_plan()
    (channel,) = plan.channels
    big = channel.model_copy(update={"changes": channel.changes * 800})
    md = render_markdown(plan.model_copy(update={"channels": (big,)}), limit=20_000)
    assert len(md) < 20_000
    assert "### Channel `prod` (alibaba)" in md
    kept = md.count("| + | create |")
    assert 0 < kept < 800
    assert f"_… and {800 - kept} more change(s) in this channel._" in md
    assert "_Truncated: some changes left out to stay under 20,000 characters; " in md


def test_github_annotates_blockers_and_changes_without_phone_numbers() -> None:
    blocked = ChannelPlan(
        channel="prod",
        provider="alibaba",
        blockers=(Blocker(channel="prod", code="x", message="number +8613812345678 refused\nby provider"),),
        observed_digest="d",
    )
    plan = sample_plan()
    plan = plan.model_copy(update={"channels": (*plan.channels, blocked)})
    out = render(plan, "github")
    assert "::error title=smsops prod::number +86 138****5678 refused%0Aby provider" in out
    assert f"::notice title=smsops prod::create prod/{V2.request.name}: content changed" in out
    assert "13812345678" not in out
