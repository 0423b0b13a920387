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


def describe(error: ErrorDetails, model: type[BaseModel]) -> FieldProblem:
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    value = error.get("input")
    is_key = bool(error["loc"]) and error["loc"][-1] == "[key]"
    path: Path = tuple(part for part in error["loc"] if part != "[key]")
    if kind == "smsops_field":
        path += tuple(int(p) if p.isdigit() else p for p in str(ctx["field"]).split("."))
    last = next((part for part in reversed(path) if isinstance(part, str)), "")
    anchor: Anchor = "key" if is_key else "value"

    if kind == "missing":
        parent, name = path[:-1], path[-1]
        where = display_path(parent)
        return FieldProblem(
            parent,
            "key",
            _prefixed(parent, f"missing required field '{name}'"),
            f"add '{name}' under {where}" if where else f"add '{name}' at the top of the document",
        )
    if kind == "extra_forbidden":
        allowed = fields_at(model, path[:-1])
        hint = _closest(path[-1], allowed) + (f"allowed here: {', '.join(allowed)}" if allowed else "")
        return FieldProblem(path, "key", _prefixed(path, "unknown field"), hint)
    if kind in ("enum", "literal_error"):
        options = [option.strip("'") for option in str(ctx.get("expected", "")).replace(" or ", ", ").split(", ")]
        text = f"{show(value)} is not one of {', '.join(options)}"
        hint = _closest(value, options).replace("? ", "?") or "use one of the values listed"
        return FieldProblem(path, anchor, _prefixed(path, text), hint)
    if kind == "string_pattern_mismatch":
        phrase = _VARIABLE_NAME if is_key else _PATTERN_MESSAGES.get(last, f"does not match {ctx.get('pattern')}")
        hint = "rename it, e.g. order_id" if is_key else _PATTERN_HINTS.get(last, "")
        return FieldProblem(path, anchor, _prefixed(path, f"{show(value)} {phrase}"), hint)
    if kind == "string_too_short":
        minimum = ctx.get("min_length", 1)
        text = "must not be empty" if minimum == 1 else f"must be at least {minimum} characters, got {show(value)}"
        return FieldProblem(path, anchor, _prefixed(path, text), f"give {last or 'it'} a value")
    if kind == "string_too_long":
        text = f"must be at most {ctx.get('max_length')} characters, got {len(str(value))}"
        return FieldProblem(path, anchor, _prefixed(path, text), "shorten it")
    if kind == "string_type":
        hint = f'quote it: "{value}"' if isinstance(value, int | float) and not isinstance(value, bool) else ""
        if isinstance(value, bool):
            hint = 'YAML reads yes/no/on/off/true/false as booleans; quote the value, e.g. "NO"'
        return FieldProblem(path, anchor, _prefixed(path, f"expected a string, got {show(value)}"), hint)
    if kind in ("bool_type", "bool_parsing"):
        return FieldProblem(
            path, anchor, _prefixed(path, f"expected true or false, got {show(value)}"), "write true or false"
        )
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return FieldProblem(
            path, anchor, _prefixed(path, f"expected a whole number, got {show(value)}"), "write a number, e.g. 2"
        )
    if kind in ("greater_than_equal", "less_than_equal"):
        bound = ctx.get("ge", ctx.get("le"))
        word = "at least" if kind == "greater_than_equal" else "at most"
        return FieldProblem(
            path, anchor, _prefixed(path, f"must be {word} {bound}, got {show(value)}"), f"use a value {word} {bound}"
        )
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return FieldProblem(
            path,
            anchor,
            _prefixed(path, f"expected a mapping, got {show(value)}"),
            "write it as key: value lines (or {key: value})",
        )
    if kind in ("tuple_type", "list_type"):
        return FieldProblem(
            path,
            anchor,
            _prefixed(path, f"expected a list, got {show(value)}"),
            "write it as [a, b] or as - item lines",
        )
    message = error["msg"].removeprefix("Value error, ")
    return FieldProblem(
        path,
        anchor,
        _prefixed(path, message[:1].lower() + message[1:]),
        "the field's description in schemas/*.json says what it takes",
    )
