"""The README's development commands, run from the root of a scratch copy of the checkout as
``tests.test_docs_commands`` runs the quickstart; a file of its own, so that xdist runs the two side
by side. ``make test`` and ``make lint`` are what ``.ci/run`` itself runs from the checkout's root
after installing: they are checked to be there, not run a second time here (``make lint`` alone
would add a full mypy run to the suite)."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

from tests.test_docs_commands import (
    ROOT,
    assert_all_passed,
    clean_environment,
    readme_blocks,
    run_blocks,
    scratch_checkout,
)


def ci_commands() -> list[str]:
    """The commands `.ci/run` runs as its last lines, after installing what is missing."""
    lines = [line.strip() for line in (ROOT / ".ci/run").read_text().splitlines()]
    return [line for line in lines if line.startswith("make ")]


def test_ci_runs_the_readme_test_and_lint_commands_last() -> None:
    assert ci_commands() == ["make test", "make lint"]
    assert (ROOT / ".ci/run").read_text().rstrip().endswith("make test\nmake lint")


def test_readme_development_commands_run_from_the_checkout(tmp_path: Path) -> None:
    by_ci = set(ci_commands())
    found = readme_blocks("Development")
    commands = [c.split("#")[0].strip() for block in found for c in block.commands()]
    assert by_ci <= set(commands)
    # What CI runs anyway becomes a no-op here (as a `# needs:` line does, keeping line numbers).
    kept = [
        replace(
            block,
            script="\n".join(
                ":" if line.split("#")[0].strip() in by_ci else line for line in block.script.splitlines()
            ),
        )
        for block in found
    ]
    checkout = scratch_checkout(tmp_path)
    # A schema file missing from the working tree: `make schema` must write it back as committed.
    written = sorted((checkout / "schemas").glob("*.json"))
    for schema in written:
        schema.unlink()
    ran = run_blocks(kept, checkout, clean_environment())
    assert_all_passed(ran)
    assert len(ran) == 1
    # `make schema` ran, and wrote what is committed
    assert written and all(schema.is_file() for schema in written)
    status = subprocess.run(["git", "status", "--porcelain"], cwd=checkout, capture_output=True, text=True, timeout=60)
    assert status.stdout == ""
