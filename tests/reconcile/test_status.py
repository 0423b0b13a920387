"""`smsops status` and `smsops wait` against the embedded sandbox: the real CLI, the real sops
binary, the Alibaba SDK and adapter talking to the Alibaba emulator over loopback.

Review is switched to manual (``auto_review=False``) so each test decides when a version is
approved or rejected, through the sandbox's own account API, as a provider's reviewer would.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from reconciler.providers.base import ReviewStatus
from reconciler.sandbox.store.account import Sandbox, SandboxAccount
from reconciler.sandbox.store.behaviour import Behaviour
from reconciler.secrets.sops import decrypt_file

ROOT = Path(__file__).resolve().parents[2]
SANDBOX_SECRETS = ROOT / "sms-config" / "secrets" / "sandbox.enc.yaml"
SANDBOX_KEY = ROOT / "sms-config" / "keys" / "sandbox.agekey"
V1 = "Your login code is {{ code }}. It expires in {{ minutes }} minutes."
V2 = "Your sign-in code is {{ code }}. Valid for {{ minutes }} minutes."

CHANNEL = """\
apiVersion: smsops/v1
kind: Channel
metadata: {{name: demo}}
spec:
  provider: sandbox
  credentials: {{sops: ../secrets/sandbox.enc.yaml}}
  signature: {{name: OnePro}}
  enabled: {enabled}
  testSend: {{recipients: {{sops: ../secrets/sandbox.enc.yaml, key: test_recipients}}}}
"""
TEMPLATE = """\
apiVersion: smsops/v1
kind: Template
metadata: {{name: login}}
spec:
  type: verification
  content: "{content}"
  variables:
    code: {{type: code, example: "482913", maxLength: 6}}
    minutes: {{type: number, example: "5"}}
  remark: Sent when a user signs in.
"""

Run = Callable[..., tuple[int, str, str]]


class Config:
    """A config dir with one sandbox channel ``demo`` and one template ``login``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "channels").mkdir(parents=True)
        (root / "templates").mkdir()
        (root / "secrets").mkdir()
        (root / "secrets" / "sandbox.enc.yaml").write_bytes(SANDBOX_SECRETS.read_bytes())
        self.write(V1)
        secrets = decrypt_file(root / "secrets" / "sandbox.enc.yaml")
        self.secret_values = [
            secrets.get_str("access_key_id").get_secret_value(),
            secrets.get_str("access_key_secret").get_secret_value(),
            *(n.get_secret_value() for n in secrets.get_strs("test_recipients")),
        ]
        # The account exists before smsops first opens it, with review decided by hand.
        self.account: SandboxAccount = Sandbox(root / ".smsops" / "sandbox").create_account(
            "demo",
            provider="alibaba",
            access_keys={self.secret_values[0]: self.secret_values[1]},
            behaviour=Behaviour(auto_review=False, delivery_delay_s=0),
        )

    def write(self, content: str, *, enabled: bool = True) -> None:
        (self.root / "channels" / "demo.yaml").write_text(CHANNEL.format(enabled=str(enabled).lower()))
        (self.root / "templates" / "login.yaml").write_text(TEMPLATE.format(content=content))

    def codes(self) -> dict[str, str]:
        """provider-side name -> code of every template at the sandbox."""
        return {t.name: t.code for t in self.account.templates()}

    def only_code(self, prefix: str = "login~") -> str:
        matching = [code for name, code in self.codes().items() if name.startswith(prefix)]
        assert len(matching) == 1, matching
        return matching[0]


