"""SMS segment counting: how many parts a message takes over the air, signature included.

Pure; no imports beyond the standard library, so ``validate`` pays nothing for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

# GSM 03.38 default alphabet (the escape 0x1B itself is not a character) and its extension table,
# whose characters are sent as escape + char and so cost two septets.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[]~|€\f")
_GSM7 = GSM7_BASIC | GSM7_EXTENSION


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """How a message goes over the air.

    ``characters``: code points in the whole message (signature included). ``units``: GSM-7
    septets, or UTF-16 code units for UCS-2. ``segments``: SMS parts needed.
    """

    encoding: Literal["GSM-7", "UCS-2"]
    characters: int
    units: int
    segments: int


def message_text(text: str, signature: str | None, *, bracketed: bool) -> str:
    """The body as it reaches the handset: a provider whose signature is ``bracketed`` (its trait
    ``bracket_signature``: mainland China format) prepends ``【signature】``; others send the
    sender ID out of band, so nothing is added."""
    if signature and bracketed:
        return f"【{signature}】{text}"
    return text


def count_segments(text: str, signature: str | None = None, *, bracketed: bool = True) -> SegmentInfo:
    """Segments of ``text`` once the provider has added the signature (``bracketed``: see
    ``message_text``).

    What this implements is the GSM 03.40 concatenation rule: GSM-7 when every character is in
    the default alphabet or its extension table (extension characters cost two septets), 160
    septets in one part or 153 per part when split; otherwise UCS-2, 70 code units in one part or
    67 per part. A two-unit character (escape pair, surrogate pair) is never split across parts.

    Alibaba and Tencent *bill* mainland messages by characters: up to 70 is one message, longer
    ones 67 per part, whatever the alphabet. Every mainland message carries ``【signature】`` and
    【】 are not GSM-7, so counting with the signature gives that same 70/67 figure (except that an
    astral-plane character such as an emoji counts two units here). Without a signature the result
    is the handset's view, which may be fewer parts than the provider bills.
    """
    full = message_text(text, signature, bracketed=bracketed)
    # Set operations and str.count instead of a Python step per character; the per-character
    # walk in _parts is needed only when a two-unit character could straddle a part boundary.
    chars = set(full)
    if chars <= _GSM7:
        extension = chars & GSM7_EXTENSION
        units = len(full) + sum(full.count(char) for char in extension)
        return SegmentInfo("GSM-7", len(full), units, _segments(full, units, 160, 153, bool(extension), _gsm_cost))
    astral = bool(full) and max(full) > "\uffff"
    units = len(full) + (sum(1 for char in full if char > "\uffff") if astral else 0)
    return SegmentInfo("UCS-2", len(full), units, _segments(full, units, 70, 67, astral, _ucs2_cost))


def _gsm_cost(char: str) -> int:
    return 2 if char in GSM7_EXTENSION else 1


def _ucs2_cost(char: str) -> int:
    return 2 if char > "\uffff" else 1


def _segments(full: str, units: int, single: int, multi: int, uneven: bool, cost: Callable[[str], int]) -> int:
    if units == 0:
        return 0
    if units <= single:
        return 1
    if not uneven:  # every character costs one unit: parts fill up exactly
        return -(-units // multi)
    return _parts([cost(char) for char in full], single, multi)


def _parts(costs: list[int], single: int, multi: int) -> int:
    total = sum(costs)
    if total == 0:
        return 0
    if total <= single:
        return 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            parts, used = parts + 1, 0
        used += cost
    return parts
