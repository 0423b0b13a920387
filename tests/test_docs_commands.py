"""Every shell command the README and docs/ show runs, as written, from the directory they say.

A fenced ``sh``/``bash`` block is run as one bash script (``-e -o pipefail``). A line that needs what
a test cannot have (a GitHub login, a real provider account, a quiet machine) says so on the line
with ``# needs: <what>``; such lines are not run, and the tests below check that the marks are there
and say something. Everything else runs:

- README.md, from the root of a scratch copy of this checkout (its working tree, committed in a new
  repository), with this checkout's virtualenv, which `make` built: the two quickstart commands
  included. `make test` runs with ``PYTEST_ADDOPTS=--collect-only`` (this suite is what is running).
- docs/*.md, from the root of a config-only repository (``sms-config/`` and ``.sops.yaml``, see
  ``tests/configonly.py``) with smsops installed from the built wheel, as a team has it: ``sops``
  comes with smsops, ``age-keygen`` from the system (``.ci/run`` installs it), ``$EDITOR`` is a
  script that adds a line, and HOME is a scratch directory.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.configonly import (  # noqa: F401
    GIT_IDENTITY,
    ROOT,
    make_config_repo,
    runner_path,
    smsops_venv_fixture,
    smsops_wheel_fixture,
)

FENCE = re.compile(r"^( *)```(sh|bash)\n(.*?)^\1```", re.M | re.S)
NEEDS = re.compile(r"#\s*needs:(.*)$")
GUIDES = sorted((ROOT / "docs").glob("*.md"))
EDITOR = """#!/bin/sh
# What a person does in $EDITOR, without a terminal: add a line to the decrypted text.
printf 'docs_test_note: added by the editor\\n' >> "$1"
"""


@dataclass
class Block:
    document: str
    line: int
    script: str

    def runnable(self) -> str:
        """The script without its `# needs:` lines (a no-op keeps `set -e` and line numbers right)."""
        return "\n".join(":" if NEEDS.search(line) else line for line in self.script.splitlines()) + "\n"

    def commands(self) -> list[str]:
        return [line.strip() for line in self.script.splitlines() if line.strip() and not line.strip().startswith("#")]


@dataclass
class Ran:
    block: Block
    returncode: int
    output: str


def blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    document = path.relative_to(ROOT).as_posix()
    return [
        Block(document, text[: match.start()].count("\n") + 1, textwrap.dedent(match.group(3)))
        for match in FENCE.finditer(text)
    ]


def run_blocks(found: list[Block], cwd: Path, env: dict[str, str]) -> list[Ran]:
    ran = []
    for block in found:
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", block.runnable()],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )
        ran.append(Ran(block, result.returncode, result.stdout + result.stderr))
    return ran


def assert_all_passed(ran: list[Ran]) -> None:
    for run in ran:
        where = f"{run.block.document}:{run.block.line}"
        assert run.returncode == 0, f"{where}: exit {run.returncode}\n{run.block.runnable()}\n{run.output[-4000:]}"


def clean_environment() -> dict[str, str]:
    # As in a fresh shell: no keys, no CI or pytest settings, nothing of the make that runs this suite.
    drop = ("SOPS_AGE_", "SMSOPS_", "GITHUB_", "PYTEST_", "VIRTUAL_ENV", "MAKE", "MFLAGS")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)} | {"SOPS_DISABLE_VERSION_CHECK": "1"}


# -- README.md, from the root of a scratch copy of the checkout -----------------------------------


def scratch_checkout(where: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (where / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, where / name)  # keeps mtimes: make sees the virtualenv up to date
    # This checkout's virtualenv, which `make` built from the same pyproject.toml; make must not
    # rebuild it from here (it would rebuild the real one through the link).
    stamp = ROOT / ".venv/.installed"
    assert stamp.exists() and stamp.stat().st_mtime >= (ROOT / "pyproject.toml").stat().st_mtime, "run make first"
    (where / ".venv").symlink_to(ROOT / ".venv")
    env = {**os.environ, **GIT_IDENTITY}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "scratch copy"]):
        subprocess.run(["git", *args], cwd=where, env=env, check=True, capture_output=True, timeout=60)
    return where


def readme_blocks(section: str) -> list[Block]:
    """The README's blocks under the ``## <section>`` heading (each section runs in a scratch copy of
    its own, so that xdist can run them side by side)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {section}\n")
    end = text.find("\n## ", start + 1)
    first, last = text[:start].count("\n") + 1, text[: end if end >= 0 else len(text)].count("\n") + 1
    return [block for block in blocks(ROOT / "README.md") if first <= block.line <= last]


