"""The console's fixtures: the example config after the demo, in a real git repository.

``demo_base`` is built once per test run, whichever xdist workers need it (the demo waits out the
sandbox's review, some seconds): the demo's whole loop on the sandbox channel, then a longer review
and a quicker delivery, then a changed ``task-status`` applied, so the channel has live versions and one version pending
review; the demo's sends are forgotten. Nobody changes it: each test (or module) gets its own copy
(``make_repo``) committed to a fresh git repository, the sandbox's state included (git-ignored).

``client`` makes Starlette TestClients of the app on a test's own copy; ``served``, ``browser`` and
``page`` are a test module's consoles (normal and --read-only, served by uvicorn on loopback) and
Debian's chromium driven by Playwright (no browser download).
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright
from starlette.testclient import TestClient

from reconciler.console.app import create_app
from reconciler.console.security import COOKIE
from tests.configrepo import ROOT, SANDBOX_KEY

TOKEN = "console-test-token"
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Ada Reviewer",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Reviewer",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
}
# What the demo's SOPS files hold: none of it may reach a page (the key id only masked).
PHONE = r"\+86 138\*\*\*\*000[123]"  # a test number, masked
CANARIES = ("LTAI5tSmsopsSandboxDemo1", "SandboxDemoSecretNotReal000001", "13800000001", "13800000002", "13800000003")

_BUILD = """
import sys
from pathlib import Path
from reconciler.cli import main
from reconciler.sandbox.store.account import Sandbox
config = sys.argv[1]
assert main(["demo", config]) == 0
# A review that stays pending; a delivery report within the gate's first poll (the tests' sends need
# not wait out the demo's second, and one that holds the gate's sleep still sees it waiting).
for account in Sandbox(Path(config) / ".smsops" / "sandbox").accounts():
    account.set_behaviour(account.behaviour.model_copy(update={"review_delay_s": 3600.0, "delivery_delay_s": 0.2}))
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
    # Under xdist every worker has its own base temp directory; their parent is the run's, shared.
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    config = shared / "console-demo" / "sms-config"
    built = config.parent / "built"
    with open(shared / "console-demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker builds; the others wait, then copy
        if not built.exists():
            shutil.rmtree(config.parent, ignore_errors=True)  # what a failed build left
            _build(config)
            built.touch()
    return config


def _build(config: Path) -> None:
    shutil.copytree(ROOT / "sms-config", config, ignore=shutil.ignore_patterns(".smsops"))
    env = {**os.environ, "SOPS_AGE_KEY_FILE": str(SANDBOX_KEY), "SOPS_DISABLE_VERSION_CHECK": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _BUILD, str(config)], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


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


ALERT = "sms-config/templates/alert-notification.yaml"
Client = Callable[..., TestClient]


@pytest.fixture
def client(console_repo: Path) -> Client:
    """``client(read_only=False, token=TOKEN)``: a browser of the console on ``console_repo`` (the
    access token already in its cookie unless ``token`` is None)."""

    def make(*, read_only: bool = False, token: str | None = TOKEN) -> TestClient:
        app = create_app("sms-config", read_only=read_only, token=TOKEN)
        client = TestClient(app, base_url="http://127.0.0.1")
        if token is not None:
            client.cookies.set(COOKIE, token)
        return client

    return make


def csrf(client: TestClient) -> str:
    """The CSRF token, as a page's form carries it (the editor: a page that reads no provider)."""
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/templates/new").text)
    assert found is not None
    return found.group(1)


def draft(token: str, **fields: object) -> dict[str, object]:
    """The editor's form for a new template ``welcome`` on the sandbox channel, ``fields`` changed."""
    form: dict[str, object] = {
        "csrf": token,
        "name": "welcome",
        "type": "notification",
        "content": "Welcome {{ user }}, your account is ready.",
        "remark": "Sent once when a user finishes signing up for the OnePro app.",
        "channels": ["sandbox"],
        "var_name": ["user"],
        "var_type": ["name"],
        "var_example": ["Ann"],
        "var_max": ["10"],
    }
    form.update(fields)
    return form


def sent(client: TestClient) -> tuple[str, str]:
    """Click "Send Test SMS" on the sandbox channel and wait for the send to finish: the job's
    page, then its JSON."""
    started = client.post("/channels/sandbox/test-send", data={"csrf": csrf(client)}, follow_redirects=False)
    assert started.status_code == 303, started.text
    where = started.headers["location"]
    job = client.app.state.console.sends.get(where.rsplit("/", 1)[1])  # type: ignore[attr-defined]
    assert job is not None and job.wait(timeout=120)
    return client.get(where).text, client.get(f"{where}/progress").text


class HeldSleep:
    """The gate's sleep, held until the test lets it go: the page is seen while the send runs."""

    def __init__(self) -> None:
        self.asleep = threading.Event()
        self.go = threading.Event()

    def __call__(self, seconds: float) -> None:
        self.asleep.set()
        self.go.wait(timeout=120)
        time.sleep(seconds)


# -- a real browser: the console served by uvicorn in a thread, Debian's chromium -----------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@dataclass
class Served:
    url: str  # with the token
    base: str
    repo: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served(demo_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Served]]:
    """The console and a --read-only one, on one repository per test module, each served by uvicorn
    in a thread of this process (so a test may replace what the server calls, e.g. the gate's sleep)."""
    repo = make_repo(demo_base, tmp_path_factory.mktemp("browser"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
        for name, value in GIT_IDENTITY.items():
            patch.setenv(name, value)
        servers, shown = [], []
        for read_only in (False, True):
            port = _free_port()
            app = create_app(str(repo / "sms-config"), read_only=read_only, token=TOKEN)
            server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
            threading.Thread(target=server.run, daemon=True).start()
            while not server.started:
                time.sleep(0.02)
            servers.append(server)
            base = f"http://127.0.0.1:{port}"
            shown.append(Served(f"{base}/?token={TOKEN}", base, repo))
        yield shown[0], shown[1]
        for server in servers:
            server.should_exit = True


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def page(browser: Browser, served: tuple[Served, Served]) -> Iterator[Page]:
    context = browser.new_context()  # launch() gives chromium a fresh profile; a context, no cookie yet
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    tab.goto(served[0].url)
    yield tab
    context.close()


def channel(page: Page, served: Served) -> None:
    page.goto(f"{served.base}/channels/sandbox")
