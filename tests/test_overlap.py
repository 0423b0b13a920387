"""The config is checked in a forked worker while the SDKs are imported here: the worker's answer
is the same as checking here, and whenever the worker cannot be used the job runs here."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from functools import partial
from pathlib import Path

from reconciler.overlap import in_worker

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = str(ROOT / "sms-config")


# Run in a fresh interpreter: the test process has other tests' emulator threads, and with other
# threads running in_worker (rightly) forks nothing.
IN_A_FRESH_PROCESS = """
import os, threading
from functools import partial
from reconciler.overlap import in_worker
from reconciler.pipeline import checked_config

assert threading.active_count() == 1
here = []
assert in_worker(os.getpid, lambda: here.append(os.getpid())) != os.getpid() and here == [os.getpid()]
config, diagnostics = in_worker(partial(checked_config, {root!r}), lambda: None)
local, local_diagnostics = checked_config({root!r})
assert diagnostics == local_diagnostics
assert [t.resource for t in config.templates] == [t.resource for t in local.templates]
assert [c.resource for c in config.channels] == [c.resource for c in local.channels]
# positions crossed the pipe without their node trees: they are composed again on demand
for mine, theirs in zip(config.templates, local.templates, strict=True):
    assert mine.at("spec", "content") == theirs.at("spec", "content")
    assert mine.at("spec", "variables", "code") == theirs.at("spec", "variables", "code")
# the desired state of every channel was computed there too, and is what computing it here gives
from reconciler.reconcile.desired import desired_channel
from reconciler.pipeline import load_valid_config
ahead = load_valid_config({root!r})
assert sorted(key for key in ahead.derived) == sorted(("desired", c.resource.name) for c in local.channels)
for located in ahead.channels:
    assert desired_channel(ahead, located) is ahead.derived[("desired", located.resource.name)]
    assert desired_channel(ahead, located) == desired_channel(local, local.channel(located.resource.name))
print("checked", len(config.templates), "templates in a worker")
"""


def test_the_config_is_checked_in_a_worker_while_meanwhile_runs_here() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IN_A_FRESH_PROCESS.format(root=EXAMPLE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("checked ") and " 0 templates" not in done.stdout


def test_with_other_threads_running_everything_runs_here() -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert in_worker(os.getpid, lambda: None) == os.getpid()
    finally:
        stop.set()
        other.join()


def test_a_worker_that_dies_leaves_its_job_to_this_process() -> None:
    # Whether or not a worker is used here (other threads may run), the answer is this process's.
    assert in_worker(partial(_only_in_child, os.getpid()), lambda: None) == "here"


def _only_in_child(parent: int) -> str:
    if os.getpid() != parent:
        os._exit(5)  # the forked worker dies
    return "here"


def test_a_replaced_config_does_not_share_what_was_derived_from_the_original() -> None:
    from dataclasses import replace

    from reconciler.pipeline import checked_config
    from reconciler.reconcile.desired import desired_channel

    config, _ = checked_config(EXAMPLE)
    channel = config.channels[0]
    full = desired_channel(config, channel)
    assert desired_channel(config, channel) is full  # computed once
    fewer = replace(config, templates=())
    assert fewer.derived == {}
    assert desired_channel(fewer, channel).templates == ()
    assert full.templates != ()


NO_YAML_HERE = """
import gc, sys
from reconciler.pipeline import load_valid_config
config = load_valid_config({root!r})
assert gc.isenabled()  # paused for the imports and the config only
assert "yaml" not in sys.modules, "the plan side imported YAML"
located = config.templates[0]
assert located.at("spec", "content")[1] > 1  # positions still there: composed again, on demand
assert "yaml" in sys.modules
print("ok")
"""


def test_the_side_that_receives_the_config_parses_no_yaml_until_asked_where() -> None:
    done = subprocess.run(
        [sys.executable, "-c", NO_YAML_HERE.format(root=EXAMPLE)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
