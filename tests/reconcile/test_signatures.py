"""Signature planning rules (pure: no provider, no sops): what the plan does with a channel's
managed signature in each review state, and how templates wait for it."""

from __future__ import annotations

from datetime import UTC, datetime

from reconciler.config.signature import AlibabaSignature, AwsSignature, SenderId, TencentSignature
from reconciler.providers.base import (
    ObservedSignature,
    ReviewStatus,
    SignatureFile,
    SignatureRequest,
    TemplateKind,
    TemplateRequest,
)
from reconciler.reconcile.baseline import BASELINE, hidden
from reconciler.reconcile.changes import Action, ChannelObservation, DesiredChannel, DesiredTemplate
from reconciler.reconcile.plan import plan_channel
from reconciler.reconcile.signatures import DELETED, SIGNED, plan_signature, reported, retire_signatures

NOW = datetime(2026, 12, 5, tzinfo=UTC)
PROOF = SignatureFile(field="proofImage", path="signatures/proof.png.enc", suffix="png", sha256="ab" * 32)
TENCENT = SignatureRequest(
    name="OnePro",
    settings=TencentSignature(type="company", document_type=0, proof_image={"sops": "proof.png.enc"}),
    files=(PROOF,),
    digest="d1",
)
ALIBABA = SignatureRequest(name="OnePro", settings=AlibabaSignature(qualification_id="42"), digest="d2")
AWS = SignatureRequest(
    name="OnePro", settings=AwsSignature(sender_ids=(SenderId(country="GB", deletion_protection=True),)), digest="d3"
)


def seen(status: ReviewStatus, reason: str = "", submitted: str = "", **settings: str) -> ObservedSignature:
    return ObservedSignature(
        name="OnePro", status=status, reason=reason, settings=settings, tags={SIGNED: submitted} if submitted else {}
    )


def test_a_missing_signature_is_created_and_templates_wait() -> None:
    planned = plan_signature("cn", "tencent", TENCENT, None)
    assert (planned.change.action, planned.change.reason, planned.waits) == (
        Action.CREATE,
        "new signature: submitted for review",
        "to be created",
    )
    assert planned.change.address == "cn/signature/OnePro" and planned.change.awaiting_review


def test_pending_waits_and_a_change_while_pending_is_resubmitted_where_allowed() -> None:
    assert plan_signature("cn", "tencent", TENCENT, seen(ReviewStatus.PENDING, submitted="d1")).change.action is (
        Action.NOOP
    )
    changed = plan_signature("cn", "tencent", TENCENT, seen(ReviewStatus.PENDING, submitted="old"))
    assert (changed.change.action, changed.waits) == (Action.UPDATE, "pending")
    # Alibaba's UpdateSmsSign takes rejected signatures only: a pending one waits for its review.
    held = plan_signature("prod", "alibaba", ALIBABA, seen(ReviewStatus.PENDING, submitted="old"))
    assert (held.change.action, held.change.reason) == (Action.NOOP, "awaiting provider review")


def test_rejected_is_shown_with_its_reason_and_resubmitted_in_place_once_git_changes() -> None:
    same = plan_signature("prod", "alibaba", ALIBABA, seen(ReviewStatus.REJECTED, "blurred licence", "d2"))
    assert same.change.action is Action.NOOP
    assert [a.message for a in same.attention] == ["signature 'OnePro' was rejected by the provider: blurred licence"]
    fixed = plan_signature("prod", "alibaba", ALIBABA, seen(ReviewStatus.REJECTED, "blurred licence", "older"))
    assert (fixed.change.action, fixed.change.reason) == (
        Action.UPDATE,
        "rejected: blurred licence; resubmitted in place",
    )
    # A setting the provider reports back counts even without the mark.
    reported_change = plan_signature("prod", "alibaba", ALIBABA, seen(ReviewStatus.REJECTED, qualificationId="7"))
    assert reported_change.change.action is Action.UPDATE


def test_a_rejected_signature_submitted_outside_smsops_is_resubmitted_from_git() -> None:
    """No mark says what the provider rejected (made by hand, or before adoption): git's document is
    the fix, shown as such in the plan; once smsops has submitted it, the mark decides again."""
    unknown = plan_signature(
        "prod", "alibaba", ALIBABA, seen(ReviewStatus.REJECTED, "blurred licence", qualificationId="42")
    )
    assert (unknown.change.action, unknown.change.reason) == (
        Action.UPDATE,
        "rejected: blurred licence; submitted outside smsops: resubmitted in place from git",
    )
    pending = plan_signature("prod", "alibaba", ALIBABA, seen(ReviewStatus.PENDING, qualificationId="42"))
    assert pending.change.action is Action.NOOP  # a review under way is never restarted on a guess


