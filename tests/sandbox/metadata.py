"""Checks a raw answer of an emulator against the response metadata shipped in the official
clients: Alibaba's Tea models, Tencent's ``models.py`` and ``errorcodes.py``, botocore's
``service-2.json``. Each checker returns the problems it found (empty: the answer is as the client's
metadata says): a field the model does not have, a value of the wrong type, a missing required
member, a value outside an enum, an error code the client does not know."""

from __future__ import annotations

import re
import typing
from functools import cache
from typing import Any

import botocore.session
from alibabacloud_dysmsapi20170525 import models as alibaba_models
from botocore.model import ListShape, MapShape, Shape, StructureShape
from tencentcloud.sms.v20210111 import errorcodes as tencent_errorcodes
from tencentcloud.sms.v20210111 import models as tencent_models

# -- Alibaba: Tea models -------------------------------------------------------------------------


class _Probe:
    """Stands in for a field's value, to learn which wire key a model attribute maps to."""

    def to_map(self) -> Any:
        return self

    def validate(self) -> None:
        return None


@cache
def tea_fields(model: type) -> dict[str, Any]:
    """Wire key -> type hint of a Tea model's fields (read from its ``__init__`` and ``to_map``)."""
    hints = typing.get_type_hints(model.__init__, globalns=model.__init__.__globals__)
    fields: dict[str, Any] = {}
    for attribute, hint in hints.items():
        if attribute == "return":
            continue
        instance = model()
        probe = _Probe()
        setattr(instance, attribute, [probe] if typing.get_origin(hint) is list else probe)
        for key, value in instance.to_map().items():
            if value is probe or (isinstance(value, list) and probe in value):
                fields[key] = hint
    return fields


def tea_problems(raw: Any, model: type, where: str = "") -> list[str]:
    if not isinstance(raw, dict):
        return [f"{where or model.__name__}: not an object"]
    fields = tea_fields(model)
    problems = []
    for key, value in raw.items():
        path = f"{where}.{key}" if where else key
        if key not in fields:
            problems.append(f"{path}: not a field of {model.__name__}")
        else:
            problems.extend(_tea_value(value, fields[key], path))
    return problems


def _tea_value(value: Any, hint: Any, path: str) -> list[str]:
    if value is None:
        return []
    origin = typing.get_origin(hint)
    if origin is list:
        if not isinstance(value, list):
            return [f"{path}: {value!r} is not a list"]
        (item,) = typing.get_args(hint)
        return [p for i, v in enumerate(value) for p in _tea_value(v, item, f"{path}[{i}]")]
    if origin is dict or hint in (dict, Any):
        return [] if hint is Any or isinstance(value, dict) else [f"{path}: {value!r} is not an object"]
    if isinstance(hint, type) and hasattr(hint, "from_map"):
        return tea_problems(value, hint, path)
    expected = {str: (str,), int: (int,), bool: (bool,), float: (int, float)}.get(hint)
    if expected is None:
        return [f"{path}: unknown hint {hint!r}"]
    if not isinstance(value, expected) or (hint is int and isinstance(value, bool)):
        return [f"{path}: {value!r} is not {hint.__name__}"]
    return []


ALIBABA_GATEWAY_ERROR_FIELDS = {"RequestId", "HostId", "Code", "Message", "Recommend"}


def alibaba_problems(action: str, status: int, body: Any) -> list[str]:
    """A 200 answer (business success or error) against ``<Action>ResponseBody``; a gateway error
    against the shape the Tea runtime parses ({Code, Message, RequestId, HostId, Recommend})."""
    if status != 200:
        extra = set(body) - ALIBABA_GATEWAY_ERROR_FIELDS
        missing = {"Code", "Message", "RequestId"} - set(body)
        return [f"gateway error fields {sorted(extra)} unknown, {sorted(missing)} missing"] if extra or missing else []
    model = getattr(alibaba_models, f"{action}ResponseBody")
    return tea_problems(body, model)


# -- Tencent: models.py and errorcodes.py ----------------------------------------------------------

# Public error codes every Tencent Cloud API 3.0 service may answer (the common error code list).
TENCENT_COMMON_ERRORS = frozenset({
    "AuthFailure.InvalidSecretId", "AuthFailure.MFAFailure", "AuthFailure.SecretIdNotFound",
    "AuthFailure.SignatureExpire", "AuthFailure.SignatureFailure", "AuthFailure.TokenFailure",
    "AuthFailure.UnauthorizedOperation", "DryRunOperation", "FailedOperation", "InternalError",
    "InvalidAction", "InvalidParameter", "InvalidParameterValue", "InvalidRequest", "IpInBlacklist",
    "IpNotInWhitelist", "LimitExceeded", "MissingParameter", "NoSuchProduct", "NoSuchVersion",
    "RequestLimitExceeded", "RequestSizeLimitExceeded", "ResourceInUse", "ResourceInsufficient",
    "ResourceNotFound", "ResourceUnavailable", "ResponseSizeLimitExceeded", "ServiceUnavailable",
    "UnauthorizedOperation", "UnknownParameter", "UnsupportedOperation", "UnsupportedProtocol",
    "UnsupportedRegion",
})  # fmt: skip
_TYPE = re.compile(r":type (\w+): ([^\n]+)")
_CLASS = re.compile(r":class:`tencentcloud\.sms\.v20210111\.models\.(\w+)`")


