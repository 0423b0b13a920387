"""Redaction: registered secrets in any encoding, phone numbers by shape, log records; and no shredding."""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import uuid
from urllib.parse import quote, urlencode

import pytest

from reconciler.secrets import redact as redaction
from reconciler.secrets.redact import (
    RedactingFilter,
    install_log_redaction,
    mask_phone,
    redact,
    register_file,
    register_secret,
)


def canary(length: int = 32) -> str:
    """A value no other test registers, with characters that change under URL and JSON encoding."""
    return ("k/" + uuid.uuid4().hex + '+="&' + uuid.uuid4().hex)[:length]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("+8613812340000", "+86 138****0000"),
        ("+86 138 1234 0000", "+86 138****0000"),
        ("+86-138-1234-0000", "+86 138****0000"),
        ("13812340000", "138****0000"),
        ("138 1234 0000", "138****0000"),
        ("8613812340000", "+86 138****0000"),
        ("0086 138-1234-0000", "+86 138****0000"),
        ("+1 (415) 555-0100", "+1 41****0100"),
        ("+14155550100", "+1 41****0100"),
        ("+44 20 7946 0958", "+44 20****0958"),
        ("+447700900123", "+44 77****0123"),
        ("+852 9123 4567", "+852 ****4567"),
        ("+7 912 345-67-89", "+7 91****6789"),
        ("+234 803 123 4567", "+234 80****4567"),
        ("+971501234567", "+971 5****4567"),
    ],
)
def test_phone_numbers_are_masked(text: str, shown: str) -> None:
    assert redact(f"send to {text}.") == f"send to {shown}."


def test_mask_phone_of_short_numbers_keeps_little() -> None:
    assert mask_phone("+85291234567") == "+852 ****4567"
    assert mask_phone("1234567") == "****67"


def test_phone_inside_json_and_url_encoded_text() -> None:
    body = json.dumps({"PhoneNumbers": "+8613812340000", "list": ["+8613812340001"]})
    assert redact(body) == '{"PhoneNumbers": "+86 138****0000", "list": ["+86 138****0001"]}'
    assert redact(json.dumps({"to": "+8613812340000"}, ensure_ascii=True).replace("+", "\\u002b")) == (
        '{"to": "\\u002b86 138****0000"}'
    )
    query = urlencode({"PhoneNumbers": "+8613812340000", "SignName": "OnePro"})
    assert query == "PhoneNumbers=%2B8613812340000&SignName=OnePro"
    assert redact(query) == "PhoneNumbers=%2B86%20138****0000&SignName=OnePro"
    assert redact("PhoneNumberSet.0=%2b14155550100") == "PhoneNumberSet.0=%2b1%2041****0100"


@pytest.mark.parametrize(
    "text",
    [
        "request 1732450000000 took 23 ms",  # epoch milliseconds
        "BizId 900619746936498440^0",
        "order 2026-11-24 10:00:00 qty 12345678",
        "sops 3.11.0 on 127.0.0.1:8443",
        "code SMS_123456789 id 13812340000123",  # longer than a mobile number
        "template v2 fingerprint 4f3a9c1d2e8b",
        "token 13800000001abc",  # glued to letters: part of an identifier
    ],
)
def test_things_that_are_not_phone_numbers_are_left_alone(text: str) -> None:
    assert redact(text) == text


def test_two_fast_passes_match_the_single_phone_pattern() -> None:
    """``redact`` scans for international numbers, then for mainland ones written to start with a
    digit (fast); both together must find exactly what one alternation of the plain patterns finds."""
    import random
    import re

    from reconciler.secrets import redact as module

    reference = re.compile(rf"{module._INTERNATIONAL}|{module._MAINLAND}")
    pieces = ["+86", "86", "0086", "138", "1234", "0000", "1", "8", "0", " ", "-", "(", ")", "%2B", "\\u002b",
              "a", "x_", "+", "%", ".", "139", "13812340000", "\"", ":"]  # fmt: skip
    generator = random.Random(20261125)
    for _ in range(4000):
        text = "".join(generator.choice(pieces) for _ in range(generator.randint(1, 14)))
        expected = reference.sub(module._mask_match, text)
        assert module._mask_phones(text) == expected, text


def test_redact_is_idempotent() -> None:
    secret = canary()
    register_secret(secret)
    once = redact(f"{secret} +86 138 1234 0000 %2B8613812340000 13812340000")
    assert redact(once) == once


def test_registered_secret_is_masked_in_every_encoding() -> None:
    secret = canary()
    register_secret(secret)
    texts = [
        f"secret={secret}",
        f"glued{secret}glued",  # long values match even inside other text
        f"body={quote(secret, safe='')}",
        urlencode({"s": secret}),
        json.dumps({"s": secret}),
    ]
    for text in texts:
        out = redact(text)
        assert "[REDACTED]" in out
        assert secret not in out and quote(secret, safe="") not in out and json.dumps(secret)[1:-1] not in out


