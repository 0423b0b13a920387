"""count_segments against the per-character statement of the GSM 03.40 rule it implements with
set operations (random messages mixing GSM-7, extension, BMP and astral characters)."""

from __future__ import annotations

import random

from reconciler.content.segments import GSM7_BASIC, GSM7_EXTENSION, SegmentInfo, count_segments, message_text


def by_character(text: str, signature: str | None, bracketed: bool) -> SegmentInfo:
    full = f"【{signature}】{text}" if signature and bracketed else text
    assert message_text(text, signature, bracketed=bracketed) == full
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in full):
        costs, single, multi, encoding = [2 if c in GSM7_EXTENSION else 1 for c in full], 160, 153, "GSM-7"
    else:
        costs, single, multi, encoding = [2 if ord(c) > 0xFFFF else 1 for c in full], 70, 67, "UCS-2"
    total = sum(costs)
    parts, used = (0 if total == 0 else 1), 0
    if total > single:
        for cost in costs:  # a two-unit character never straddles two parts
            if used + cost > multi:
                parts, used = parts + 1, 0
            used += cost
    return SegmentInfo(encoding, len(full), total, parts)  # type: ignore[arg-type]


def test_matches_the_per_character_rule() -> None:
    chooser = random.Random(5)
    pools = ["abc 123", "abc{}[]~", "abc€^|", "验证码abc", "ab😀c", "😀{}", "\f\\"]
    for _ in range(4000):
        pool = chooser.choice(pools)
        text = "".join(chooser.choice(pool) for _ in range(chooser.randint(0, 400)))
        signature = chooser.choice([None, "", "OnePro", "签名"])
        bracketed = chooser.choice([True, False])
        assert count_segments(text, signature, bracketed=bracketed) == by_character(text, signature, bracketed)