def test_an_approved_signature_that_changed_is_a_blocker_unless_the_provider_can_change_it() -> None:
    ok = plan_signature("prod", "alibaba", ALIBABA, seen(ReviewStatus.APPROVED, submitted="d2", qualificationId="42"))
    assert (ok.change.action, ok.waits, ok.blockers) == (Action.NOOP, "", [])
    moved = plan_signature("prod", "alibaba", ALIBABA, seen(ReviewStatus.APPROVED, qualificationId="41"))
    assert [(b.code, b.message) for b in moved.blockers] == [
        ("signature-immutable", "signature 'OnePro' is approved, and qualificationId changed in git")
    ]
    assert "UpdateSmsSign takes rejected ones" in moved.blockers[0].hint
    protection = seen(ReviewStatus.APPROVED, deletionProtection="false", messageTypes="TRANSACTIONAL")
    updated = plan_signature("us", "aws", AWS, protection)
    assert (updated.change.action, updated.change.reason) == (
        Action.UPDATE,
        "approved; deletionProtection changed: updated in place (sender IDs have no review)",
    )
    types = seen(ReviewStatus.APPROVED, deletionProtection="true", messageTypes="PROMOTIONAL")
    assert [b.code for b in plan_signature("us", "aws", AWS, types).blockers] == ["signature-immutable"]


def test_reported_settings_are_flat_and_spelt_as_adapters_report_them() -> None:
    assert reported(AWS) == {"country": "GB", "deletionProtection": "true", "messageTypes": "TRANSACTIONAL"}
    assert reported(TENCENT)["international"] == "false"


def template(name: str) -> DesiredTemplate:
    request = TemplateRequest(name=f"{name}~abcdef1", content="Code ${code}", kind=TemplateKind.VERIFICATION)
    return DesiredTemplate(name=name, fingerprint="abcdef1", request=request)


def test_templates_wait_for_an_unapproved_signature_and_go_once_it_is_approved() -> None:
    desired = DesiredChannel(
        name="prod", provider="alibaba", signature="OnePro", templates=(template("login"),), managed_signature=ALIBABA
    )
    waiting = plan_channel(desired, ChannelObservation(channel="prod", tags_supported=True), now=NOW)
    assert [(c.action, c.address, c.waits_for, c.reason) for c in waiting.changes] == [
        (Action.CREATE, "prod/signature/OnePro", "", "new signature: submitted for review"),
        (
            Action.NOOP,
            "prod/login~abcdef1",
            "signature OnePro",
            "waits for signature 'OnePro' (to be created): create once it is approved",
        ),
    ]
    assert waiting.blockers == ()
    approved = ChannelObservation(
        channel="prod", tags_supported=True, signature=seen(ReviewStatus.APPROVED, submitted="d2")
    )
    going = plan_channel(desired, approved, now=NOW)
    assert [(c.action, c.address) for c in going.changes] == [
        (Action.NOOP, "prod/signature/OnePro"),
        (Action.CREATE, "prod/login~abcdef1"),
    ]


def test_the_plan_json_holds_file_digests_never_contents() -> None:
    from pydantic import SecretBytes

    loaded = TENCENT.model_copy(update={"files": (PROOF.model_copy(update={"content": SecretBytes(b"CANARY")}),)})
    desired = DesiredChannel(name="cn", provider="tencent", signature="OnePro", templates=(), managed_signature=loaded)
    text = plan_channel(desired, ChannelObservation(channel="cn"), now=NOW).model_dump_json()
    assert "CANARY" not in text and PROOF.sha256 in text


