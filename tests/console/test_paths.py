"""A draft's file comes from the browser (a hidden form field, the name typed): the console checks
and saves only YAML files inside the config directory, whatever is posted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.console.drafts import OutsideConfig, inside_config
from tests.console.conftest import Client, csrf, draft, git


@pytest.mark.parametrize(
    "file",
    ["../../evil.yaml", "../evil.yaml", "/tmp/evil.yaml", "templates/../../evil.yaml", "keys/sandbox.agekey",
     "templates/welcome.txt", "linked/evil.yaml"],
)  # fmt: skip
def test_a_posted_file_outside_the_config_is_refused_and_nothing_is_written(
    client: Client, console_repo: Path, file: str
) -> None:
    outside = console_repo / "outside"
    outside.mkdir(exist_ok=True)
    (console_repo / "sms-config/linked").symlink_to(outside, target_is_directory=True)
    before = sorted(str(p) for p in console_repo.rglob("*") if ".git" not in p.parts)
    browser = client()
    token = csrf(browser)
    for route in ("/templates/check", "/templates/save"):
        answer = browser.post(route, data=draft(token, file=file))
        assert answer.status_code == 400, (route, answer.status_code)
        assert "is not a YAML file inside the config directory" in answer.text
    assert sorted(str(p) for p in console_repo.rglob("*") if ".git" not in p.parts) == before
    assert not Path("/tmp/evil.yaml").exists()


def test_a_name_that_climbs_out_is_refused(client: Client, console_repo: Path) -> None:
    browser = client()
    answer = browser.post("/templates/save", data=draft(csrf(browser), name="../../../evil"))
    assert answer.status_code == 400
    assert not (console_repo.parent / "evil.yaml").exists()


def test_inside_config_normalises_what_stays_inside(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    assert inside_config(tmp_path, "templates/./welcome.yaml") == "templates/welcome.yaml"
    assert inside_config(tmp_path, "templates/new/../welcome.yml") == "templates/welcome.yml"
    os.symlink(tmp_path / "templates", tmp_path / "alias")  # a link that stays inside is fine
    assert inside_config(tmp_path, "alias/welcome.yaml") == "alias/welcome.yaml"
    for bad in ("", ".", "..", "templates", "../x.yaml"):
        with pytest.raises(OutsideConfig):
            inside_config(tmp_path, bad)


def test_a_commit_that_fails_leaves_the_repository_on_its_branch_with_the_saves(
    client: Client, console_repo: Path
) -> None:
    browser = client()
    token = csrf(browser)
    assert browser.post("/templates/save", data=draft(token)).status_code == 200
    hook = console_repo / ".git/hooks/pre-commit"  # a team's hook that refuses this commit
    hook.write_text("#!/bin/sh\necho 'refused by the team hook' >&2\nexit 1\n")
    hook.chmod(0o755)
    before = git(console_repo, "rev-parse", "--abbrev-ref", "HEAD").strip()
    done = browser.post("/changes/commit", data={"csrf": token, "branch": "sms/welcome", "message": "Add welcome"})
    assert done.status_code == 422
    assert "not committed: git commit failed" in done.text and "refused by the team hook" in done.text
    assert git(console_repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == before
    assert git(console_repo, "branch", "--list", "sms/welcome") == ""
    assert (console_repo / "sms-config/templates/welcome.yaml").exists()  # the save is kept

    hook.unlink()  # fixed: the same commit goes through
    done = browser.post("/changes/commit", data={"csrf": token, "branch": "sms/welcome", "message": "Add welcome"})
    assert "on branch sms/welcome" in done.text


def test_a_saved_file_deleted_since_is_left_out_and_an_option_is_no_branch_name(
    client: Client, console_repo: Path
) -> None:
    browser = client()
    token = csrf(browser)
    assert browser.post("/templates/save", data=draft(token)).status_code == 200
    assert browser.post("/templates/save", data=draft(token, name="farewell")).status_code == 200
    refused = browser.post("/changes/commit", data={"csrf": token, "branch": "--orphan", "message": "x"})
    assert refused.status_code == 422 and "is not a usable branch name" in refused.text
    (console_repo / "sms-config/templates/welcome.yaml").unlink()
    done = browser.post("/changes/commit", data={"csrf": token, "branch": "sms/farewell", "message": "Add farewell"})
    assert "on branch sms/farewell" in done.text
    assert git(console_repo, "show", "--name-only", "--format=", "HEAD").split() == [
        "sms-config/templates/farewell.yaml"
    ]
