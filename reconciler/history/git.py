"""The git side of ``smsops history``: find the repository, list the commits that touched the config
directory with the files each changed, and read a file's content at a commit.

Only plumbing-stable output is parsed (``-z``, explicit ``--format``), so user settings such as
``log.showSignature``, ``core.quotePath`` or a pager cannot change what we read. The walk follows
the first parent with merges diffed against it: a merged pull request is one step of ``main``'s
history, which is what an auditor reviews, and each step's state is well defined.

A move of the config directory itself (``config/`` renamed ``sms-config/``, or the top of the
repository moved into a directory) keeps its history: git filters paths before it detects renames,
so such moves are found in the whole tree, and the commits before one are read at the old paths
(``FileChange.source``) and shown at the config's path. A file moved in from elsewhere is not
followed: it was not part of the config before.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from reconciler.errors import SmsopsError
from reconciler.secrets.environment import git_environment

# Separates commits in ``git log -z`` output; no commit message contains the ASCII record separator.
_MARK = "\x1esmsops-commit"
_FORMAT = f"{_MARK}%x1f%H%x1f%h%x1f%an%x1f%ae%x1f%aI%x1f%s%x1f"
_PR = (re.compile(r"^Merge pull request #(\d+)\b"), re.compile(r"\(#(\d+)\)\s*$"), re.compile(r"\(#(\d+)\)"))


@dataclass(frozen=True)
class FileChange:
    """One ``--name-status`` entry; ``old_path`` is set for renames and copies. Paths are repo-relative,
    as the file is named in the config directory; ``source`` is its path at the commit, when not that."""

    status: str
    path: str
    old_path: str | None = None
    source: str | None = None

    @property
    def stored(self) -> str:
        """Where git holds the content at this commit."""
        return self.source or self.path


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    short: str
    author: str
    email: str
    date: str
    subject: str
    changes: tuple[FileChange, ...]

    @property
    def pr(self) -> int | None:
        """``Merge pull request #12 ...`` (merge commits) or ``... (#12)`` (squash merges)."""
        for pattern in _PR:
            found = pattern.search(self.subject)
            if found:
                return int(found.group(1))
        return None


@dataclass(frozen=True)
class Repository:
    """A git work tree and a path inside it (``config``, repo-relative, ``.`` for the top)."""

    top: Path
    config: str
    environ: Mapping[str, str]

    def run(self, *args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(self.top), *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=git_environment(self.environ),
            check=False,
        )
        if done.returncode != 0:
            raise SmsopsError(
                f"git {args[0]} failed in {self.top}: {done.stderr.strip() or f'exit code {done.returncode}'}",
                hint="check that the repository is intact (git status, git fsck)",
            )
        return done.stdout

    def has_commits(self) -> bool:
        done = subprocess.run(
            ["git", "-C", str(self.top), "rev-parse", "--verify", "--quiet", "HEAD"],
            capture_output=True,
            env=git_environment(self.environ),
            check=False,
        )
        return done.returncode == 0

    def commits(self) -> list[CommitInfo]:
        """Commits of HEAD's first-parent line that changed ``config``, oldest first, followed back
        across renames of the config directory itself."""
        if not self.has_commits():
            return []
        moves = self._directory_moves()
        earlier = [root or "." for root in moves.values()]
        output = self.run(
            "log", "-z", "--first-parent", "--diff-merges=first-parent", "-M", "--name-status", "--no-color",
            "--no-show-signature", "--reverse", f"--format={_FORMAT}", "--", self.config, *earlier,
        )  # fmt: skip
        commits = list(_parse_log(output))
        roots = [self.config]  # the names the config directory had, from the newest commit back to this one
        for index in reversed(range(len(commits))):
            if commits[index].sha in moves:
                roots.append(moves[commits[index].sha])
            if len(roots) > 1:
                commits[index] = _renamed(commits[index], self.config, roots[1:])
        return commits

    def _directory_moves(self) -> dict[str, str]:
        """Commits (sha) that moved the whole config directory to where it is named afterwards, and
        its name before (``""``: the top of the repository). A file moved in from elsewhere is not
        one: it was not part of the config before."""
        if self.config == ".":
            return {}
        output = self.run(
            "log", "-z", "--first-parent", "--diff-merges=first-parent", "-M", "--name-status", "--diff-filter=R",
            "--no-color", "--no-show-signature", f"--format={_FORMAT}",
        )  # fmt: skip
        moves: dict[str, str] = {}
        root = self.config
        for commit in _parse_log(output):  # newest first
            pairs = [(c.old_path, c.path) for c in commit.changes if c.old_path and c.path.startswith(root + "/")]
            before = {_old_root(old, new.removeprefix(root + "/")) for old, new in pairs}
            if len(before) != 1 or None in before:
                continue
            (old_root,) = before
            assert old_root is not None
            listed = self.run("ls-tree", "-r", "-z", "--name-only", f"{commit.sha}^", "--", old_root or ".")
            config_files = {path for path in listed.split("\0") if config_file(path.removeprefix(old_root + "/"))}
            if old_root != root and config_files and config_files <= {old for old, _ in pairs}:
                moves[commit.sha] = old_root
                root = old_root
        return moves

    def blobs(self) -> BlobReader:
        return BlobReader(self.top, self.environ)


