"""The bad-input corpus: every case under tests/corpus/<case>/ is a small config directory that
`smsops validate` must reject with a precise diagnostic, and never with a traceback.

Each case has ``expect.txt``: optional ``args: …`` (extra validate arguments, e.g. ``--strict`` for
warning-only cases), then one ``RULE FILE LINE`` per diagnostic that must be reported (FILE relative
to the case directory, ``.`` for the directory itself). Other diagnostics may appear too; every
one must be at a place an editor can go to in the file it names (``tests.editor.misplaced``).

The real CLI runs in-process (``reconciler.cli.main``, what ``smsops`` and ``python -m reconciler``
call), once with ``--output json`` and once with text, from inside the case directory so reported
paths are the ones written in ``expect.txt``. A fresh interpreter per run cost ~0.2 s each, ~20 s of
CPU for the corpus; ``test_a_subprocess_prints_what_the_in_process_run_prints`` shows, on cases of
both kinds, that the process entry point prints byte for byte what the in-process run does.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.cli import main
from tests.editor import misplaced

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


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def validate(case: str, output: str) -> Result:
    """``smsops validate . --output OUTPUT [args]`` in the case directory, in this process."""
    args, _ = read_expect(case)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(CORPUS / case), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", ".", "--output", output, *args])
    return Result(code, out.getvalue(), err.getvalue())


def validate_in_subprocess(case: str, output: str) -> Result:
    args, _ = read_expect(case)
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", ".", "--output", output, *args],
        cwd=CORPUS / case,
        env={**{k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}, "PYTHONUTF8": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a developer's terminal-less run sees: no colour, no GitHub step summary to append to."""
    monkeypatch.setenv("SOPS_DISABLE_VERSION_CHECK", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def test_corpus_is_large_and_every_case_declares_an_expectation() -> None:
    assert len(CASES) >= 40
    for path in CORPUS.iterdir():
        assert (path / "expect.txt").is_file(), f"{path.name} has no expect.txt"
        assert read_expect(path.name)[1], f"{path.name} expects nothing"


@pytest.mark.parametrize("case", CASES)
def test_case_json(case: str) -> None:
    result = validate(case, "json")
    assert "Traceback" not in result.stdout + result.stderr
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is False
    found = {(d["rule"], d["file"], d["line"]) for d in report["diagnostics"]}
    for expected in read_expect(case)[1]:
        assert expected in found, f"{expected} not in {sorted(found)}"
    for diagnostic in report["diagnostics"]:
        assert diagnostic["message"], diagnostic
        assert misplaced(CORPUS / case, diagnostic) is None, misplaced(CORPUS / case, diagnostic)
        if diagnostic["rule"][3] in "1234":  # lint rules (SMS1xx-4xx) always say what to do
            assert diagnostic["hint"], diagnostic


@pytest.mark.parametrize("case", CASES)
def test_case_text(case: str) -> None:
    result = validate(case, "text")
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
    for case in CASES:
        for output in ("json", "text"):
            result = validate(case, output)
            text = result.stdout + result.stderr
            for secret in secrets:
                assert secret not in text, f"{case} ({output}) echoes a secret"


@pytest.mark.parametrize(("case", "output"), [("adjacent-variables", "json"), ("segments-over-budget", "text")])
def test_a_subprocess_prints_what_the_in_process_run_prints(case: str, output: str) -> None:
    """The tests above call ``main`` in-process; the process entry point adds nothing to what is printed
    or to the exit code (the second case passes extra arguments from its ``expect.txt``)."""
    assert read_expect("segments-over-budget")[0]
    in_process = validate(case, output)
    assert in_process.returncode == 1 and in_process.stdout
    assert validate_in_subprocess(case, output) == in_process
