"""Parse many YAML texts on both cores.

libyaml's composer holds the GIL, and on a large config it is most of the work: 3.6 MB of
templates (5,000 of them) take about 1.2 s to compose and build, at any setting of PyYAML. So a
large load is split: a forked worker parses the second half of the files while this process
parses the first. What comes back is plain data and problems, pickled; node trees stay behind,
and the positions of a file parsed over there are found by parsing that one file again when a
diagnostic asks for them (most files are valid, and nobody asks).

Small configs are parsed here: below ``PARALLEL_MIN_CHARS`` starting the worker costs more than
it saves. Where fork is not available, or the worker fails in any way, everything is parsed here.
Nothing is written anywhere: the texts and results travel through a pipe between the two processes.
"""

from __future__ import annotations

import bisect
import itertools
import os
from collections.abc import Sequence

from reconciler.config.source import ParsedText, parse_text

PARALLEL_MIN_CHARS = 400_000


def parse_texts(texts: Sequence[str], *, min_chars: int | None = None) -> list[ParsedText]:
    """``parse_text`` of every text, in order; on two processes when the texts are large."""
    total = sum(map(len, texts))
    if total < (PARALLEL_MIN_CHARS if min_chars is None else min_chars) or len(texts) < 2 or not hasattr(os, "fork"):
        return [parse_text(text) for text in texts]
    # Imported here: multiprocessing costs 40 ms to import, more than a small config takes to parse.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    split = _half(texts, total)
    try:
        pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
    except OSError:
        return [parse_text(text) for text in texts]
    with pool:
        tail = pool.submit(_parse_detached, list(texts[split:]))
        head = [parse_text(text) for text in texts[:split]]
        try:
            return head + tail.result()
        except Exception:  # the worker died or its answer did not arrive: parse its half here
            return head + [parse_text(text) for text in texts[split:]]


def _half(texts: Sequence[str], total: int) -> int:
    """The index splitting ``texts`` into two runs of about equal size."""
    middle = bisect.bisect_left(list(itertools.accumulate(map(len, texts))), total / 2)
    return min(middle + 1, len(texts) - 1)


def _parse_detached(texts: list[str]) -> list[ParsedText]:
    """In the worker: parse, and drop the node trees (they stay in this process)."""
    parsed = [parse_text(text) for text in texts]
    for result in parsed:
        result.nodes.clear()
    return parsed
