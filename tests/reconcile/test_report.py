"""The apply report's actor and work-tree state come from CI and git (real git repositories), never
carry an email; the CLI notes a dirty work tree."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from reconciler.reconcile.report import current_actor, is_dirty
from reconciler.sandbox.testing import SandboxHandle
from tests.configrepo import SANDBOX_KEY, ConfigRepo

CI_VARIABLES = ("GITHUB_ACTOR", "GITLAB_USER_LOGIN", "BUILD_REQUESTEDFOR", "GITHUB_SHA")


def no_global_git(tmp_path: Path) -> dict[str, str]:
    """An environment whose git reads no user or system config, and no CI variables."""
    empty = tmp_path / "empty.gitconfig"
    empty.write_text("")
    env = {k: v for k, v in os.environ.items() if k not in CI_VARIABLES}
    return {**env, "GIT_CONFIG_GLOBAL": str(empty), "GIT_CONFIG_NOSYSTEM": "1"}


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def committed_repo(root: Path, name: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q")
    if name:
        git(root, "config", "user.name", name)
    (root / "README.md").write_text("settings\n")
    git(root, "add", ".")
    git(root, "-c", "user.name=x", "-c", "user.email=x@example.invalid", "commit", "-q", "-m", "config")
    return root


def test_the_ci_actor_comes_first(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path / "repo", name="Ada Lovelace")
    env = no_global_git(tmp_path)
    assert current_actor(str(repo), {**env, "GITHUB_ACTOR": "octocat", "USER": "runner"}) == "octocat"
    assert current_actor(str(repo), {**env, "GITLAB_USER_LOGIN": "tanuki"}) == "tanuki"


def test_then_git_user_name_of_the_config_repository(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path / "repo", name="Ada Lovelace")
    assert current_actor(str(repo), {**no_global_git(tmp_path), "USER": "runner"}) == "Ada Lovelace"


def test_then_the_os_user(tmp_path: Path) -> None:
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    assert current_actor(str(outside), {**no_global_git(tmp_path), "USER": "runner"}) == "runner"


def test_an_email_is_never_the_actor(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path / "repo", name="ada@example.com")
    env = no_global_git(tmp_path)
    assert current_actor(str(repo), env) == "ada"
    assert current_actor(str(repo), {**env, "BUILD_REQUESTEDFOR": "grace@example.com"}) == "grace"


def test_dirty_is_any_uncommitted_change_in_the_config_directory(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path / "repo")
    env = no_global_git(tmp_path)
    assert is_dirty(str(repo), env) is False
    (repo / "README.md").write_text("changed\n")
    assert is_dirty(str(repo), env) is True
    git(repo, "checkout", "--", "README.md")
    (repo / "new-template.yaml").write_text("b: 1\n")  # not yet added: still applied by smsops
    assert is_dirty(str(repo), env) is True
    assert is_dirty(str(tmp_path / "elsewhere"), env) is False  # not a repository: nothing to compare with


def test_apply_report_records_git_actor_and_a_dirty_tree(
    run_cli: Any, tmp_path: Path, sms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in no_global_git(tmp_path).items():
        monkeypatch.setenv(key, value)
    for key in CI_VARIABLES:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    config = ConfigRepo(tmp_path / "cfg")
    config.secrets(*sms_sandbox.credentials)
    config.channel("prod", "alibaba", sms_sandbox.url())
    config.template("alert", "Service {{ service }} is down", service="db")
    (config.root / ".gitignore").write_text(".smsops/\n")
    committed_repo(config.root, name="Ada Lovelace")
    report_file = tmp_path / "report.json"

    code, _, err = run_cli("apply", str(config.root), "--auto-approve", "--report", str(report_file))
    assert code == 0, err
    report = json.loads(report_file.read_text())
    assert (report["actor"], report["dirty"]) == ("Ada Lovelace", False)
    assert "uncommitted" not in err

    config.template("alert", "Service {{ service }} is down again", service="db")
    code, _, err = run_cli("apply", str(config.root), "--auto-approve", "--report", str(report_file))
    assert code == 0, err
    report = json.loads(report_file.read_text())
    assert report["dirty"] is True and len(report["commit"]) == 40
    assert f"note: {config.root} has uncommitted changes: what was applied is not exactly commit " in err
    assert "(the report records dirty: true)" in err
    assert "@" not in json.dumps({k: report[k] for k in ("actor", "commit", "config_dir")})


def test_smsops_own_state_never_makes_the_config_dirty(tmp_path: Path) -> None:
    """What apply writes under ``.smsops/`` (no .gitignore names it here) is not a change to the config;
    the same files elsewhere are, and so is a tracked file changed under a subdirectory."""
    repo = committed_repo(tmp_path / "repo")
    config = repo / "sms-config"
    (config / "templates").mkdir(parents=True)
    (config / "templates" / "login.yaml").write_text("a: 1\n")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=x", "-c", "user.email=x@example.invalid", "commit", "-q", "-m", "templates")
    env = no_global_git(tmp_path)
    for where in (repo, config):
        (where / ".smsops" / "published").mkdir(parents=True)
        (where / ".smsops" / "published" / "prod.json").write_text("{}\n")
        (where / ".smsops" / "locks").mkdir()
        (where / ".smsops" / "locks" / "prod.lock").write_text("")
    assert is_dirty(str(config), env) is False
    assert is_dirty(str(repo), env) is False
    (config / "smsops-notes.json").write_text("{}\n")  # a file of another name is still a change
    assert is_dirty(str(config), env) is True
    (config / "smsops-notes.json").unlink()
    (config / "templates" / "login.yaml").write_text("a: 2\n")
    assert is_dirty(str(repo), env) is True