def run_readme_section(section: str, where: Path) -> tuple[Path, list[Ran]]:
    checkout = scratch_checkout(where)
    env = clean_environment() | {"PYTEST_ADDOPTS": "--collect-only -q"}
    return checkout, run_blocks(readme_blocks(section), checkout, env)


def test_the_readme_commands_are_the_quickstart_console_and_development_ones() -> None:
    commands = [command for block in blocks(ROOT / "README.md") for command in block.commands()]
    assert [c.split("#")[0].strip() for c in commands] == [
        *("make demo", "make test"),
        ".venv/bin/smsops console sms-config",  # needs a browser: not run
        *("make test", "make lint", "make schema", "make bench"),
    ]
    assert [c for block in readme_blocks("Quickstart") for c in block.commands()][:2] == commands[:2]


def test_readme_quickstart_runs_from_the_checkout(tmp_path: Path) -> None:
    checkout, ran = run_readme_section("Quickstart", tmp_path)
    assert_all_passed(ran)
    runnable = [run for run in ran if not all("# needs:" in c for c in run.block.commands())]
    quickstart = "".join(run.output for run in runnable)
    # `make demo`: the whole loop, in order, on the embedded sandbox (tests/commands/test_demo.py has the rest)
    steps = [line.split(": smsops ")[1].split()[0] for line in quickstart.splitlines() if line.startswith("== ")]
    assert steps == ["validate", "plan", "apply", "wait", "apply", "status", "export", "plan"]
    # OnePro was made in the sandbox's console: adopted, its baseline is recorded once (a row of its own)
    summary = "Plan: 4 to create, 0 to update, 0 to promote, 0 to retire, 0 to delete, 1 to record; 4 awaiting review."
    assert summary in quickstart
    assert "~ record  sandbox/signature/OnePro" in quickstart
    assert "Gate passed on sandbox" in quickstart and "delivered" in quickstart
    assert "Apply: 5 done, 0 failed, 0 deferred, 0 skipped." in quickstart
    assert "`smsops demo --reset` starts over.\n" in quickstart
    # the key the demo found itself is named for the commands typed by hand afterwards, as the README says
    assert "To run these commands yourself: export SOPS_AGE_KEY_FILE=sms-config/keys/sandbox.agekey\n" in quickstart
    assert "Traceback" not in quickstart
    for secret in ("SandboxDemoSecretNotReal000001", "13800000001"):
        assert secret not in quickstart
    # the sandbox account persists: the demo run again has nothing to do
    again = subprocess.run(
        [".venv/bin/smsops", "demo", "sms-config"],
        cwd=checkout,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "Plan: 0 to create, 0 to update, 0 to promote, 0 to retire, 0 to delete; 0 awaiting review." in again.stdout
    # `make test` collected the suite (one line per file), this file included.
    assert re.search(r"^tests/test_docs_commands\.py: \d+$", quickstart, re.M), quickstart[-2000:]
    # the demo's sandbox state is ignored by git
    status = subprocess.run(["git", "status", "--porcelain"], cwd=checkout, capture_output=True, text=True, timeout=60)
    assert status.stdout == ""


# -- docs/*.md, from the root of a config-only repository -----------------------------------------


@pytest.fixture(scope="module")
def guide_run(tmp_path_factory: pytest.TempPathFactory, smsops_venv: Path) -> tuple[Path, list[Ran]]:
    work = tmp_path_factory.mktemp("guide")
    repo = make_config_repo(work / "repo")
    editor = work / "bin/editor"
    editor.parent.mkdir()
    editor.write_text(EDITOR)
    editor.chmod(0o755)
    (work / "home").mkdir()
    env = clean_environment() | {"HOME": str(work / "home"), "EDITOR": str(editor)}
    env["PATH"] = runner_path(smsops_venv)
    found = [block for guide in GUIDES for block in blocks(guide)]
    return repo, run_blocks(found, repo, env)


def test_guide_commands_run_in_a_config_repository(guide_run: tuple[Path, list[Ran]], smsops_venv: Path) -> None:
    repo, ran = guide_run
    assert_all_passed(ran)
    ran_lines = " ".join(command for run in ran for command in run.block.commands() if not NEEDS.search(command))
    for command in ("age-keygen", "sops edit", "sops updatekeys", "sops rotate"):
        assert command in ran_lines
    # The new key went to HOME, outside the repository, which holds only the test-only key.
    assert (repo.parent / "home/.age/ci.agekey").read_text().count("AGE-SECRET-KEY-1") == 1
    assert [p.name for p in repo.rglob("*.agekey")] == ["sandbox.agekey"]
    # The new secret file: encrypted by sops to the recipient the catch-all rule of .sops.yaml names.
    new = repo / "sms-config/secrets/new.enc.yaml"
    sops_yaml = (repo / ".sops.yaml").read_text()
    catch_all = re.search(r"path_regex: secrets/\.\*\\\.enc\\\.yaml\$\n\s+age: (age1\w+)", sops_yaml)
    assert catch_all and catch_all.group(1) in new.read_text()
    assert "docs_test_note: ENC[AES256_GCM," in new.read_text() and "added by the editor" not in new.read_text()
    smsops = smsops_venv / "smsops"
    checked = subprocess.run([str(smsops), "check-encrypted", str(new)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    # The edited sandbox file still decrypts with its key, and holds what the editor added.
    decrypted = subprocess.run(
        [str(smsops_venv / "sops"), "decrypt", "sms-config/secrets/sandbox.enc.yaml"],
        cwd=repo,
        env=clean_environment() | {"SOPS_AGE_KEY_FILE": "sms-config/keys/sandbox.agekey"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert decrypted.returncode == 0, decrypted.stderr
    assert "docs_test_note: added by the editor" in decrypted.stdout


# -- the marks -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [ROOT / "README.md", *GUIDES], ids=lambda p: p.name)
def test_lines_not_run_say_what_they_need(path: Path) -> None:
    for block in blocks(path):
        for line in block.script.splitlines():
            mark = NEEDS.search(line)
            if mark:
                assert len(mark.group(1).split()) >= 2, f"{block.document}:{block.line}: say what it needs: {line}"
            # Commands that talk to GitHub or a cloud account cannot run in a test: they must be marked.
            if re.match(r"\s*(gh|aws|aliyun|tccli) ", line):
                assert mark, f"{block.document}:{block.line}: mark it `# needs: ...`: {line}"


def test_the_docs_have_commands_to_run() -> None:
    assert len(blocks(ROOT / "README.md")) == 3  # quickstart, the console, development
    guide = [block for path in GUIDES for block in blocks(path)]
    assert len(guide) >= 4
    assert sum(1 for block in guide for line in block.commands() if not NEEDS.search(line)) >= 6


def test_the_guide_gitignore_keeps_plaintext_signature_files_out_of_the_config_repository(
    tmp_path: Path, run_cli: Any
) -> None:
    """`sops encrypt licence.png > licence.png.enc` leaves licence.png beside its copy: with the
    layout's .gitignore, `git add -A` takes the copy and the Signature document, not the image;
    validate warns about the image (SMS410) all the same."""
    repo = make_config_repo(tmp_path / "repo")
    signatures = repo / "sms-config" / "signatures"
    (signatures / "sandbox" / "onepro-proof.png").write_bytes(b"\x89PNG plaintext proof")
    (signatures / "licence.pdf").write_bytes(b"%PDF plaintext")
    (signatures / "licence.pdf.enc").write_text("{}")
    env = {**os.environ, **GIT_IDENTITY}
    subprocess.run(["git", "add", "-A"], cwd=repo, env=env, check=True, timeout=60)
    staged = subprocess.run(
        ["git", "diff", "--cached", "--name-only"], cwd=repo, env=env, check=True, capture_output=True, text=True
    ).stdout.split()
    assert staged == ["sms-config/signatures/licence.pdf.enc"]
    tracked = subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True, check=True).stdout
    assert "sms-config/signatures/onepro.yaml" in tracked
    assert "sms-config/signatures/sandbox/onepro-proof.png.enc" in tracked
    code, out, _ = run_cli("validate", str(repo / "sms-config"))
    assert code == 0 and "warning SMS410: sandbox/onepro-proof.png, which sandbox/onepro-proof.png.enc was made" in out
