"""Redaction that every renderer, log line and error message passes through.

Secret values are registered as they are decrypted (``register_secret``) and replaced by
``[REDACTED]`` wherever they appear, also URL-encoded or JSON-escaped. Phone numbers are masked by
shape wherever they appear, registered or not: ``+8613812340000`` becomes ``+86 138****0000``, also
written with spaces/dashes/parentheses, as ``%2B86…`` in URL-encoded text or ``\\u002b86…`` in JSON.

Decrypted files (proof images, qualification documents) are registered whole (``register_file``)
in the forms their bytes take on the wire: base64 and its percent- or JSON-escaped spellings.

Not shredding output matters too: values shorter than ``MIN_SECRET_LENGTH`` or common words are
not registered, and values shorter than ``_WHOLE_TOKEN_BELOW`` only match as a whole token
(``prod42x`` is not masked inside ``prod42xyz``). ``redact`` is idempotent.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from typing import Any
from urllib.parse import quote, quote_plus

MIN_SECRET_LENGTH = 6
REDACTED = "[REDACTED]"
# Long values are random key material: match them anywhere, even glued to other text. Short ones are
# more likely to occur by chance inside a word, so they must stand alone.
_WHOLE_TOKEN_BELOW = 16
_COMMON = frozenset(
    {"true", "false", "null", "none", "default", "sandbox", "staging", "production", "example",
     "changeme", "password", "secret", "test", "localhost"}
)  # fmt: skip

_lock = threading.Lock()
_replacements: dict[str, str] = {}  # text as it may appear -> what to show instead
# The pattern over them, with them: a text holding none (most) is not scanned with the pattern, as
# a plain search is many times faster. One tuple, so a reader never sees one without the other.
_compiled: tuple[re.Pattern[str], tuple[str, ...]] | None = None
# Registered files as they may appear, longest first. Kilobytes each: found by a plain substring
# search (fast for long needles), never compiled into the pattern (which they would make slow to
# build and to run). One tuple, replaced whole under the lock: readers never see it half made.
_files: tuple[str, ...] = ()

# The "+" of an international number, plain, URL-encoded or JSON-escaped.
_PLUS = r"(?P<plus>\+|%2[bB]|\\u002[bB])"
# + then 8-15 digits, which may be grouped by spaces, dashes, dots or parentheses: +1 (415) 555-0100.
_INTERNATIONAL = rf"{_PLUS}\(?\d(?:[ \-.()]{{0,2}}\d){{7,14}}(?!\d)"
# Mainland China mobiles without "+": 13812340000, 138 1234 0000, 8613812340000, 0086 138-1234-0000.
_MAINLAND = r"(?<![\w+%])(?:0086[ -]?|86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?![\w])"
# The same, written to begin with what it consumes (0, 8 or 1): a pattern that begins with a
# lookbehind is tried at every position of the text, this one only where such a digit is; on a
# 900 kB plan that is 15 ms instead of 76. tests/secrets/test_redact.py holds the two to the same matches.
_MAINLAND_FAST = r"[018](?<![\w+%][018])(?:(?<=0)086[ -]?1|(?<=8)6[ -]?1|(?<=1))[3-9]\d(?:[ -]?\d{4}){2}(?![\w])"
# Two passes instead of one alternation (which no prefix scan can speed up): a mainland match holds
# no '+', '%' or '\\', so it can neither overlap an international one nor be changed by masking one.
_PHONE_PASSES = (re.compile(_INTERNATIONAL), re.compile(_MAINLAND_FAST))
_PHONE_SHAPE = re.compile(rf"^(?:{_INTERNATIONAL}|{_MAINLAND})$")

# E.164 country codes are prefix-free: 1 and 7 are one digit, these are two, all others three.
_TWO_DIGIT_CODES = frozenset(
    ("20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47", "48",
     "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66", "81",
     "82", "84", "86", "90", "91", "92", "93", "94", "95", "98")
)  # fmt: skip


def register_secret(value: str) -> None:
    """Remember a secret value so it is masked wherever it appears. Short values and common words are
    ignored: masking them everywhere would shred the output and protects nothing."""
    value = value.strip()
    if len(value) < MIN_SECRET_LENGTH or value.lower() in _COMMON:
        return
    phone = _PHONE_SHAPE.match(value) is not None
    variants = {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
    # A number is shown masked in the encoding it was found in (%2B86%20138****0000 in a query).
    shown = {v: _mask_phones(v) if phone else REDACTED for v in variants}
    global _compiled
    with _lock:
        if all(_replacements.get(v) == shown[v] for v in variants):
            return
        _replacements.update(shown)
        _compiled = _compile(_replacements), tuple(_replacements)


def register_file(content: bytes) -> None:
    """Remember a decrypted file so it is masked in every form its bytes take in a request or a log:
    base64 as an SDK sends it (Tencent's ProofImage), percent-encoded in a query or form body
    (Alibaba's MoreData: ``+ / =`` as ``%2B %2F %3D``, either case, or twice over as in a string to
    sign), and JSON with escaped slashes. A data URI (``data:image/png;base64,…``) and a JSON array
    of them hold one of these verbatim, so masking it masks them and leaves the media type, which
    tells a reader what was there. Files too short to be told from ordinary text are registered as
    secrets (whole tokens only)."""
    encoded = base64.b64encode(content).decode()
    if len(encoded) < _WHOLE_TOKEN_BELOW:
        register_secret(encoded)
        return
    # These three are all that percent-encoding changes in base64: replacing them is many times
    # faster than quote() (or str.translate) on a few megabytes.
    percent = encoded.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    lower = encoded.replace("+", "%2b").replace("/", "%2f").replace("=", "%3d")
    forms = {encoded, percent, lower, percent.replace("%", "%25"), encoded.replace("/", "\\/")}
    global _files
    with _lock:
        if forms <= set(_files):
            return
        _files = tuple(sorted(forms | set(_files), key=len, reverse=True))


def mask_phone(number: str) -> str:
    """``+8613812340000`` -> ``+86 138****0000``; a national number keeps no country: ``138****0000``.
    At most 3 leading and 4 trailing digits stay, and never more than half of a short number."""
    prefix = re.match(r"\s*(?:\+|%2[bB]|\\u002[bB])", number)
    international = prefix is not None
    digits = re.sub(r"\D", "", number[prefix.end() :] if prefix else number)
    if not international and digits.startswith("0086"):
        international, digits = True, digits[2:]
    elif not international and len(digits) == 13 and digits.startswith("86"):
        international = True
    country = ""
    if international:
        length = 1 if digits[:1] in ("1", "7") else 2 if digits[:2] in _TWO_DIGIT_CODES else 3
        country, digits = digits[:length], digits[length:]
    if len(digits) >= 8:
        head, tail = digits[: min(3, len(digits) - 8)], digits[-4:]
    else:
        head, tail = "", digits[-2:]
    masked = f"{head}****{tail}"
    return f"+{country} {masked}" if country else masked


def mask_key(value: str) -> str:
    """``LTAI5tExampleKey0001`` -> ``LTAI****0001``; a short value shows nothing of itself."""
    return f"{value[:4]}****{value[-4:]}" if len(value) >= 12 else "****"


def redact(text: str) -> str:
    """Registered files, then registered secrets -> ``[REDACTED]`` (or a masked number), then phone
    numbers by shape. Files first: a secret or a number's shape may occur by chance inside one."""
    for literal in _files:
        if literal in text:
            text = text.replace(literal, REDACTED)
    compiled = _compiled
    if compiled is not None and any(literal in text for literal in compiled[1]):
        replacements = _replacements
        text = compiled[0].sub(lambda m: replacements.get(m.group(0), REDACTED), text)
    return _mask_phones(text)


def _mask_phones(text: str) -> str:
    for phones in _PHONE_PASSES:
        text = phones.sub(_mask_match, text)
    return text


class RedactingFilter(logging.Filter):
    """Redacts a log record's message, arguments, traceback and stack in place.

    Attach it to handlers (``install_log_redaction``): filters on a logger do not see records that
    propagate from its children."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # bad %-args: still never show them raw
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> RedactingFilter:
    """Add one ``RedactingFilter`` to every handler of ``logger`` (default: the root logger), and
    redact every record of the process where it is made (``install_record_redaction``)."""
    install_record_redaction()
    target = logger or logging.getLogger()
    log_filter = RedactingFilter()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(log_filter)
    return log_filter


def install_record_redaction() -> None:
    """Redact each log record as it is created, whichever logger makes it and whichever handler
    writes it. Handler filters only cover handlers known when they are installed, and the SDKs bring
    their own: the Alibaba SDK's logger writes ``DEBUG=sdk`` request dumps (access key ID, phone
    numbers) through a handler of its own that never reaches the root logger. Idempotent."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "redacting", False):
        return
    scrub = RedactingFilter()

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        scrub.filter(record)
        return record

    redacting_factory.redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacting_factory)


def _compile(replacements: dict[str, str]) -> re.Pattern[str]:
    ordered = sorted(replacements, key=len, reverse=True)  # longest first: no partial replacement
    long = [re.escape(v) for v in ordered if len(v) >= _WHOLE_TOKEN_BELOW]
    short = [re.escape(v) for v in ordered if len(v) < _WHOLE_TOKEN_BELOW]
    parts = []
    if long:
        parts.append("|".join(long))
    if short:
        parts.append(rf"(?<![A-Za-z0-9])(?:{'|'.join(short)})(?![A-Za-z0-9])")
    return re.compile("|".join(parts))


def _mask_match(match: re.Match[str]) -> str:
    found, plus = match.group(0), match.groupdict().get("plus")
    digits = re.sub(r"\D", "", found[len(plus) :] if plus else found)
    if not 8 <= len(digits) <= 15:
        return found
    masked = mask_phone(found)
    if plus and plus != "+":
        # Keep the encoding of the surrounding text: %2B… stays URL-safe, \u002b… stays JSON.
        space = "%20" if plus.startswith("%") else " "
        return plus + masked[1:].replace(" ", space)
    return masked