def tencent_error_codes() -> frozenset[str]:
    codes = {v for k, v in vars(tencent_errorcodes).items() if k.isupper() and isinstance(v, str)}
    return frozenset(codes) | TENCENT_COMMON_ERRORS


@cache
def tencent_fields(model_name: str) -> dict[str, str]:
    model = getattr(tencent_models, model_name)
    return dict(_TYPE.findall(model.__init__.__doc__ or ""))


def tencent_model_problems(raw: Any, model_name: str, where: str) -> list[str]:
    if not isinstance(raw, dict):
        return [f"{where}: not an object"]
    fields = tencent_fields(model_name)
    problems = []
    for key, value in raw.items():
        path = f"{where}.{key}"
        if key not in fields:
            problems.append(f"{path}: not a field of {model_name}")
        elif value is not None:
            problems.extend(_tencent_value(value, fields[key], path))
    return problems


def _tencent_value(value: Any, declared: str, path: str) -> list[str]:
    if declared.startswith("list of "):
        if not isinstance(value, list):
            return [f"{path}: {value!r} is not a list"]
        item = declared.removeprefix("list of ").split()[0]
        return [p for i, v in enumerate(value) for p in _tencent_value(v, item, f"{path}[{i}]")]
    model = _CLASS.search(declared)
    name = model.group(1) if model else declared
    if hasattr(tencent_models, name):
        return tencent_model_problems(value, name, path)
    expected = {"str": (str,), "int": (int,), "bool": (bool,), "float": (int, float)}.get(name)
    if expected is None:
        return [f"{path}: unknown declared type {declared!r}"]
    if not isinstance(value, expected) or (name == "int" and isinstance(value, bool)):
        return [f"{path}: {value!r} is not {name}"]
    return []


def tencent_problems(action: str, status: int, body: Any) -> list[str]:
    """``{"Response": ...}`` against ``<Action>Response``, or its ``Error`` against the known codes."""
    if status != 200:
        return [f"HTTP {status}: the SDK reads only 200 answers as API answers"]
    response = body.get("Response") if isinstance(body, dict) else None
    if not isinstance(response, dict) or not isinstance(response.get("RequestId"), str):
        return ["no Response object with a RequestId"]
    error = response.get("Error")
    if error is not None:
        if set(response) != {"Error", "RequestId"} or set(error) != {"Code", "Message"}:
            return [f"error answer fields {sorted(response)} / {sorted(error)}"]
        return [] if error["Code"] in tencent_error_codes() else [f"error code {error['Code']} unknown to the SDK"]
    return tencent_model_problems(response, f"{action}Response", "Response")


# -- AWS: botocore service-2.json ------------------------------------------------------------------
AWS_SERVICE = "pinpoint-sms-voice-v2"
# What the AWS front door answers before the service sees a request (not in the service model).
AWS_GATEWAY_ERRORS = frozenset({
    "InvalidSignatureException", "UnrecognizedClientException", "IncompleteSignatureException",
    "MissingAuthenticationTokenException", "UnknownOperationException", "SerializationException",
})  # fmt: skip


@cache
def aws_model() -> Any:
    return botocore.session.get_session().get_service_model(AWS_SERVICE)


def shape_problems(value: Any, shape: Shape, path: str) -> list[str]:
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            return [f"{path}: not an object"]
        problems = [f"{path}.{k}: not a member of {shape.name}" for k in value if k not in shape.members]
        problems += [f"{path}.{k}: required member missing" for k in shape.required_members if k not in value]
        for key, item in value.items():
            if key in shape.members:
                problems += shape_problems(item, shape.members[key], f"{path}.{key}")
        return problems
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        return [p for i, v in enumerate(value) for p in shape_problems(v, shape.member, f"{path}[{i}]")]
    if isinstance(shape, MapShape):
        if not isinstance(value, dict):
            return [f"{path}: not an object"]
        return [p for k, v in value.items() for p in shape_problems(v, shape.value, f"{path}.{k}")]
    return _scalar(value, shape, path)


def _scalar(value: Any, shape: Shape, path: str) -> list[str]:
    kind = shape.type_name
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: {value!r} is not a string"]
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            return [f"{path}: {value!r} is not one of {shape.name}"]
        return []
    if kind in ("integer", "long"):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind in ("float", "double"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind == "boolean":
        ok = isinstance(value, bool)
    elif kind == "timestamp":  # awsJson sends epoch seconds
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    else:
        ok = isinstance(value, str)
    return [] if ok else [f"{path}: {value!r} is not {kind}"]


def aws_problems(operation: str, status: int, body: Any) -> list[str]:
    """A 200 answer against the operation's output shape; an error against its declared errors."""
    op = aws_model().operation_model(operation)
    if status == 200:
        return shape_problems(body, op.output_shape, operation) if op.output_shape is not None else []
    code = body.get("__type", "").rsplit("#", 1)[-1]
    if code in AWS_GATEWAY_ERRORS:
        return [] if set(body) <= {"__type", "message", "Message"} else [f"{code}: fields {sorted(body)}"]
    declared = {shape.name: shape for shape in op.error_shapes}
    if code not in declared:
        return [f"{code} is not an error {operation} declares"]
    members = {k: v for k, v in body.items() if k != "__type"}
    problems = shape_problems(members, declared[code], code)
    expected = declared[code].metadata.get("error", {}).get("httpStatusCode")
    if expected is not None and expected != status:
        problems.append(f"{code}: HTTP {status}, the model says {expected}")
    return problems