def test_a_signature_no_longer_managed_is_kept_while_anything_needs_it() -> None:
    def old(status: ReviewStatus = ReviewStatus.APPROVED, **settings: str) -> ObservedSignature:
        return ObservedSignature(name="OldSign", status=status, settings=settings, tags={SIGNED: "d0"})

    desired = DesiredChannel(name="cn", provider="aws", signature="OnePro", templates=(), prune=True)
    cases = [
        (desired, old(), {"signature_users": {"OldSign": ("eu",)}}, "channel(s) eu"),
        (desired, old(), {"published_signature": "OldSign"}, "the published config still names it"),
        (desired, old(ReviewStatus.PENDING), {}, "under review"),
        (desired, old(deletionProtection="true"), {}, "deletion protection is on"),
        (desired.model_copy(update={"prune": False}), old(), {}, "rollout.prune is off"),
        (desired, old(deletionProtection="false"), {}, "deleted (prune)"),
    ]
    for wanted, retired, seen_more, why in cases:
        observed = ChannelObservation(channel="cn", retired_signatures=(retired,), **seen_more)
        (row,), attention = retire_signatures(wanted, observed)
        assert why in row.reason and row.address == "cn/signature/OldSign"
        assert row.action is (Action.DELETE if why == "deleted (prune)" else Action.NOOP)
        # only what prune would delete but protection keeps needs a person (else it stays, unremarked)
        assert [b.code for b in attention] == (["signature-protected"] if "protection" in why else [])
    protected = ChannelObservation(channel="cn", retired_signatures=(old(deletionProtection="true"),))
    assert retire_signatures(desired.model_copy(update={"prune": False}), protected)[1] == []


def test_an_adopted_approved_signature_records_a_baseline_of_what_the_provider_does_not_return() -> None:
    """Approved, never submitted by smsops: a ``record`` row (no provider call, templates go ahead)
    with the digest of the fields the provider's read lacks; with that baseline kept, the same git
    is nothing to do and an edit of a hidden field or file is a change."""
    reads = {"qualificationId": "42", "remark": "", "type": "general", "thirdParty": "false"}
    first = plan_signature("prod", "alibaba", ALIBABA, seen(ReviewStatus.APPROVED, **reads))
    assert (first.change.action, first.waits, first.blockers) == (Action.RECORD, "", [])
    assert "the provider does not return source); later edits are compared to it" in first.change.reason
    assert first.change.baseline == hidden(ALIBABA, seen(ReviewStatus.APPROVED, **reads)).digest

    def kept(baseline: str) -> ObservedSignature:
        return seen(ReviewStatus.APPROVED, **reads).model_copy(update={"tags": {BASELINE: baseline}})

    assert plan_signature("prod", "alibaba", ALIBABA, kept(first.change.baseline)).change.action is Action.NOOP
    moved = plan_signature("prod", "alibaba", ALIBABA, kept("0123456789abcdef"))
    assert [b.message for b in moved.blockers] == [
        "signature 'OnePro' is approved, and source changed in git since its baseline was recorded "
        "(the provider does not return them)"
    ]
    assert "delete the 'signature:OnePro' entry of the channel's marks document" in moved.blockers[0].hint
    # Deleted by smsops, made again by hand: adopted like any other.
    deleted = seen(ReviewStatus.APPROVED, submitted=DELETED, **reads)
    assert plan_signature("prod", "alibaba", ALIBABA, deleted).change.action is Action.RECORD
    # A rejection after the baseline is git's to fix, not resubmitted on a guess.
    rejected = kept(first.change.baseline).model_copy(update={"status": ReviewStatus.REJECTED, "reason": "expired"})
    assert plan_signature("prod", "alibaba", ALIBABA, rejected).change.action is Action.NOOP


def test_the_baseline_digest_covers_only_what_is_hidden_and_files_by_their_digest() -> None:
    reads = {"international": "false", "qualificationId": ""}
    observed = seen(ReviewStatus.APPROVED, **reads)
    base = hidden(TENCENT, observed)
    assert base.fields == ("documentType", "proofImage", "purpose", "remark", "type")
    moved_file = PROOF.model_copy(update={"path": "elsewhere/proof.png.enc"})
    assert hidden(TENCENT.model_copy(update={"files": (moved_file,)}), observed) == base  # re-encrypted, moved
    other_bytes = PROOF.model_copy(update={"sha256": "cd" * 32})
    assert hidden(TENCENT.model_copy(update={"files": (other_bytes,)}), observed).digest != base.digest
    settings = TENCENT.settings.model_copy(update={"international": True})
    assert hidden(TENCENT.model_copy(update={"settings": settings}), observed) == base  # returned: compared directly
    # Every field of a sender ID is returned: nothing for a baseline to watch.
    every = seen(ReviewStatus.APPROVED, country="GB", deletionProtection="true", messageTypes="TRANSACTIONAL")
    assert not hidden(AWS, every)
    plain = plan_signature(
        "uk", "aws", AWS, every.model_copy(update={"settings": {**every.settings, "registrationId": ""}})
    )
    assert (plain.change.action, plain.change.reason) == (Action.NOOP, "approved")