def no_idle_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox answers and delivers at once: retry without backoff and query delivery at once
    (the same code, without the waits meant for a real provider)."""
    monkeypatch.setenv("SMSOPS_RETRY_BASE_DELAY", "0")
    monkeypatch.setattr("reconciler.commands.apply.GATE_POLL_INTERVAL_S", 0.01)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    no_idle_waits(monkeypatch)
    return Config(tmp_path / "cfg")


def apply(run_cli: Run, config: Config) -> None:
    code, out, err = run_cli("apply", str(config.root), "--auto-approve")
    assert code == 0, out + err


def status_json(run_cli: Run, config: Config) -> dict[str, object]:
    code, out, err = run_cli("status", str(config.root), "--output", "json")
    assert code == 0, err
    data: dict[str, object] = json.loads(out)
    return data


def login(data: dict[str, object]) -> dict[str, object]:
    channels = data["channels"]
    assert isinstance(channels, list)
    template: dict[str, object] = channels[0]["templates"][0]
    return template


def test_status_before_apply_says_not_registered(run_cli: Run, config: Config) -> None:
    code, out, err = run_cli("status", str(config.root))
    assert code == 0, err
    assert out.splitlines() == [
        "Channel demo (sandbox)",
        "  signature OnePro: approved",
        "  login  not-registered; none live",
        "Status: 0 live, 0 approved awaiting promotion, 0 pending review, 0 rejected, 1 not registered; 1 channel(s).",
    ]


def test_status_follows_a_version_from_review_to_live(run_cli: Run, config: Config) -> None:
    apply(run_cli, config)
    v1 = config.only_code()

    pending = login(status_json(run_cli, config))
    assert pending["state"] == "pending"
    assert pending["registered"] is True
    assert pending["live"] is None
    [version] = pending["versions"]  # type: ignore[misc]
    assert (version["code"], version["status"], version["desired"]) == (v1, "pending", True)
    assert version["since"]  # the provider's submission time
    _, out, _ = run_cli("status", str(config.root))
    assert "  login  pending review since " in out
    assert out.endswith(
        "0 live, 0 approved awaiting promotion, 1 pending review, 0 rejected, 0 not registered; 1 channel(s).\n"
    )

    config.account.approve(v1)
    approved = login(status_json(run_cli, config))
    assert (approved["state"], approved["live"]) == ("approved", None)
    _, out, _ = run_cli("status", str(config.root))
    assert "  login  approved, awaiting promotion; none live" in out

    apply(run_cli, config)  # promotes the approved version
    live = login(status_json(run_cli, config))
    assert live["state"] == "live"
    assert live["live"]["code"] == v1  # type: ignore[index]
    assert live["live"]["since"]  # type: ignore[index]  # the promotion time
    assert live["versions"] == []
    _, out, _ = run_cli("status", str(config.root))
    assert f"  login  live {v1} since " in out


def test_status_shows_new_version_in_review_and_its_rejection_reason(run_cli: Run, config: Config) -> None:
    apply(run_cli, config)
    v1 = config.only_code()
    config.account.approve(v1)
    apply(run_cli, config)
    config.write(V2)
    apply(run_cli, config)
    v2 = next(code for code in config.codes().values() if code != v1)

    data = login(status_json(run_cli, config))
    assert data["state"] == "pending"
    assert data["live"]["code"] == v1  # type: ignore[index]  # the old version stays live
    assert [(v["code"], v["status"]) for v in data["versions"]] == [(v2, "pending")]  # type: ignore[attr-defined]

    config.account.reject(v2, "The content does not match the remark.")
    data = login(status_json(run_cli, config))
    assert data["state"] == "rejected"
    assert data["versions"][0]["reason"] == "The content does not match the remark."  # type: ignore[index]
    code, out, _ = run_cli("status", str(config.root))
    assert code == 0
    assert f"  login  rejected: The content does not match the remark.; live {v1} since " in out
    _, markdown, _ = run_cli("status", str(config.root), "--output", "markdown")
    assert "| `login` | rejected: The content does not match the remark. | live " in markdown
    _, github, _ = run_cli("status", str(config.root), "--output", "github")
    assert "::error title=smsops demo::demo/login: rejected: The content does not match the remark." in github
    assert github.splitlines()[-1].startswith("Status: 0 live, 0 approved")


def test_the_summary_counts_a_rejected_signature_with_the_rejections(run_cli: Run, config: Config) -> None:
    assert run_cli("status", str(config.root))[0] == 0  # the sandbox channel's first use makes its signature
    config.account.reject_signature("OnePro", "The company name is missing.")
    code, out, _ = run_cli("status", str(config.root))
    assert code == 0
    assert out.splitlines() == [
        "Channel demo (sandbox)",
        "  signature OnePro: rejected: The company name is missing.",
        "  login  not-registered; none live",
        "Status: 0 live, 0 approved awaiting promotion, 0 pending review, 1 rejected (1 signature), "
        "1 not registered; 1 channel(s).",
    ]
    assert status_json(run_cli, config)["summary"] == out.splitlines()[-1]


def test_the_summary_counts_a_signature_in_review_with_the_pending_versions(run_cli: Run, config: Config) -> None:
    assert run_cli("status", str(config.root))[0] == 0  # the sandbox channel's first use makes its signature
    config.account.put_signature("OnePro", ReviewStatus.PENDING)
    code, out, _ = run_cli("status", str(config.root))
    assert code == 0
    assert out.splitlines() == [
        "Channel demo (sandbox)",
        "  signature OnePro: pending",
        "  login  not-registered; none live",
        "Status: 0 live, 0 approved awaiting promotion, 1 pending review (1 signature), 0 rejected, "
        "1 not registered; 1 channel(s).",
    ]
    assert status_json(run_cli, config)["summary"] == out.splitlines()[-1]


def test_status_of_an_unknown_channel_is_a_config_error(run_cli: Run, config: Config) -> None:
    code, _, err = run_cli("status", str(config.root), "--channel", "nope")
    assert code == 1
    assert "no channel named 'nope'" in err


# -- wait ------------------------------------------------------------------------------------------


class FakeTime:
    """Monotonic time that moves only when wait sleeps; ``on_sleep`` plays the provider's reviewer."""

    def __init__(self, on_sleep: Callable[[int], None] = lambda _: None) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        self.on_sleep(len(self.sleeps))


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    import reconciler.commands.wait as wait_command

    fake = FakeTime()
    monkeypatch.setattr(wait_command, "CLOCK", fake.clock)
    monkeypatch.setattr(wait_command, "SLEEP", fake.sleep)
    return fake


