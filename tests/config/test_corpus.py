"""The bad-input corpus: every case under tests/corpus/<case>/ is a small config directory that
`smsops validate` must reject with a precise diagnostic, and never with a traceback.

Each case has ``expect.txt``: optional ``args: …`` (extra validate arguments, e.g. ``--strict`` for
warning-only cases), then one ``RULE FILE LINE`` per diagnostic that must be reported (FILE relative
to the case directory, ``.`` for the directory itself). Other diagnostics may appear too.

The real CLI runs as a subprocess (``python -m reconciler validate . --output json``, then text),
from inside the case directory so reported paths are the ones written in ``expect.txt``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import pytest

CORPUS = Path(__file__).parents[1] / "corpus"
CASES = sorted(path.name for path in CORPUS.iterdir() if (path / "expect.txt").is_file())
Expectation = tuple[str, str, int]


def read_expect(case: str) -> tuple[list[str], list[Expectation]]:
    args: list[str] = []
    expected: list[Expectation] = []
    for raw in (CORPUS / case / "expect.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("args:"):
            args = line.removeprefix("args:").split()
            continue
        rule, file, number = line.split()
        expected.append((rule, file, int(number)))
    return args, expected


def _run(case: str, output: str) -> subprocess.CompletedProcess[str]:
    args, _ = read_expect(case)
    env = {**os.environ, "SOPS_DISABLE_VERSION_CHECK": "1", "NO_COLOR": "1", "PYTHONUTF8": "1"}
    env.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", ".", "--output", output, *args],
        cwd=CORPUS / case,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@cache
def results() -> dict[tuple[str, str], subprocess.CompletedProcess[str]]:
    """Every case in both output formats, run two at a time (each run is a fresh interpreter)."""
    jobs = [(case, output) for case in CASES for output in ("json", "text")]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(jobs, pool.map(lambda job: _run(*job), jobs), strict=True))


def test_corpus_is_large_and_every_case_declares_an_expectation() -> None:
    assert len(CASES) >= 40
    for path in CORPUS.iterdir():
        assert (path / "expect.txt").is_file(), f"{path.name} has no expect.txt"
        assert read_expect(path.name)[1], f"{path.name} expects nothing"


@pytest.mark.parametrize("case", CASES)
def test_case_json(case: str) -> None:
    result = results()[(case, "json")]
    assert "Traceback" not in result.stdout + result.stderr
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is False
    found = {(d["rule"], d["file"], d["line"]) for d in report["diagnostics"]}
    for expected in read_expect(case)[1]:
        assert expected in found, f"{expected} not in {sorted(found)}"
    for diagnostic in report["diagnostics"]:
        assert diagnostic["message"], diagnostic
        if diagnostic["rule"][3] in "1234":  # lint rules (SMS1xx-4xx) always say what to do
            assert diagnostic["hint"], diagnostic


@pytest.mark.parametrize("case", CASES)
def test_case_text(case: str) -> None:
    result = results()[(case, "text")]
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert result.returncode == 1, output
    for rule, file, line in read_expect(case)[1]:
        # Line 0 means "the directory itself": the text renderer then shows the path alone.
        prefix = f"{file}:{line}:" if line else f"{file}: "
        matching = [text for text in output.splitlines() if text.startswith(prefix) and f" {rule}: " in text]
        assert matching, f"{rule} at {file}:{line} missing from:\n{output}"
        assert " error " in matching[0] or " warning " in matching[0]


def test_no_secret_or_phone_number_is_echoed() -> None:
    secrets = (
        "LTAI5tQm8XyZr2KpWv9bN3cD",
        "notreallyasecretvalue123",
        "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
        "AKIAIOSFODNN7EXAMPLE",
        "hunter22",
        "Xq7vB2mN9pLk4RtY8wZs3HcF6jD",
        "13812345678",
        "8613812345678",
    )
    for (case, output), result in results().items():
        text = result.stdout + result.stderr
        for secret in secrets:
            assert secret not in text, f"{case} ({output}) echoes a secret"
