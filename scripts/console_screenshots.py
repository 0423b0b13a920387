"""Screenshots of `smsops console` for the docs: docs/console-channel.png and docs/console-editor.png.

From the sandbox demo, on a scratch copy of sms-config/ in a new git repository: the demo's whole
loop runs first (so versions are live), then the console is served on loopback and Debian's
chromium (Playwright, no browser download) takes the two pictures. Run it from the checkout:

    .venv/bin/python scripts/console_screenshots.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reconciler.cli import main  # noqa: E402
from reconciler.console.app import create_app  # noqa: E402

PORT = 8411
TOKEN = "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip


def _repo(where: Path) -> None:
    config = where / "sms-config"
    shutil.copytree(ROOT / "sms-config", config, ignore=shutil.ignore_patterns(".smsops"))
    (where / ".gitignore").write_text(".smsops/\n")
    identity = {"GIT_AUTHOR_NAME": "Demo", "GIT_AUTHOR_EMAIL": "demo@example.com",
                "GIT_COMMITTER_NAME": "Demo", "GIT_COMMITTER_EMAIL": "demo@example.com"}  # fmt: skip
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "Example config"]):
        subprocess.run(["git", "-C", str(where), *args], check=True, env={**os.environ, **identity})


def main_() -> int:
    os.environ["SOPS_AGE_KEY_FILE"] = str(ROOT / "sms-config" / "keys" / "sandbox.agekey")
    with tempfile.TemporaryDirectory() as scratch:
        _repo(Path(scratch))
        # As a user runs it: from the repository, naming the config by its path there (the pages
        # and their diagnostics then say sms-config/..., not where the scratch copy lives).
        os.chdir(scratch)
        if main(["demo", "sms-config"]) != 0:
            return 1
        server = uvicorn.Server(uvicorn.Config(create_app("sms-config", token=TOKEN), port=PORT, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{PORT}"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/?token={TOKEN}")
            page.goto(f"{base}/channels/sandbox")
            page.screenshot(path=str(ROOT / "docs" / "console-channel.png"), full_page=True)
            page.goto(f"{base}/templates/login-verification/edit?channel=sandbox")
            page.get_by_label("Content").fill("Your login code is {{ code }}. It expires in {{ minutes } minutes.")
            page.locator("#diagnostics").get_by_text("SMS101").wait_for()
            page.screenshot(path=str(ROOT / "docs" / "console-editor.png"), full_page=True)
            browser.close()
        server.should_exit = True
        os.chdir(ROOT)  # out of the scratch directory before it goes
    print("wrote docs/console-channel.png and docs/console-editor.png")
    return 0


if __name__ == "__main__":
    sys.exit(main_())