def _parse_log(output: str) -> Iterator[CommitInfo]:
    tokens = output.split("\0")
    header: list[str] | None = None
    changes: list[FileChange] = []
    position = 0
    while position < len(tokens):
        token = tokens[position]
        position += 1
        if token.startswith(_MARK):
            if header is not None:
                yield _commit(header, changes)
            header, changes = token.split("\x1f")[1:7], []
            continue
        status = token.strip()
        if not status:
            continue
        if status[0] in "RC":
            changes.append(FileChange(status[0], tokens[position + 1], tokens[position]))
            position += 2
        else:
            changes.append(FileChange(status[0], tokens[position]))
            position += 1
    if header is not None:
        yield _commit(header, changes)


def _old_root(old: str, relative: str) -> str | None:
    """The directory ``old`` lies in with the same ``relative`` path; None if it does not."""
    if old == relative:
        return ""
    return old.removesuffix("/" + relative) if old.endswith("/" + relative) else None


def config_file(relative: str) -> bool:
    """What the loader reads: .yaml/.yml files outside hidden directories (and not .sops.yaml)."""
    parts = relative.split("/")
    return (
        parts[-1].endswith((".yaml", ".yml"))
        and parts[-1] != ".sops.yaml"
        and not any(part.startswith(".") for part in parts[:-1])
    )


def _renamed(commit: CommitInfo, config: str, roots: list[str]) -> CommitInfo:
    """``commit`` with paths under an earlier name of the config directory named as they are now."""

    def now(path: str) -> str:
        if path.startswith(config + "/"):
            return path
        for root in sorted(roots, key=lambda r: r == ""):  # the top of the repository last
            if root == "" or path.startswith(root + "/"):
                return f"{config}/{path.removeprefix(root + '/') if root else path}"
        return path

    changes = tuple(
        FileChange(
            change.status,
            now(change.path),
            now(change.old_path) if change.old_path else None,
            change.path if now(change.path) != change.path else None,
        )
        for change in commit.changes
    )
    return CommitInfo(commit.sha, commit.short, commit.author, commit.email, commit.date, commit.subject, changes)


def _commit(header: list[str], changes: list[FileChange]) -> CommitInfo:
    sha, short, author, email, date, subject = header[:6]
    return CommitInfo(sha, short, author, email, date, subject, tuple(changes))


class BlobReader:
    """File contents at commits through one ``git cat-file --batch`` process (one process per
    walk instead of one per file version)."""

    def __init__(self, top: Path, environ: Mapping[str, str]) -> None:
        self._process = subprocess.Popen(
            ["git", "-C", str(top), "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=git_environment(environ),
        )

    def read(self, commit: str, path: str) -> bytes | None:
        """The content of ``path`` at ``commit``, or None if it is not a file there."""
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        stdin.write(f"{commit}:{path}\n".encode())
        stdin.flush()
        header = stdout.readline().decode("utf-8", "replace").split()
        if len(header) != 3:  # "<object> missing" or "ambiguous"
            return None
        size = int(header[2])
        data = stdout.read(size)
        stdout.read(1)  # the newline after the content
        return data if header[1] == "blob" else None

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._process.wait()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def open_repository(config_dir: Path | str, *, environ: Mapping[str, str] = os.environ) -> Repository:
    """The work tree holding ``config_dir``. The directory need not exist any more (its history
    does): the nearest existing parent is asked for the repository."""
    wanted = Path(os.path.abspath(config_dir))
    probe = wanted
    while not probe.is_dir():
        probe = probe.parent
    done = subprocess.run(
        ["git", "-C", str(probe), "rev-parse", "--show-toplevel"],
        capture_output=True,
        text=True,
        env=git_environment(environ),
        check=False,
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise SmsopsError(
            f"{config_dir} is not inside a git repository",
            hint="history is read from git: run it on a clone of the config repository",
        )
    top = Path(done.stdout.strip())
    return Repository(top, relative_to_repository(top, config_dir), environ)


def relative_to_repository(top: Path, path: Path | str) -> str:
    """``path`` relative to the work tree ``top``; SmsopsError if it lies outside."""
    # Symbolic links are resolved on both sides, as git does for its own paths.
    absolute = os.path.abspath(path)
    parts: list[str] = []
    probe = absolute
    while not os.path.exists(probe) and os.path.dirname(probe) != probe:
        probe, tail = os.path.split(probe)
        parts.insert(0, tail)
    resolved = os.path.join(os.path.realpath(probe), *parts)
    relative = os.path.relpath(resolved, os.path.realpath(top))
    if relative == ".." or relative.startswith(".." + os.sep) or relative.split(os.sep)[0] == ".git":
        raise SmsopsError(
            f"{path} is outside the git repository at {top}",
            hint="pass a config directory inside the repository's work tree",
        )
    return relative.replace(os.sep, "/")
