"""Redaction that every renderer, log line and error message passes through.

Secret values are registered as they are decrypted (``register_secret``); phone numbers are masked
by shape wherever they appear, registered or not: ``+8613812340000`` becomes ``+86 138****0000``.
"""

from __future__ import annotations

import re
import threading

_lock = threading.Lock()
_secrets: set[str] = set()

# E.164-ish numbers (+ and 8-15 digits), and bare mainland mobiles (1[3-9] + 9 digits).
_PHONE = re.compile(r"(?<![\w])(\+\d{8,15}|(?:0086|86)?1[3-9]\d{9})(?![\w])")
_COUNTRY_CODES = ("1", "7", "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "44",
                  "45", "46", "47", "48", "49", "52", "55", "60", "61", "62", "63", "64", "65", "66",
                  "81", "82", "84", "86", "90", "91", "852", "853", "886", "971")


def register_secret(value: str) -> None:
    """Remember a secret value so it is masked wherever it appears. Short values are ignored
    (masking 'a' everywhere would shred the output and protects nothing)."""
    if len(value) >= 4:
        with _lock:
            _secrets.add(value)


def mask_phone(number: str) -> str:
    digits = number.lstrip("+")
    country = ""
    if number.startswith("+"):
        country = next((c for c in sorted(_COUNTRY_CODES, key=len, reverse=True) if digits.startswith(c)), "")
    elif digits.startswith("0086"):
        country, digits = "86", digits[4:]
    elif len(digits) == 13 and digits.startswith("86"):
        country, digits = "86", digits[2:]
    else:
        country = ""
    national = digits[len(country) :] if number.startswith("+") else digits
    head, tail = national[:3], national[-4:]
    masked = f"{head}****{tail}" if len(national) > 7 else "****" + tail[-2:]
    return f"+{country} {masked}" if country else masked


def redact(text: str) -> str:
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "[REDACTED]")
    return _PHONE.sub(lambda m: mask_phone(m.group(1)), text)
