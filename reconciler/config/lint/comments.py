"""SMS401-SMS403 in YAML comments: a key or a phone number "kept for reference" after a ``#`` is in
git as surely as one in a value, so comments are held to the rules values are (``secrets.py``).

Comments are found by the YAML scanner, not by a guess at '#': a ``#`` inside a scalar (a quoted
string, a block of template content) is part of the value, which the value rules already read.
Only files with a suspect text after a ``#`` on some line are run through the YAML scanner.
Messages name the shape or mask the number, never the value.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator

import yaml

from reconciler.config.lint.catalogue import Reporter
from reconciler.config.lint.secrets import ACCESS_KEYS, LOOKS_RANDOM, PHONE, SECRET_KEYS, SUSPECT
from reconciler.config.lint.where import Sources
from reconciler.secrets.redact import mask_phone

# A secret-sounding word, then a separator and a value: `secret Zx9y...`, `password: ...`.
_NAMED_SECRET = re.compile(
    r"(" + "|".join(re.escape(word) for word in SECRET_KEYS) + r")\w*\W{1,3}(\S+)", re.IGNORECASE
)


def check_comments(files: tuple[str, ...], out: Reporter, sources: Sources) -> None:
    for file in files:
        lines = sources.lines(file)
        if lines is None:
            continue
        after_hash = "\n".join(line[line.index("#") :] for line in lines if "#" in line)
        if not after_hash or not (SUSPECT.search(after_hash) or _NAMED_SECRET.search(after_hash)):
            continue
        for line, column, comment in _comments("\n".join(lines)):
            _comment(file, line, column, comment, out)


def _comment(file: str, line: int, column: int, comment: str, out: Reporter) -> None:
    for pattern, shape in ACCESS_KEYS:
        if found := pattern.search(comment):
            out.report("SMS402", (file, line, column + found.start()), f"a comment holds a value shaped like {shape}")
    for found in _NAMED_SECRET.finditer(comment):
        if LOOKS_RANDOM.fullmatch(found.group(2).rstrip(".,;…")) and not SUSPECT.match(found.group(2)):
            where = (file, line, column + found.start(2))
            out.report("SMS401", where, "a comment holds a value that looks like a credential")
    for found in PHONE.finditer(comment):
        where = (file, line, column + found.start(1))
        out.report("SMS403", where, f"a comment contains the phone number {mask_phone(found.group(1))}")


def _comments(text: str) -> Iterator[tuple[int, int, str]]:
    """Each comment's 1-based line and column (of its '#') and its text. A file the scanner stops
    on (invalid YAML, reported by the loader) is read up to there, and after it any '#' at the
    start of a line or after a blank counts."""
    starts = [0, *(index + 1 for index, char in enumerate(text) if char == "\n")]
    covered: list[tuple[int, int]] = []  # where tokens lie: a '#' there is part of a value
    stopped = len(text)
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if token.start_mark.index < token.end_mark.index:
                covered.append((token.start_mark.index, token.end_mark.index))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        stopped = mark.index if mark is not None else 0
    covered.sort()
    token_starts = [start for start, _ in covered]
    for number, start in enumerate(starts):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        index = text.find("#", start, end)
        while index >= 0:
            if (index == start or text[index - 1] in " \t") and not _inside(index, covered, token_starts, stopped):
                yield number + 1, index - start + 1, text[index:end]
                break
            index = text.find("#", index + 1, end)


def _inside(index: int, covered: list[tuple[int, int]], starts: list[int], stopped: int) -> bool:
    if index >= stopped:
        return False
    at = bisect_right(starts, index) - 1
    return at >= 0 and covered[at][0] <= index < covered[at][1]
