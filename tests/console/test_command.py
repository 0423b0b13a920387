"""`smsops console` as a user starts it: the port is taken before the URL is printed."""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.configrepo import ROOT


def console(config: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_AGE_")} | {"SOPS_DISABLE_VERSION_CHECK": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", "console", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_a_busy_port_is_an_error_and_no_url_is_printed(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = console(ROOT / "sms-config", "--port", str(port))
        out, err = done.communicate(timeout=60)
    assert done.returncode == 1
    assert "http://" not in out
    assert f"port {port} on 127.0.0.1 is in use (another smsops console?)" in err
    assert "--port 0 picks one" in err and "Traceback" not in err


def test_port_0_prints_the_port_the_system_chose_and_serves_there(tmp_path: Path) -> None:
    config = tmp_path / "sms-config"
    shutil.copytree(ROOT / "sms-config", config, ignore=shutil.ignore_patterns(".smsops"))
    running = console(config, "--port", "0", "--read-only")
    try:
        assert running.stdout is not None
        lines = [running.stdout.readline() for _ in range(2)]  # the demo key's note, then the URL
        found = re.search(r"open (http://127\.0\.0\.1:(\d+)/\?token=\S+)", "".join(lines))
        assert found is not None and found.group(2) != "0", lines
        # the token is exchanged for a cookie, which the redirect that follows carries
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        with browser.open(found.group(1), timeout=60) as page:
            assert page.status == 200 and "read-only</span>" in page.read().decode()
    finally:
        running.terminate()
        running.communicate(timeout=30)
