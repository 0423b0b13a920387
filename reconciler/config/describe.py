"""Pydantic validation errors rewritten for people who edit YAML.

``describe(error, model)`` turns one ``ErrorDetails`` into a ``FieldProblem``: the field path (YAML key
names, the path the loader looks positions up by), which mark to point at, the message and a hint.
Messages start with the dotted field path, e.g.
``spec.provider: 'twilio' is not one of alibaba, tencent, aws, sandbox``.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel
from pydantic_core import ErrorDetails

Path = tuple[str | int, ...]
Anchor = Literal["value", "key"]

_DNS = "is not a DNS label (lowercase letters, digits and '-', starting with a letter, at most 63 characters)"
# Pattern mismatches, by the YAML key the pattern sits on; each completes "<value> ...".
_PATTERN_MESSAGES = {
    "name": _DNS,
    "channels": _DNS,
    "templates": _DNS,
    "channel": _DNS,
    "endpoint": "is not an http:// or https:// URL",
    "smsSdkAppId": "is not all digits",
    "country": "is not a two-letter ISO 3166 country code in capitals (e.g. US)",
    "ssmPrefix": "is not an SSM parameter path starting with / (e.g. /smsops/production)",
    "bucket": "is not an S3 bucket name (3-63 lowercase letters, digits, '.' and '-')",
    "prefix": "is not an object key folder (letters, digits, '.', '_', '-', separated by single /)",
}
_PATTERN_HINTS = {
    "name": "rename it, e.g. login-code",
    "channels": "name a Channel by its metadata.name",
    "templates": "name a Template by its metadata.name",
    "channel": "name a Channel by its metadata.name",
    "endpoint": "write the base URL, e.g. https://dysmsapi.aliyuncs.com, or leave it out for the default",
    "smsSdkAppId": 'quote the SmsSdkAppId from the Tencent console, e.g. "1400000000"',
    "country": "e.g. US, GB, DE",
    "ssmPrefix": "e.g. /smsops/production",
    "bucket": "the bucket's name only, e.g. onepro-sms-runtime (the address goes in endpoint)",
    "prefix": "e.g. smsops/production, without a leading /",
}
_VARIABLE_NAME = "is not a valid variable name (a letter, then letters, digits or _; at most 35 characters)"


@dataclass(frozen=True)
class FieldProblem:
    path: Path
    anchor: Anchor
    message: str
    hint: str


def display_path(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def show(value: Any) -> str:
    """A short YAML-flavoured rendering of an input value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _closest(word: object, options: list[str]) -> str:
    found = difflib.get_close_matches(str(word), options, n=1, cutoff=0.75)
    return f"did you mean '{found[0]}'? " if found else ""


