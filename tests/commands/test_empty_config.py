"""A config directory with no config files: every command that loads it names the directory, with
no made-up position (``:0:0``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., tuple[int, str, str]]


@pytest.mark.parametrize("command", ["plan", "status", "apply"])
def test_an_empty_directory_is_named_without_a_position(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Run
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    code, out, err = run_cli(command, "empty")
    assert (code, out) == (1, "")
    assert err == (
        "empty: error SMS001: no .yaml or .yml config files found\n"
        "  hint: add channels/*.yaml and templates/*.yaml\n"
        "error: 1 problem(s) in empty; nothing was contacted\n"
        "  hint: run `smsops validate empty` for details\n"
    )
