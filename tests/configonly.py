"""A config-only repository, as a team that uses smsops keeps one, and smsops as such a team installs it.

The repository holds ``sms-config/`` (copied from this one, without sandbox state), ``.sops.yaml``
and the team guide's ``.gitignore`` at its root: no pyproject, no ``reconciler/``, so nothing can
install or import smsops from it.
smsops comes from a wheel built once per test session (per xdist worker) from a copy of this
checkout's package files, installed with uv into a virtualenv of its own. uv runs offline, from
the cache that ``make`` filled when it installed the same dependencies.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
UV = str(BIN / "uv")
# The interpreter this virtualenv was made from: what `actions/setup-python` puts on a runner's PATH.
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Config Team",
    "GIT_AUTHOR_EMAIL": "config-team@example.com",
    "GIT_COMMITTER_NAME": "Config Team",
    "GIT_COMMITTER_EMAIL": "config-team@example.com",
}


def uv_environment() -> dict[str, str]:
    return {**os.environ, "UV_OFFLINE": "1", "UV_NO_PROGRESS": "1"}


def tools_dir(where: Path) -> Path:
    """A directory with `python` (the base interpreter) and `uv` only: what the workflows' setup
    steps provide on a runner, without this checkout's virtualenv and its editable smsops."""
    where.mkdir(parents=True, exist_ok=True)
    for name, target in (("python", BASE_PYTHON), ("python3", BASE_PYTHON), ("uv", UV)):
        link = where / name
        if not link.exists():
            link.symlink_to(target)
    return where


def runner_path(*first: Path) -> str:
    """PATH for a script run as on a runner: ``first``, then the system's, never this virtualenv."""
    system = [entry for entry in os.environ.get("PATH", "").split(os.pathsep) if entry and Path(entry) != BIN]
    return os.pathsep.join([*map(str, first), *system])


def guide_gitignore() -> str:
    """The ``.gitignore`` the team guide's repository layout shows (its ```gitignore block)."""
    guide = (ROOT / "docs" / "team-guide.md").read_text(encoding="utf-8")
    start = guide.index("```gitignore\n") + len("```gitignore\n")
    return guide[start : guide.index("```", start)]


def make_config_repo(where: Path) -> Path:
    """A git repository holding only sms-config/, .sops.yaml and the team guide's .gitignore, committed."""
    where.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "sms-config", where / "sms-config", ignore=shutil.ignore_patterns(".smsops"))
    shutil.copy(ROOT / ".sops.yaml", where / ".sops.yaml")
    (where / ".gitignore").write_text(guide_gitignore(), encoding="utf-8")
    env = {**os.environ, **GIT_IDENTITY}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "SMS settings"]):
        subprocess.run(["git", *args], cwd=where, env=env, check=True, capture_output=True, timeout=60)
    return where


# Named explicitly, so a test module can import them under another name (`smsops_wheel_fixture`):
# the import registers the fixture, and no parameter shadows an imported name.
@pytest.fixture(scope="session", name="smsops_wheel")
def smsops_wheel_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """smsops built as a wheel from a copy of the package files (building in the checkout would
    write build/ there, under the feet of other workers)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "reconciler", source / "reconciler", ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run(
        [UV, "build", "--quiet", "--wheel", "--out-dir", str(work / "dist"), str(source)],
        env=uv_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (work / "dist").glob("smsops-*.whl")
    return wheel


@pytest.fixture(scope="session", name="smsops_venv")
def smsops_venv_fixture(smsops_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with smsops installed from the wheel; its ``bin`` directory is returned."""
    venv = tmp_path_factory.mktemp("smsops-venv")
    env = uv_environment()
    for args in (
        ["venv", "--quiet", "--clear", "--python", BASE_PYTHON, str(venv)],
        ["pip", "install", "--quiet", "--python", str(venv / "bin/python"), str(smsops_wheel)],
    ):
        done = subprocess.run([UV, *args], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    return venv / "bin"