def _candidates(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    return [annotation]


def _step(annotation: Any, part: str | int) -> Any:
    for candidate in _candidates(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            for name, field in candidate.model_fields.items():
                if (field.alias or name) == part:
                    return field.annotation
        origin = typing.get_origin(candidate)
        if origin is dict:
            return typing.get_args(candidate)[1]
        if origin in (tuple, list) and isinstance(part, int):
            return typing.get_args(candidate)[0]
    return None


def fields_at(model: type[BaseModel], path: Path) -> list[str]:
    """YAML keys accepted by the mapping at ``path`` below ``model`` (empty if it is not a model)."""
    annotation: Any = model
    for part in path:
        annotation = _step(annotation, part)
        if annotation is None:
            return []
    for candidate in _candidates(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return [field.alias or name for name, field in candidate.model_fields.items()]
    return []


def _prefixed(path: Path, text: str) -> str:
    shown = display_path(path)
    return f"{shown}: {text}" if shown else text


@dataclass(frozen=True)
class _Error:
    """One pydantic error in the terms of the YAML: the key path, and where the mark goes."""

    kind: str
    path: Path
    anchor: Anchor
    value: Any
    ctx: dict[str, Any]
    last: str  # the nearest YAML key at or above the error (list indexes skipped)
    is_key: bool  # the error is about a mapping key (e.g. a variable name), not its value
    msg: str

    def problem(self, text: str, hint: str) -> FieldProblem:
        return FieldProblem(self.path, self.anchor, _prefixed(self.path, text), hint)


def _parse(error: ErrorDetails) -> _Error:
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    is_key = bool(error["loc"]) and error["loc"][-1] == "[key]"
    path: Path = tuple(part for part in error["loc"] if part != "[key]")
    if kind == "smsops_field":  # our own validators name the offending field below the model's location
        path += tuple(int(p) if p.isdigit() else p for p in str(ctx["field"]).split("."))
    last = next((part for part in reversed(path) if isinstance(part, str)), "")
    anchor: Anchor = "key" if is_key else "value"
    return _Error(kind, path, anchor, error.get("input"), ctx, last, is_key, error["msg"])


def describe(error: ErrorDetails, model: type[BaseModel]) -> FieldProblem:
    found = _parse(error)
    if found.kind == "extra_forbidden":
        return _unknown_field(found, model)
    if found.kind in _EXPECTED:
        what, hint = _EXPECTED[found.kind]
        return found.problem(f"expected {what}, got {show(found.value)}", hint)
    return _DESCRIBERS.get(found.kind, _other)(found)


def _missing(error: _Error) -> FieldProblem:
    parent, name = error.path[:-1], error.path[-1]
    where = display_path(parent)
    return FieldProblem(
        parent,
        "key",
        _prefixed(parent, f"missing required field '{name}'"),
        f"add '{name}' under {where}" if where else f"add '{name}' at the top of the document",
    )


def _unknown_field(error: _Error, model: type[BaseModel]) -> FieldProblem:
    path = error.path
    allowed = fields_at(model, path[:-1])
    hint = _closest(path[-1], allowed) + (f"allowed here: {', '.join(allowed)}" if allowed else "")
    return FieldProblem(path, "key", _prefixed(path, "unknown field"), hint)


def _not_one_of(error: _Error) -> FieldProblem:
    options = [option.strip("'") for option in str(error.ctx.get("expected", "")).replace(" or ", ", ").split(", ")]
    hint = _closest(error.value, options).replace("? ", "?") or "use one of the values listed"
    return error.problem(f"{show(error.value)} is not one of {', '.join(options)}", hint)


def _pattern(error: _Error) -> FieldProblem:
    if error.is_key:
        return error.problem(f"{show(error.value)} {_VARIABLE_NAME}", "rename it, e.g. order_id")
    phrase = _PATTERN_MESSAGES.get(error.last, f"does not match {error.ctx.get('pattern')}")
    return error.problem(f"{show(error.value)} {phrase}", _PATTERN_HINTS.get(error.last, ""))


def _too_short(error: _Error) -> FieldProblem:
    minimum = error.ctx.get("min_length", 1)
    text = "must not be empty" if minimum == 1 else f"must be at least {minimum} characters, got {show(error.value)}"
    return error.problem(text, f"give {error.last or 'it'} a value")


def _too_long(error: _Error) -> FieldProblem:
    return error.problem(
        f"must be at most {error.ctx.get('max_length')} characters, got {len(str(error.value))}", "shorten it"
    )


def _not_a_string(error: _Error) -> FieldProblem:
    value = error.value
    hint = f'quote it: "{value}"' if isinstance(value, int | float) and not isinstance(value, bool) else ""
    if isinstance(value, bool):
        hint = 'YAML reads yes/no/on/off/true/false as booleans; quote the value, e.g. "NO"'
    return error.problem(f"expected a string, got {show(value)}", hint)


def _out_of_bounds(error: _Error) -> FieldProblem:
    bound = error.ctx.get("ge", error.ctx.get("le"))
    word = "at least" if error.kind == "greater_than_equal" else "at most"
    return error.problem(f"must be {word} {bound}, got {show(error.value)}", f"use a value {word} {bound}")


def _other(error: _Error) -> FieldProblem:
    message = error.msg.removeprefix("Value error, ")
    return error.problem(
        message[:1].lower() + message[1:], "the field's description in schemas/*.json says what it takes"
    )


def _no_channels(error: _Error) -> FieldProblem:
    return error.problem(error.msg, "name the channels, or remove the field to send the template to every channel")


_DESCRIBERS: dict[str, Callable[[_Error], FieldProblem]] = {
    "smsops_empty_channels": _no_channels,
    "missing": _missing,
    "enum": _not_one_of,
    "literal_error": _not_one_of,
    "string_pattern_mismatch": _pattern,
    "string_too_short": _too_short,
    "string_too_long": _too_long,
    "string_type": _not_a_string,
    "greater_than_equal": _out_of_bounds,
    "less_than_equal": _out_of_bounds,
}
# Wrong-type errors: what the field expects ("expected <what>, got <value>") and how to write it.
_BOOLEAN = ("true or false", "write true or false")
_WHOLE_NUMBER = ("a whole number", "write a number, e.g. 2")
_MAPPING = ("a mapping", "write it as key: value lines (or {key: value})")
_LIST = ("a list", "write it as [a, b] or as - item lines")
_EXPECTED = {
    "bool_type": _BOOLEAN,
    "bool_parsing": _BOOLEAN,
    "int_type": _WHOLE_NUMBER,
    "int_parsing": _WHOLE_NUMBER,
    "int_from_float": _WHOLE_NUMBER,
    "dict_type": _MAPPING,
    "model_type": _MAPPING,
    "model_attributes_type": _MAPPING,
    "tuple_type": _LIST,
    "list_type": _LIST,
}
