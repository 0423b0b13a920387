from __future__ import annotations

from reconciler.content.identity import Identity, fingerprint, parse_provider_name


def test_fingerprint_changes_with_what_the_provider_reviews() -> None:
    base = fingerprint("Your code is ${code}", "verification", False)
    assert len(base) == 7
    assert base == fingerprint("Your code is ${code}", "verification", False)
    assert base != fingerprint("Your code: ${code}", "verification", False)
    assert base != fingerprint("Your code is ${code}", "notification", False)
    assert base != fingerprint("Your code is ${code}", "verification", True)


def test_provider_name_round_trips() -> None:
    identity = Identity("login-verification", "3f2a1c9")
    assert identity.provider_name == "login-verification~3f2a1c9"
    assert parse_provider_name(identity.provider_name) == identity


def test_hand_made_names_are_not_managed() -> None:
    assert parse_provider_name("登录验证码") is None
    assert parse_provider_name("login-verification") is None
    assert parse_provider_name("login-verification~3F2A1C9") is None
    assert parse_provider_name("login~3f2a1c9x") is None


def test_fingerprint_payload_is_the_json_it_always_was() -> None:
    """Fingerprints already live in provider-side names: the fast payload must hash the same bytes
    as ``json.dumps(sort_keys=True, ensure_ascii=False)`` did, for any content."""
    import hashlib
    import json
    import random

    generator = random.Random(7)
    alphabet = 'ab "\\\n\t\u2028{}$【】验证码😀\x00\x1f/'
    for _ in range(2000):
        content = "".join(generator.choice(alphabet) for _ in range(generator.randint(0, 30)))
        kind, international = generator.choice(["verification", "notification", "marketing"]), generator.random() < 0.5
        payload = json.dumps(
            {"content": content, "kind": kind, "international": international}, sort_keys=True, ensure_ascii=False
        )
        assert fingerprint(content, kind, international) == hashlib.sha256(payload.encode()).hexdigest()[:7]
