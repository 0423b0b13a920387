"""SMS4xx: secrets. Plaintext credentials, access keys and phone numbers in config documents;
SOPS references that point nowhere, at plaintext, or at a key the file does not have.

Messages never echo a secret: they name its shape ("a value shaped like an Alibaba AccessKey
ID") or mask it (phone numbers through ``reconciler.secrets.redact.mask_phone``). SOPS files are read as
YAML only (their key names and ``ENC[`` markers are plaintext): no key needed, nothing decrypted.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from reconciler.config.files import read_regular
from reconciler.config.lint.catalogue import Reporter
from reconciler.config.source import decode, not_sops_reason, parse_text
from reconciler.secrets.metadata import plaintext_paths
from reconciler.secrets.redact import mask_phone

ACCESS_KEYS = (
    (re.compile(r"LTAI[A-Za-z0-9]{12,}"), "an Alibaba AccessKey ID"),
    (re.compile(r"AKID[A-Za-z0-9]{13,}"), "a Tencent Cloud SecretId"),
    (re.compile(r"(?<![A-Z0-9])AKIA[0-9A-Z]{16}(?![A-Z0-9])"), "an AWS access key ID"),
)
PHONE = re.compile(r"(?<![\w+])(\+[1-9]\d{7,14}|1[3-9]\d{9})(?!\d)")
# Key names that hold a secret, compared lowercased without '_' and '-'.
SECRET_KEYS = ("secret", "password", "passwd", "token", "apikey", "privatekey", "secretkey", "accesskeysecret")
# In a Channel, spec.credentials.* are names of keys inside the SOPS file, not secrets.
_KEY_NAME_FIELDS = {("spec", "credentials", "accessKeyId"), ("spec", "credentials", "accessKeySecret")}
_KEY_NAME_KEYS = frozenset(path[-1] for path in _KEY_NAME_FIELDS)
LOOKS_RANDOM = re.compile(r"(?=.*\d)(?=.*[a-z])(?=.*[A-Z])[A-Za-z0-9+/=]{16,}")


def check_plaintext(config: Any, out: Reporter) -> None:
    # This walks every scalar of every document on each validate: paths are built only for
    # containers and for the rare suspect scalar, and the cheap tests come first.
    search = SUSPECT.search
    for document in config.documents:
        data = document.data
        if not _may_hold_secret(data):
            continue
        channel = isinstance(data, dict) and data.get("kind") == "Channel"
        if not isinstance(data, dict | list):
            if data is not None and not isinstance(data, bool) and search(str(data)):
                _scalar(document, (), str(data), channel, out)
            continue
        stack: list[tuple[tuple[Any, ...], Any]] = [((), data)]
        while stack:
            path, container = stack.pop()
            items = container.items() if isinstance(container, dict) else enumerate(container)
            for key, item in items:
                if isinstance(item, dict | list):
                    stack.append(((*path, key), item))
                elif item is not None and item is not True and item is not False:
                    text = item if type(item) is str else str(item)
                    if search(text) or (isinstance(key, str) and _secret_key(key)):
                        _scalar(document, (*path, key), text, channel, out)


# Anything that might be an access key or a phone number; _scalar decides precisely.
SUSPECT = re.compile(r"LTAI|AKID|AKIA|\+\d{8}|1[3-9]\d{9}")


# What a key that _secret_key accepts must contain once lowercased without '_' and '-'
# (plain substring tests: faster than one regex alternation here).
_SECRET_WORDS = (*SECRET_KEYS, *(key.lower() for key in _KEY_NAME_KEYS))


def _may_hold_secret(data: Any) -> bool:
    """False only when no scalar of ``data`` is suspect and no key is a secret key: one C-level
    ``repr`` and two searches instead of a Python step per scalar. Sound because ``repr`` writes
    every key and scalar with its letters, digits and '+' as they are (it escapes only quotes,
    backslashes and unprintable characters, none of which the patterns can match), and ints and
    floats as their ``str``; dates never match (no 11-digit run, no '+' and 8 digits)."""
    try:
        flat = repr(data)
    except RecursionError:
        return True
    if SUSPECT.search(flat):
        return True
    normalised = flat.lower().replace("_", "").replace("-", "")
    return any(word in normalised for word in _SECRET_WORDS)


@lru_cache(maxsize=4096)
def _secret_key(key: str) -> bool:
    normalised = key.lower().replace("_", "").replace("-", "")
    return normalised.endswith(SECRET_KEYS) or key in _KEY_NAME_KEYS


def _where(document: Any, path: tuple[Any, ...]) -> tuple[str, int, int]:
    positions = document.positions
    while path and path not in positions:
        path = path[:-1]
    line, column = positions.get(path, (1, 1))
    return document.file, line, column


class _Where:
    """Where a scalar is written, looked up on first use: positions may need a re-parse of the
    file, and most suspect scalars (key names in credentials) are reported nothing about."""

    def __init__(self, document: Any, path: tuple[Any, ...]) -> None:
        self._document, self._path = document, path
        self._where: tuple[str, int, int] | None = None

    def __call__(self) -> tuple[str, int, int]:
        if self._where is None:
            self._where = _where(self._document, self._path)
        return self._where


def _scalar(document: Any, path: tuple[Any, ...], text: str, channel: bool, out: Reporter) -> None:
    where = _Where(document, path)
    field = ".".join(str(part) for part in path)
    for pattern, shape in ACCESS_KEYS:
        if pattern.search(text):
            out.report("SMS402", where(), f"{field} holds a value shaped like {shape}")
            return
    key = str(path[-1]) if path and isinstance(path[-1], str) else ""
    normalised = key.lower().replace("_", "").replace("-", "")
    if channel and path in _KEY_NAME_FIELDS:
        if LOOKS_RANDOM.fullmatch(text):
            out.report(
                "SMS401",
                where(),
                f"{field} should name a key in the SOPS file, but holds a value that looks like a secret",
            )
    elif text and normalised.endswith(SECRET_KEYS):
        out.report("SMS401", where(), f"{field} holds a literal value; credentials must not be in plain YAML")
        return
    for match in PHONE.finditer(text):
        out.report("SMS403", where(), f"{field} contains the phone number {mask_phone(match.group(1))}")


def check_sops(config: Any, out: Reporter) -> None:
    files: dict[Path, _SopsFile] = {}
    for located in config.channels:
        spec = located.resource.spec
        refs: list[tuple[str, tuple[str, ...], list[tuple[str, tuple[str, ...]]]]] = []
        if spec.credentials is not None:
            creds = spec.credentials
            refs.append(
                (
                    creds.sops,
                    ("spec", "credentials"),
                    [
                        (creds.access_key_id, ("spec", "credentials", "accessKeyId")),
                        (creds.access_key_secret, ("spec", "credentials", "accessKeySecret")),
                    ],
                )
            )
        if spec.test_send is not None:
            ref = spec.test_send.recipients
            refs.append(
                (ref.sops, ("spec", "testSend", "recipients"), [(ref.key, ("spec", "testSend", "recipients", "key"))])
            )
        for relative, field, keys in refs:
            path = located.resolve(relative)
            sops = files.get(path) or files.setdefault(path, _SopsFile.read(path))
            # Positions may cost a re-parse of the file: look them up only to report.
            if sops.problem is not None:
                rule, message = sops.problem
                out.report(rule, located.at(*field, "sops"), f"{relative}: {message}")
                continue
            for key, key_field in keys:
                if sops.keys.get(key):
                    continue
                sops_where = located.at(*field, "sops")
                key_where = located.at(*key_field) if key_field in located.positions else sops_where
                if key not in sops.keys:
                    present = ", ".join(sorted(sops.keys)) or "none"
                    # A "key name" that looks like a secret was reported by SMS401: do not echo it.
                    named = (
                        f"key of the name given in {'.'.join(key_field[1:])}"
                        if LOOKS_RANDOM.fullmatch(key)
                        else f"key '{key}'"
                    )
                    out.report("SMS406", key_where, f"{relative} has no {named} (keys: {present})")
                elif not sops.keys[key]:
                    out.report(
                        "SMS405",
                        key_where,
                        f"{relative}: the value of '{key}' is not encrypted",
                        "encrypt the whole file; check unencrypted_suffix and encrypted_regex in .sops.yaml",
                    )


class _SopsFile:
    """What lint needs from a SOPS file without decrypting it: top-level keys, whether each value
    is encrypted (all ``ENC[`` strings), or why the file is unusable (rule, message)."""

    def __init__(self, keys: dict[str, bool], problem: tuple[str, str] | None = None) -> None:
        self.keys = keys
        self.problem = problem

    @classmethod
    def read(cls, path: Path) -> _SopsFile:
        """Never raises: a missing, special, huge or hostile file is a problem like any other."""
        try:
            os.lstat(path)
        except FileNotFoundError:
            return cls({}, ("SMS404", "file not found"))
        except OSError as error:  # a name over 255 bytes, a path through a file
            return cls({}, ("SMS404", f"cannot be read ({error.strerror or 'error'})"))
        raw, unreadable = read_regular(path, str(path))
        if raw is None:
            reason = unreadable.message.removeprefix("cannot read file: ") if unreadable else "unreadable"
            return cls({}, ("SMS404", f"cannot be read ({reason})"))
        text, _ = decode(raw)
        parsed = parse_text(text) if text is not None else None
        if parsed is None or parsed.sops_data is None:
            why = not_sops_reason(parsed) if parsed is not None else "it is not UTF-8 text"
            return cls({}, ("SMS405", f"is not SOPS-encrypted ({why})"))
        clear = {path[0] for path in plaintext_paths(parsed.sops_data)}
        return cls({str(key): key not in clear for key in parsed.sops_data if key != "sops"})
