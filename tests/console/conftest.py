"""The console's fixtures: the example config after the demo, in a real git repository.

``demo_base`` is built once per test process (the demo waits out the sandbox's review): the demo's
whole loop on the sandbox channel, then a longer review, then a changed ``task-status`` applied, so
the channel has live versions and one version pending review; the demo's sends are forgotten. Each
test gets its own copy (``console_repo``) committed to a fresh git repository, the sandbox's state
included (git-ignored).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.configrepo import ROOT, SANDBOX_KEY

TOKEN = "console-test-token"
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Ada Reviewer",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Reviewer",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
}
# What the demo's SOPS files hold: none of it may reach a page (the key id only masked).
CANARIES = ("LTAI5tSmsopsSandboxDemo1", "SandboxDemoSecretNotReal000001", "13800000001", "13800000002", "13800000003")

_BUILD = """
import sys
from pathlib import Path
from reconciler.cli import main
from reconciler.sandbox.store.account import Sandbox
config = sys.argv[1]
assert main(["demo", config]) == 0
for account in Sandbox(Path(config) / ".smsops" / "sandbox").accounts():
    account.set_behaviour(account.behaviour.model_copy(update={"review_delay_s": 3600.0}))
task = Path(config) / "templates" / "task-status.yaml"
task.write_text(task.read_text().replace("at {{ finished }}.", "at {{ finished }} (UTC)."))
assert main(["apply", config, "--channel", "sandbox", "--auto-approve"]) == 0
# The demo's gate just sent to the test numbers; the per-number limits would make the tests' own
# "Send Test SMS" wait a minute for its slot. The account forgets those sends (and only them).
import sqlite3
with sqlite3.connect(Path(config) / ".smsops" / "sandbox" / "sandbox.sqlite3") as db:
    db.execute("DELETE FROM sends")
"""


@pytest.fixture(scope="session")
def demo_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = tmp_path_factory.mktemp("base") / "sms-config"
    shutil.copytree(ROOT / "sms-config", config, ignore=shutil.ignore_patterns(".smsops"))
    env = {**os.environ, "SOPS_AGE_KEY_FILE": str(SANDBOX_KEY), "SOPS_DISABLE_VERSION_CHECK": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _BUILD, str(config)], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return config


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env={**os.environ, **GIT_IDENTITY}, check=True
    )
    return done.stdout


def make_repo(base: Path, where: Path) -> Path:
    """A git repository at ``where`` holding a copy of ``base`` as ``sms-config``, committed."""
    shutil.copytree(base, where / "sms-config")
    (where / ".gitignore").write_text(".smsops/\n")
    git(where, "init", "-q", "-b", "main")
    git(where, "add", ".")
    git(where, "commit", "-q", "-m", "Example config after the demo")
    return where


@pytest.fixture
def console_repo(demo_base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The repository, as the working directory; the test-only key and a git identity are set."""
    repo = make_repo(demo_base, tmp_path / "repo")
    monkeypatch.chdir(repo)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    yield repo
