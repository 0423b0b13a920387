"""The README's development commands (make test, make lint, make schema), run from the root of a
scratch copy of the checkout as ``tests.test_docs_commands`` runs the quickstart; a file of its own,
so that xdist runs the two side by side."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.test_docs_commands import assert_all_passed, run_readme_section


def test_readme_development_commands_run_from_the_checkout(tmp_path: Path) -> None:
    checkout, ran = run_readme_section("Development", tmp_path)
    assert_all_passed(ran)
    assert len(ran) == 1
    assert "Success: no issues found" in ran[0].output  # make lint ran mypy
    # `make schema` wrote what is committed
    status = subprocess.run(["git", "status", "--porcelain"], cwd=checkout, capture_output=True, text=True, timeout=60)
    assert status.stdout == ""