def test_short_and_common_values_do_not_shred_output() -> None:
    for value in ("abc", "12345", "true", "sandbox", "Production", "  localhost "):
        register_secret(value)
    text = "abc 12345 true sandbox Production localhost"
    assert redact(text) == text


def test_short_secrets_match_only_as_whole_tokens() -> None:
    register_secret("q7Zx9w")
    assert redact("key q7Zx9w, key=q7Zx9w&") == "key [REDACTED], key=[REDACTED]&"
    assert redact("q7Zx9wabc abcq7Zx9w") == "q7Zx9wabc abcq7Zx9w"


def test_phone_shaped_secret_is_masked_as_a_phone_number() -> None:
    register_secret("+8613999990001")
    assert redact("to +8613999990001") == "to +86 139****0001"


def test_longest_secret_wins() -> None:
    short, long = canary(20), canary(40)
    long = short + long[20:]
    register_secret(short)
    register_secret(long)
    assert redact(long) == "[REDACTED]"


def _logger() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    logger = logging.getLogger(f"test-redact-{uuid.uuid4().hex}")
    logger.propagate = False
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.addHandler(handler)
    return logger, stream


def test_log_records_are_redacted() -> None:
    secret = canary()
    register_secret(secret)
    logger, stream = _logger()
    install_log_redaction(logger)
    install_log_redaction(logger)  # idempotent: one filter per handler
    assert sum(isinstance(f, RedactingFilter) for f in logger.handlers[0].filters) == 1
    logger.warning("calling with %s for %s", secret, "+8613812340000")
    try:
        raise RuntimeError(f"signature failed for {secret}")
    except RuntimeError:
        logger.exception("send to %s failed", "13812340000")
    out = stream.getvalue()
    assert secret not in out
    assert "13812340000" not in out and "8613812340000" not in out
    assert out.startswith("WARNING calling with [REDACTED] for +86 138****0000\nERROR send to 138****0000 failed\n")
    assert "RuntimeError: signature failed for [REDACTED]" in out


def test_log_filter_survives_bad_format_arguments() -> None:
    secret = canary()
    register_secret(secret)
    logger, stream = _logger()
    logger.handlers[0].addFilter(RedactingFilter())
    logger.warning("only %s %s", secret)
    assert secret not in stream.getvalue()
    assert "[REDACTED]" in stream.getvalue()


def test_registered_number_keeps_the_encoding_it_is_found_in() -> None:
    register_secret("+8613812347777")
    query = urlencode({"PhoneNumbers": "+8613812347777"})
    assert redact(query) == "PhoneNumbers=%2B86%20138****7777"
    assert redact(json.dumps({"to": "+8613812347777"})) == '{"to": "+86 138****7777"}'


def proof_file() -> bytes:
    """A file no other test registers, whose base64 has ``+``, ``/`` and ``=`` (random bytes, 6008 of
    them: not a multiple of 3)."""
    while True:
        content = b"\x89PNG\r\n\x1a\n" + os.urandom(6000)
        if {"+", "/", "="} <= set(base64.b64encode(content).decode()):
            return content


def test_a_registered_file_is_masked_in_each_form_it_travels_in() -> None:
    content = proof_file()
    encoded = base64.b64encode(content).decode()
    register_file(content)
    uri = f"data:image/png;base64,{encoded}"
    percent = quote(encoded, safe="")
    lower = percent.replace("%2B", "%2b").replace("%2F", "%2f").replace("%3D", "%3d")
    forms = {
        "base64": encoded,
        "data URI": uri,
        "JSON body": json.dumps({"ProofImage": encoded}),
        "JSON array of data URIs": json.dumps([uri, uri]),
        "query string": urlencode({"MoreData": json.dumps([uri])}),
        "percent-encoded": percent,
        "lower-case escapes": lower,
        "encoded twice (a string to sign)": quote(quote(json.dumps([uri]), safe=""), safe=""),
        "escaped slashes": encoded.replace("/", "\\/"),
    }
    for name, form in forms.items():
        shown = redact(f"POST /?{form} HTTP/1.1")
        assert "[REDACTED]" in shown, name
        for piece in (encoded[:24], encoded[-24:], percent[-24:], encoded[len(encoded) // 2 :][:24]):
            assert piece not in shown, name
    assert redact(uri) == "data:image/png;base64,[REDACTED]"  # what was there stays readable
    assert redact(redact(uri)) == redact(uri)


def test_files_are_found_by_substring_search_not_compiled_into_the_pattern() -> None:
    register_secret(canary())
    compiled = redaction._compiled
    register_file(proof_file())
    assert redaction._compiled is compiled  # kilobytes of file never go into the regular expression


def test_a_tiny_file_masks_only_as_a_whole_token() -> None:
    content = b"\x00\xfe\x81tiny"
    register_file(content)
    encoded = base64.b64encode(content).decode()
    assert redact(f"ProofImage={encoded}") == "ProofImage=[REDACTED]"
    assert redact(f"x{encoded}y") == f"x{encoded}y"
