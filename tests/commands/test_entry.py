"""``reconciler.cli.run``, the process entry point: it ends the process without the interpreter's
teardown, and must keep everything a normal exit keeps (exit code, output, exit handlers, threads).
Each case runs in a fresh interpreter, since it ends one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# ``main`` replaced by a command that leaves work for the exit: an exit handler, a logged warning,
# output larger than a pipe buffer, an object whose finaliser only a full teardown calls, and,
# when asked, a thread still running.
SCRIPT = """
import atexit, logging, sys, threading, time
from pathlib import Path
import reconciler.cli as cli

marks = Path(sys.argv[1])
thread = sys.argv[2] == "thread"

class Finalised:
    def __del__(self):
        (marks / "teardown").write_text("ran")

kept = Finalised()

def command():
    atexit.register(lambda: (marks / "atexit").write_text("ran"))
    logging.getLogger("smsops.test").warning("warned at the end")
    sys.stdout.write("x" * 200_000 + "END")
    if thread:
        def late():
            time.sleep(0.3)
            (marks / "thread").write_text("ran")
        threading.Thread(target=late).start()
    return 2

def main(argv=None):
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return command()

cli.main = main
cli.run()
"""


def _run(tmp_path: Path, mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), mode], capture_output=True, text=True, timeout=60
    )


def test_exit_keeps_code_output_and_exit_handlers_and_skips_the_teardown(tmp_path: Path) -> None:
    done = _run(tmp_path, "alone")
    assert done.returncode == 2
    assert len(done.stdout) == 200_003 and done.stdout.endswith("END")
    assert "WARNING smsops.test: warned at the end" in done.stderr
    assert (tmp_path / "atexit").read_text() == "ran"
    assert not (tmp_path / "teardown").exists()  # the teardown, and only it, was skipped


def test_with_a_thread_still_running_it_exits_the_normal_way(tmp_path: Path) -> None:
    done = _run(tmp_path, "thread")
    assert done.returncode == 2
    assert done.stdout.endswith("END")
    assert (tmp_path / "thread").read_text() == "ran"  # waited for
    assert (tmp_path / "atexit").read_text() == "ran"
    assert (tmp_path / "teardown").read_text() == "ran"


def test_a_real_command_through_the_module_entry_point(tmp_path: Path) -> None:
    config = Path(__file__).resolve().parents[2] / "sms-config"
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", str(config), "--output", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["summary"]["errors"] == 0
