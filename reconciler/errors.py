"""One exception tree, split by who must act, plus the Diagnostic every check reports.

- ConfigError: the YAML is wrong. Fix it; never retried.
- SecretsError: a SOPS file or key is missing, wrong or tampered. Fix the key setup; never retried.
- ProviderError: the provider refused or failed. ``kind`` says what kind of failure it was (each
  adapter classifies its provider's codes; core code switches on the kind, never on a code), and
  ``retryable`` whether trying again can help.

Messages are built from structured fields and never contain secret values or phone numbers:
callers pass already-redacted text (see ``reconciler.secrets.redact``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_GATE_FAILED = 3
EXIT_INTERRUPTED = 130


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Diagnostic:
    """A problem found in the config, pinned to ``file:line:column`` (1-based)."""

    file: str
    line: int
    column: int
    rule: str
    message: str
    hint: str = ""
    severity: Severity = Severity.ERROR

    @property
    def location(self) -> str:
        # Line 0: about the file or directory as a whole (e.g. no config files in it), no position.
        return f"{self.file}:{self.line}:{self.column}" if self.line else self.file

    def format(self) -> str:
        from reconciler.render.escape import printable  # one line per part, whatever a file is named

        text = printable(f"{self.location}: {self.severity.value} {self.rule}: {self.message}")
        return f"{text}\n  hint: {printable(self.hint)}" if self.hint else text

    def escalated(self) -> Diagnostic:
        """The same diagnostic as an error (``--strict``)."""
        return Diagnostic(self.file, self.line, self.column, self.rule, self.message, self.hint)


class SmsopsError(Exception):
    """Base of every error smsops reports to the user; never shown with a traceback."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class ConfigError(SmsopsError):
    """The config cannot be used; carries every diagnostic found, not just the first."""

    def __init__(self, message: str, diagnostics: Iterable[Diagnostic] = (), *, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.diagnostics = tuple(diagnostics)


class SecretsError(SmsopsError):
    """A SOPS file could not be decrypted or lacks a key: fix the key setup, do not retry."""

    def __init__(self, message: str, *, file: str = "", hint: str = "") -> None:
        super().__init__(f"{file}: {message}" if file else message, hint=hint)
        self.file = file


class ErrorKind(StrEnum):
    """What a provider failure means for smsops, whatever the provider's own code for it."""

    AUTH_REFUSED = "auth-refused"  # the channel's keys were refused (wrong, expired, bad signature)
    FORBIDDEN = "forbidden"  # the keys are valid but lack a permission
    QUOTA_EXHAUSTED = "quota-exhausted"  # no more of this today (template creations, sends): defer
    SPACING = "spacing"  # template creations closer together than the provider allows
    LIMITED = "limited"  # a per-number send limit: wait, or send to another number
    THROTTLED = "throttled"  # the account's request rate: retry after a pause
    UNAVAILABLE = "unavailable"  # a server or network failure: retry (reads), re-observe (writes)
    NOT_FOUND = "not-found"  # the named resource does not exist
    OTHER = "other"  # anything else: this request is wrong or refused

    @property
    def transient(self) -> bool:
        """Whether the same request may succeed if simply sent again."""
        return self in (ErrorKind.THROTTLED, ErrorKind.UNAVAILABLE)


@dataclass(frozen=True)
class ProviderFailure:
    """Structured fields of a provider error; ``message`` is already redacted.

    ``retryable`` is the kind's ``transient`` unless the request may already have taken effect
    (a write whose answer was lost is never retryable, whatever its kind)."""

    provider: str
    operation: str
    code: str
    message: str
    retryable: bool
    request_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    kind: ErrorKind = ErrorKind.OTHER


class ProviderError(SmsopsError):
    """The provider refused or failed an operation."""

    def __init__(self, failure: ProviderFailure, *, hint: str = "") -> None:
        text = f"{failure.provider} {failure.operation} failed: {failure.code}: {failure.message}"
        if failure.request_id:
            text += f" (request {failure.request_id})"
        super().__init__(text, hint=hint)
        self.failure = failure

    @property
    def retryable(self) -> bool:
        return self.failure.retryable

    @property
    def code(self) -> str:
        return self.failure.code

    @property
    def kind(self) -> ErrorKind:
        return self.failure.kind


class ResponseLost(ProviderError):
    """The request may have taken effect but no answer came (timeout, reset): re-observe before retrying."""


class StalePlan(SmsopsError):
    """A saved plan was computed from a provider state that has changed since."""


# -- which stage failed ------------------------------------------------------------------------------

_STAGE = "smsops_stage"


def mark_stage(error: BaseException, name: str) -> None:
    """Record that ``error`` left stage ``name``, unless an inner stage already did."""
    if not hasattr(error, _STAGE):
        with contextlib.suppress(AttributeError, TypeError):  # an exception type without a __dict__
            setattr(error, _STAGE, name)


def stage_of(error: BaseException) -> str | None:
    """The innermost stage ``error`` left, if any (the CLI names it in 'internal error in <stage>')."""
    found = getattr(error, _STAGE, None)
    return found if isinstance(found, str) else None


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Run a pipeline stage (load, validate, observe, plan, apply, ...): an exception leaving it is
    marked with its name. The mark travels on the exception, so it costs nothing until one escapes."""
    try:
        yield
    except BaseException as error:
        mark_stage(error, name)
        raise