def test_wait_returns_0_once_the_provider_approves(run_cli: Run, config: Config, fake_time: FakeTime) -> None:
    apply(run_cli, config)
    v1 = config.only_code()
    fake_time.on_sleep = lambda n: config.account.approve(v1) if n == 2 else None

    code, out, err = run_cli("wait", str(config.root), "--interval", "15s", "--timeout", "5m")
    assert code == 0, err
    assert fake_time.sleeps == [15, 15]
    assert err.count(f"waiting for review: 1 pending (demo/login ({v1})), 0 ready; next check in 15s") == 2
    assert "all 1 template(s) approved" in err
    assert "  login  approved, awaiting promotion; none live" in out


def test_wait_fails_at_once_on_a_rejection_with_the_reason(run_cli: Run, config: Config, fake_time: FakeTime) -> None:
    apply(run_cli, config)
    v1 = config.only_code()
    fake_time.on_sleep = lambda n: config.account.reject(v1, "Verification templates must not contain links.")

    code, out, err = run_cli("wait", str(config.root), "--output", "json")
    assert code == 1
    assert len(fake_time.sleeps) == 1  # no polling after a final answer
    assert f"failed: demo/login ({v1}) rejected by the provider: Verification templates must not contain links." in err
    assert login(json.loads(out))["state"] == "rejected"


def test_wait_times_out_naming_what_is_still_pending(run_cli: Run, config: Config, fake_time: FakeTime) -> None:
    apply(run_cli, config)
    v1 = config.only_code()

    code, _, err = run_cli("wait", str(config.root), "--timeout", "1m", "--interval", "25s")
    assert code == 1
    assert fake_time.sleeps == [25, 25, 10]  # never sleeps past the deadline
    assert f"timed out after 1m: still pending: demo/login ({v1})" in err


def test_wait_on_a_version_never_applied_fails_without_waiting(
    run_cli: Run, config: Config, fake_time: FakeTime
) -> None:
    code, _, err = run_cli("wait", str(config.root))
    assert code == 1
    assert fake_time.sleeps == []
    assert "demo/login: version " in err and "is not registered; run `smsops apply` first" in err


