"""`smsops sandbox accounts | add-signature | add-template | request-sender-id`, run in-process,
and what the emulators then serve from the fixtures they made."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.providers.base import ReviewStatus
from reconciler.sandbox.aws.emulator import create_account as create_aws
from reconciler.sandbox.aws.ops import Call, sender_rows
from reconciler.sandbox.store.account import Sandbox
from reconciler.sandbox.tencent.emulator import create_account as create_tencent

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def state(tmp_path: Path) -> Path:
    path = tmp_path / "state"
    sandbox = Sandbox(path)
    sandbox.create_account("shop", provider="alibaba", access_keys={"LTAIshop00000001": "secret-never-printed"})
    create_aws(sandbox, "shop-aws", access_key_id="AKIASHOP00000002", secret_access_key="aws-secret-never-printed")
    return path


def test_accounts_lists_key_ids_never_secrets(state: Path, run_cli: Run) -> None:
    code, out, err = run_cli("sandbox", "accounts", "--state-dir", str(state))
    assert (code, err) == (0, "")
    assert out == (
        "shop (alibaba): 0 signatures, 0 templates; access key ids: LTAI****0001\n"
        "shop-aws (aws): 0 sender IDs; access key ids: AKIA****0002\n"
    )
    listed = run_cli("sandbox", "accounts", "--output", "json", "--state-dir", str(state))[1]
    assert "secret" not in listed and "LTAIshop" not in listed and "LTAI****0001" in listed
    # --json, as the sandbox commands spelled it first, still works (hidden from --help)
    assert run_cli("sandbox", "accounts", "--json", "--state-dir", str(state))[1] == listed
    assert "--json" not in run_cli("sandbox", "accounts", "--help")[1]


def test_hand_made_signature_and_template_land_in_the_only_fitting_account(state: Path, run_cli: Run) -> None:
    assert run_cli("sandbox", "add-signature", "Acme", "--state-dir", str(state)) == (
        0,
        "shop: signature Acme: approved\n",
        "",
    )
    code, out, _ = run_cli(
        "sandbox", "add-template", "welcome", "--content", "Hi ${name}", "--sign", "Acme", "--state-dir", str(state)
    )
    assert (code, out) == (0, "shop: template SMS_470000001 welcome: approved\n")
    code, out, _ = run_cli(
        "sandbox", "add-template", "promo", "--content", "Sale", "--kind", "marketing", "--status", "rejected",
        "--reason", "too loud", "--state-dir", str(state),
    )  # fmt: skip
    assert out == "shop: template SMS_470000002 promo: rejected\n"
    account = Sandbox(state).account("shop")
    # As a console leaves it: what GetSmsSign returns is there for `import` to write and `plan` to compare.
    acme = account.signature("Acme")
    assert acme is not None and (acme.remark, acme.extra["qualification_id"], acme.extra["sign_type"]) == (
        "Made by hand in the sandbox.",
        10000001,
        1,
    )
    assert [(t.name, t.status, t.reason, t.extra["type"]) for t in account.templates()] == [
        ("welcome", ReviewStatus.APPROVED, "", 1),
        ("promo", ReviewStatus.REJECTED, "too loud", 2),
    ]


def test_request_sender_id_applies_the_api_rules(state: Path, run_cli: Run) -> None:
    code, out, _ = run_cli("sandbox", "request-sender-id", "OnePro", "--country", "gb", "--state-dir", str(state))
    assert code == 0
    assert out.startswith("shop-aws: sender ID OnePro (GB): arn:aws:sms-voice:us-east-1:")
    account = Sandbox(state).account("shop-aws")
    assert [r["sender_id"] for r in sender_rows(Call(account, "us-east-1"))] == ["OnePro"]
    code, _, err = run_cli("sandbox", "request-sender-id", "12345", "--country", "GB", "--state-dir", str(state))
    assert (code, err.splitlines()[0]) == (
        1,
        "error: FIELD_VALIDATION_FAILED: A sender ID is 1-11 letters, digits, - or _, with at least one letter.",
    )


HINT = "choose a name the provider accepts; `smsops sandbox status` lists the account's signatures"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("X", "SignName must be 2-12 characters without brackets, spaces, commas, periods or the word test."),
        (
            "ThirteenChars",
            "SignName must be 2-12 characters without brackets, spaces, commas, periods or the word test.",
        ),
        ("Acme Co", "SignName must be 2-12 characters without brackets, spaces, commas, periods or the word test."),
    ],
)
def test_add_signature_applies_the_alibaba_name_rule(state: Path, run_cli: Run, name: str, message: str) -> None:
    code, out, err = run_cli("sandbox", "add-signature", name, "--state-dir", str(state))
    assert (code, out) == (1, "")
    assert err == f"error: signature name {name!r}: {message}\n  hint: {HINT}\n"
    assert Sandbox(state).account("shop").signatures() == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("X", "The signature name must be at least 2 characters."),
        ("ThirteenChars", "The signature name is too long."),
    ],
)
def test_add_signature_applies_the_tencent_name_rule(state: Path, run_cli: Run, name: str, message: str) -> None:
    create_tencent(Sandbox(state), "shop-tc", secret_id="AKIDshop00000003", secret_key="tc-secret", signatures=())
    args = ("sandbox", "add-signature", name, "--account", "shop-tc", "--state-dir", str(state))
    code, out, err = run_cli(*args)
    assert (code, out) == (1, "")
    assert err == f"error: signature name {name!r}: {message}\n  hint: {HINT}\n"
    assert run_cli(*args[:2], "Acme", *args[3:])[:2] == (0, "shop-tc: signature Acme: approved\n")


def test_a_fixture_the_provider_cannot_hold_is_refused(state: Path, run_cli: Run) -> None:
    code, _, err = run_cli("sandbox", "add-signature", "Acme", "--account", "shop-aws", "--state-dir", str(state))
    assert (code, err) == (
        1,
        "error: sandbox account 'shop-aws' belongs to aws\n"
        "  hint: this fixture needs an account of alibaba or tencent\n",
    )
