"""`smsops history` across moves of the config directory itself: git filters paths before it
detects renames, so without following the move every resource would look created by the commit
that moved it, and the commits before (who created what, and when) would be missing. A file moved
in from elsewhere was not part of the config before: it is created by the move."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.configrepo import write_doc

AUTHORS = {"alice": "Alice Auditor", "bob": "Bob Builder", "carol": "Carol Ops"}


def _git(repo: Path, *args: str, author: str = "alice") -> None:
    name = AUTHORS[author]
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": f"{author}@example.com",
           "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": f"{author}@example.com"}  # fmt: skip
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr


def _commit(repo: Path, message: str, author: str) -> None:
    _git(repo, "add", "-A", author=author)
    _git(repo, "commit", "-q", "-m", message, author=author)


def _channel(signature: str) -> dict[str, Any]:
    return {"apiVersion": "smsops/v1", "kind": "Channel", "metadata": {"name": "prod"},
            "spec": {"provider": "sandbox", "signature": {"name": signature}}}  # fmt: skip


def _template(name: str) -> dict[str, Any]:
    spec = {"type": "notification", "content": "Service {{ service }} is down", "remark": "On-call alerts.",
            "variables": {"service": {"type": "text", "example": "db"}}}  # fmt: skip
    return {"apiVersion": "smsops/v1", "kind": "Template", "metadata": {"name": name}, "spec": spec}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("moves")
    _git(repo, "init", "-q", "-b", "main")
    # The config starts at the top of the repository, beside files that are not config.
    write_doc(repo / "channels" / "prod.yaml", _channel("OnePro"))
    (repo / "README.md").write_text("SMS settings\n")
    _commit(repo, "Add the prod channel", "alice")
    _git(repo, "mv", "channels", "config")  # now config/prod.yaml
    (repo / "config" / "channels").mkdir()
    _git(repo, "mv", "config/prod.yaml", "config/channels/prod.yaml")
    _commit(repo, "Move the config into config/", "bob")
    write_doc(repo / "config" / "channels" / "prod.yaml", _channel("OneProHQ"))
    _commit(repo, "New signature", "carol")
    _git(repo, "mv", "config", "sms-config")
    _commit(repo, "Rename config/ to sms-config/", "bob")
    write_doc(repo / "drafts" / "alert.yaml", _template("alert"))
    _commit(repo, "Draft an alert template", "carol")
    (repo / "sms-config" / "templates").mkdir()
    _git(repo, "mv", "drafts/alert.yaml", "sms-config/templates/alert.yaml")
    _commit(repo, "Ship the alert template", "alice")
    return repo


def test_history_follows_the_config_directory_across_its_moves(repo: Path, run_cli: Any) -> None:
    code, out, err = run_cli("history", str(repo / "sms-config"), "--reverse", "--output", "json")
    assert (code, err) == (0, "")
    events = [
        (e["subject"], e["author"]["name"], e["resource"]["name"], e["action"], e["file"])
        for e in json.loads(out)["events"]
    ]
    assert events == [
        ("Add the prod channel", "Alice Auditor", "prod", "created", "sms-config/channels/prod.yaml"),
        ("New signature", "Carol Ops", "prod", "changed", "sms-config/channels/prod.yaml"),
        # Moved in from drafts/, which is not config: it joins the config here.
        ("Ship the alert template", "Alice Auditor", "alert", "created", "sms-config/templates/alert.yaml"),
    ]