def test_wait_rejects_a_malformed_duration(run_cli: Run, config: Config) -> None:
    code, _, err = run_cli("wait", str(config.root), "--timeout", "30 minutes")
    assert code == 1
    assert "'30 minutes' is not a duration such as 90s, 10m, 2h or 1d" in err


def test_no_secret_or_phone_number_in_status_or_wait_output(run_cli: Run, config: Config, fake_time: FakeTime) -> None:
    apply(run_cli, config)
    config.account.approve(config.only_code())
    outputs: list[str] = []
    for output in ("text", "json", "markdown", "github"):
        outputs.extend(run_cli("status", str(config.root), "--output", output)[1:])
        outputs.extend(run_cli("wait", str(config.root), "--output", output)[1:])
    text = "\n".join(outputs)
    assert "OnePro" in text  # the outputs are not empty
    for value in config.secret_values:
        assert value not in text


# -- versions on their way out ---------------------------------------------------------------------


def test_status_shows_versions_waiting_to_be_retired_or_deleted(run_cli: Run, config: Config) -> None:
    channel = config.root / "channels" / "demo.yaml"

    def rollout(grace: str) -> None:
        text = channel.read_text().split("  rollout:")[0]
        channel.write_text(text + f"  rollout: {{prune: true, gracePeriod: {grace}}}\n")

    rollout("1d")
    apply(run_cli, config)
    v1 = config.only_code()
    config.account.approve(v1)
    apply(run_cli, config)
    config.write(V2)
    rollout("1d")
    apply(run_cli, config)
    v2 = next(code for code in config.codes().values() if code != v1)
    _, out, _ = run_cli("status", str(config.root))
    assert "  login  pending review since " in out and f", code {v2}; live {v1} since " in out

    config.account.approve(v2)
    apply(run_cli, config)  # promotes v2: v1 is kept for the grace period
    data = login(status_json(run_cli, config))
    [kept] = data["leaving"]  # type: ignore[misc]
    assert (kept["code"], kept["action"]) == (v1, "noop")
    promoted = datetime.fromisoformat(data["live"]["since"])  # type: ignore[index]
    due = (promoted + timedelta(days=1)).isoformat(timespec="minutes")
    # the promoting apply published without v1: its grace period counts from then
    assert kept["reason"] == f"superseded by {v2}; retired after the grace period, at {due}"
    code, out, _ = run_cli("status", str(config.root))
    assert code == 0
    assert f"    old {v1}: superseded by {v2}; retired after the grace period, at {due}" in out
    assert out.endswith("0 not registered; 1 channel(s). 1 version(s) waiting to be retired or deleted.\n")
    _, markdown, _ = run_cli("status", str(config.root), "--output", "markdown")
    assert f"- `login` {v1}: superseded by {v2}; retired after the grace period, at {due}" in markdown

    rollout("0s")  # the grace period is over: the next apply retires it
    _, out, _ = run_cli("status", str(config.root))
    assert f"    old {v1}: superseded by {v2}; the next apply will retire it" in out

    rollout("1d")
    (config.root / "templates" / "login.yaml").unlink()  # removed from git, with prune on
    _, out, _ = run_cli("status", str(config.root))
    assert "  removed from git, waiting for deletion:" in out
    assert (
        f"    login {v2}: removed from git: no longer published; deleted after the grace period; "
        "the next apply will unpublish it"
    ) in out
    apply(run_cli, config)
    removed = status_json(run_cli, config)["channels"][0]["removed"]  # type: ignore[index]
    # Both versions were promoted once: both are unpublished now, and deleted after the grace period.
    assert sorted((r["template"], r["code"], r["action"]) for r in removed) == [
        ("login", v1, "noop"),
        ("login", v2, "noop"),
    ]
    assert all(r["reason"].startswith("removed from git; deleted after the grace period, at ") for r in removed)
    _, github, _ = run_cli("status", str(config.root), "--output", "github")
    assert (
        f"::notice title=smsops demo::demo/login: {v2}: removed from git; deleted after the grace period, at " in github
    )
