"""The working tree's changes to the config as a diff, and a commit of the console's saves on a new
branch, ready for a pull request. git is the source of truth: nothing is pushed, and only the files
the console wrote are committed (a plaintext file someone left beside them is never swept in).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import SmsopsError
from reconciler.history.git import Repository, open_repository

# git check-ref-format, simplified to what a branch for a pull request needs
_BRANCH = re.compile(r"^(?!.*\.\.)(?!.*//)(?!/)[A-Za-z0-9._/-]+(?<![./])$")


@dataclass(frozen=True)
class WorkingChanges:
    branch: str
    diff: str  # unified diff of the config directory against HEAD, new files included
    files: tuple[str, ...]  # changed files, repo-relative


def shown_dir(config_dir: str) -> str:
    """How the pages name the config directory: its path in its git repository (the repository's
    name when it is the top), else its own name; never an absolute path, which says where a
    scratch copy lives rather than which config this is."""
    try:
        repo = open_repository(config_dir)
    except SmsopsError:
        return os.path.basename(os.path.abspath(config_dir))
    return repo.top.name if repo.config == "." else repo.config


def working_changes(config_dir: str) -> WorkingChanges:
    repo = open_repository(config_dir)
    branch = repo.run("rev-parse", "--abbrev-ref", "HEAD").strip() if repo.has_commits() else ""
    tracked = repo.run("diff", "--no-color", "--no-ext-diff", "HEAD", "--", repo.config) if branch else ""
    untracked = repo.run("ls-files", "--others", "--exclude-standard", "-z", "--", repo.config).split("\0")
    new = [_new_file_diff(repo.top, path) for path in untracked if path]
    status = repo.run("status", "--porcelain", "-z", "--", repo.config).split("\0")
    files = tuple(entry[3:] for entry in status if len(entry) > 3)
    return WorkingChanges(branch, tracked + "".join(new), files)


def _new_file_diff(top: Path, path: str) -> str:
    try:
        lines = (top / path).read_text(encoding="utf-8").splitlines(keepends=True)
    except (OSError, UnicodeDecodeError):
        return f"Binary or unreadable new file {path}\n"
    return "".join(difflib.unified_diff([], lines, "/dev/null", f"b/{path}"))


def commit_on_branch(config_dir: str, files: Iterable[str], branch: str, message: str) -> str:
    """Switch to a new ``branch`` from HEAD (the working tree goes along) and commit ``files``
    (relative to the config directory) with ``message``; returns the commit's short id. A file the
    console saved that is gone since (and was never committed) is left out. If the commit fails,
    the repository is back on the branch it was on, without the new one: nothing half done."""
    if branch.startswith("-") or not _BRANCH.match(branch):
        raise SmsopsError(f"{branch!r} is not a usable branch name", hint="use letters, digits, '-', '_', '/' and '.'")
    if not message.strip():
        raise SmsopsError("the commit needs a message", hint="say what changed and why, for the reviewers")
    repo: Repository = open_repository(config_dir)
    wanted = [str(Path(repo.config) / file) for file in sorted(set(files))]
    tracked = set(repo.run("ls-files", "-z", "--", *wanted).split("\0")) if wanted else set()
    paths = [path for path in wanted if (repo.top / path).exists() or path in tracked]
    if not paths:
        raise SmsopsError("nothing to commit: the console has saved no file yet", hint="save a change first")
    if repo.run("branch", "--list", branch).strip():
        raise SmsopsError(f"a branch named {branch!r} exists already", hint="choose another name")
    repo.run("switch", "--quiet", "-c", branch)
    try:
        repo.run("add", "--all", "--", *paths)
        repo.run("commit", "--quiet", "-m", message.strip(), "--", *paths)
    except SmsopsError:
        repo.run("switch", "--quiet", "-")  # the working tree (the saves) goes back along
        repo.run("branch", "--quiet", "-D", branch)
        raise
    return repo.run("rev-parse", "--short", "HEAD").strip()
