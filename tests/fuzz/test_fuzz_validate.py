"""Seeded mutation fuzzing of `smsops validate` over the example config (sms-config/).

Each case applies a few random mutations (hostile tokens, deleted and duplicated spans, swapped
lines, stray bytes, truncation, \\r\\n or \\r line breaks, a new file) to one or two files of a copy
of sms-config/, runs the real CLI in-process (text output, then JSON), and restores the files. Every
case must end in a report (exit 0 or 1), never an internal error; every diagnostic must name a
place an editor can go to in the file it names, read back as mutated (``misplaced``); a per-case
watchdog fails the case that runs over ``CASE_SECONDS``; the process's peak memory may not grow by
more than ``MEMORY_BUDGET`` over the whole run.

The seed is fixed so a failure reproduces: the assertion names the case number, and
``mutate(random.Random(SEED + case), ...)`` rebuilds it. ``SMSOPS_FUZZ_CASES`` runs more cases
(``SMSOPS_FUZZ_SEED`` another seed) when hunting; the suite runs ``CASES``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import re
import resource
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from reconciler.cli import main
from tests.editor import misplaced

ROOT = Path(__file__).resolve().parents[2]
CASES = int(os.environ.get("SMSOPS_FUZZ_CASES", "1000"))
SEED = int(os.environ.get("SMSOPS_FUZZ_SEED", "16"))
CASE_SECONDS = 10
MEMORY_BUDGET = 512 * 1024 * 1024

# Text that broke or could break a YAML loader, a schema or the content parser.
TOKENS = [
    "!!int ", "!!float ", "!!bool ", "!!timestamp ", "!!str ", "!!binary ", "!!python/object:os.system ",
    "2024-02-30", "0000-01-01", "9" * 5000, "1e999999", ".nan", ".inf", "~", "null", "yes", "on", "0x1F", "0o17",
    "{{" * 60, "(" * 300, "{{ a | b }}", "{% if x %}", "{#", "}}", "${x}", "{1}",
    "&a ", "*a", "<<: ", "? ", "!", "!custom ", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "---\n", "...\n",
    "\t", "\u2028", "\u2029", "\u0085", "\r", "\r\n", "\ufeff", "\u202e", "\x00", "\x1b[2J",
    '"', "'", "|", ">", "#", ":", "- ", "{", "}", "[", "]", ",", "[" * 120, "{" * 120,
    "sops: {mac: x}\n", "kind: {a: 1}\n", "kind: [Channel]\n", "apiVersion: 7\n",
    "file: /proc/self/mem", "sops: " + "a" * 300, "sops: /etc/passwd", "sops: ../../../x",
    "+8613812345678", "LTAI5tQm8XyZr2KpWv9bN3cD", "AKIAIOSFODNN7EXAMPLE",
]  # fmt: skip


def mutate(rng: random.Random, text: str) -> str:
    """``text`` after 1-4 random mutations."""
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(text) + 1)
        kind = rng.randrange(9)
        if kind <= 2:
            text = text[:at] + rng.choice(TOKENS) + text[at:]
        elif kind == 3:
            text = text[:at] + text[at + rng.randint(1, 40) :]
        elif kind == 4:
            end = min(len(text), at + rng.randint(1, 200))
            text = text[:end] + text[at:end] * rng.randint(1, 3) + text[end:]
        elif kind == 5:
            lines = text.split("\n")
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        elif kind == 6:
            text = text[:at] + chr(rng.choice([rng.randrange(0x20), rng.randrange(0x80, 0x800)])) + text[at + 1 :]
        elif kind == 7:
            text = text[: rng.randrange(len(text) + 1)]
        else:  # what an editor on another system saves: every line break is \r\n, or a lone \r
            text = text.replace("\r\n", "\n").replace("\n", rng.choice(["\r\n", "\r"]))
    return text


class CaseTimeout(Exception):
    pass


@contextlib.contextmanager
def watchdog(case: int) -> Iterator[None]:
    def expire(signum: int, frame: FrameType | None) -> None:
        raise CaseTimeout(f"case {case} ran over {CASE_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(CASE_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def validate(root: Path, output: str = "text") -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.chdir(root), contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(["validate", ".", "--output", output])
    return code, out.getvalue()


# validate's text lines: `file:line:column: severity RULE: message` (a name's control characters escaped)
TEXT_DIAGNOSTIC = re.compile(
    r"^(?P<file>[^\n]+?):(?P<line>\d+):(?P<column>\d+): (?:error|warning|info) (?P<rule>SMS\d+):", re.M
)


def text_positions(output: str) -> list[dict[str, Any]]:
    return [
        {"file": m["file"], "line": int(m["line"]), "column": int(m["column"]), "rule": m["rule"]}
        for m in TEXT_DIAGNOSTIC.finditer(output)
    ]


def test_text_positions_reads_validates_lines() -> None:
    text = "channels/a.yaml:3:7: error SMS002: invalid YAML\n  hint: x\ntemplates/b.yaml:0:0: warning SMS407: y\n"
    assert text_positions(text) == [
        {"file": "channels/a.yaml", "line": 3, "column": 7, "rule": "SMS002"},
        {"file": "templates/b.yaml", "line": 0, "column": 0, "rule": "SMS407"},
    ]


def test_mutated_configs_are_always_reported_never_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    config = tmp_path / "cfg"
    for part in ("channels", "templates", "secrets", "signatures"):
        shutil.copytree(ROOT / "sms-config" / part, config / part)
    originals = {path: path.read_bytes() for path in sorted(config.rglob("*.yaml"))}
    files = list(originals)
    assert validate(config)[0] == 0  # the unmutated example is valid
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    reports = 0
    checked = {"text": 0, "json": 0}  # positions checked, per output
    for case in range(CASES):
        rng = random.Random(SEED + case)
        touched = rng.sample(files, rng.choice([1, 1, 1, 2]))
        for path in touched:
            path.write_bytes(mutate(rng, originals[path].decode()).encode("utf-8", "surrogatepass"))
        extra = config / "templates" / "fuzz-extra.yaml" if rng.random() < 0.05 else None
        if extra is not None:
            extra.write_bytes(mutate(rng, originals[rng.choice(files)].decode()).encode())
        # Each case runs once, text and JSON output in turn (both renderers see 500 cases, every
        # position is checked); every tenth runs both, whose exit codes must agree.
        output_kind = "json" if case % 2 else "text"
        with watchdog(case):
            code, output = validate(config, output_kind)
            if case % 10 == 0:
                other_code, _ = validate(config, "json")
                assert other_code == code, f"case {case}: exit {other_code} with --output json, {code} without"
        assert code in (0, 1), f"case {case}: exit {code}\n{output[-2000:]}"
        assert "internal error" not in output and "Traceback" not in output, f"case {case}:\n{output[-2000:]}"
        found = json.loads(output)["diagnostics"] if output_kind == "json" else text_positions(output)
        checked[output_kind] += len(found)
        wrong = [why for d in found if (why := misplaced(config, d))]
        assert not wrong, f"case {case}: " + "; ".join(wrong)
        reports += code
        for path in touched:
            path.write_bytes(originals[path])
        if extra is not None:
            extra.unlink()
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - peak_before
    assert grown < MEMORY_BUDGET, f"peak memory grew by {grown // 2**20} MiB"
    assert min(checked.values()) > CASES // 4, checked  # both outputs' positions were read
    assert reports > CASES // 2  # the mutations do break the config: the cases test the error paths
