"""A draft's file comes from the browser (a hidden form field, the name typed): the console checks
and saves only YAML files inside the config directory, whatever is posted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.console.drafts import OutsideConfig, inside_config
from tests.console.conftest import Client, csrf, draft


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
