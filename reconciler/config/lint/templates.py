"""SMS1xx (content and variables) and SMS2xx (provider limits) for templates and channels.

Provider limits come from ../shared/reference/providers.md: Alibaba (and the sandbox, which speaks
its API) TemplateName <=30, TemplateContent <=500, Remark <=100, SignName 2-12, code 4-6; Tencent
positional variables, marketing ends 拒收请回复R, whole SMS <=500 with sign and values, code <=6,
personal accounts <=12 per value; AWS SenderId 1-11 ``[A-Za-z0-9_-]`` with a letter, MessageBody
<=1600.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reconciler.config.lint.catalogue import Reporter
from reconciler.config.lint.where import Sources, in_content
from reconciler.content.identity import SUFFIX_LENGTH
from reconciler.content.parse import (
    TAIL_OPT_OUT,
    ParsedContent,
    Var,
    count_segments,
    message_text,
    parse_content,
    render,
    to_alibaba,
)

ALIBABA_NAME_MAX = 30
ALIBABA_CONTENT_MAX = 500
REMARK_MAX = 100
TENCENT_MESSAGE_MAX = 500
TENCENT_CODE_MAX = 6
TENCENT_PERSONAL_VALUE_MAX = 12
AWS_BODY_MAX = 1600
_AWS_SENDER_ID = re.compile(r"[A-Za-z0-9_-]{1,11}")
_PLACEHOLDER = re.compile(r"\$\{|\{\d+\}")
_FAMILY = {"alibaba": "alibaba", "sandbox": "alibaba", "tencent": "tencent", "aws": "aws"}
_SHOWN = {"alibaba": "Alibaba", "tencent": "Tencent", "aws": "AWS"}


def check_channels(config: Any, out: Reporter) -> None:
    for located in config.channels:
        spec = located.resource.spec
        name = spec.signature.name
        where = located.at("spec", "signature", "name")
        valid = _AWS_SENDER_ID.fullmatch(name) and any(char.isalpha() for char in name)
        if spec.provider.value == "aws" and not valid:
            out.report(
                "SMS212",
                where,
                f"sender ID {name!r} is not valid on AWS: 1-11 characters A-Z a-z 0-9 _ -, at least one letter",
            )


def check_templates(config: Any, out: Reporter, sources: Sources) -> None:
    channels = {located.resource.name: located for located in config.channels}
    for located in config.templates:
        template = located.resource
        parsed = parse_content(template.spec.content)
        _content(located, parsed, out, sources)
        _variables(located, parsed, out, sources)
        if not parsed.ok:
            continue  # provider forms and lengths of broken content mean nothing
        targets = [channels[name] for name in (template.spec.channels or channels) if name in channels]
        families = {_FAMILY[target.resource.spec.provider] for target in targets}
        for family in sorted(families):
            {"alibaba": _alibaba, "tencent": _tencent, "aws": _aws}[family](located, parsed, out, sources)
        values = longest_values(template.spec.variables)
        if any(name not in values for name in parsed.variables):
            continue  # undeclared variables are reported already; their length is unknown
        body = render(parsed, values)  # the same for every target: computed once
        for target in targets:
            _segments(located, body, target, out)


def _content(located: Any, parsed: ParsedContent, out: Reporter, sources: Sources) -> None:
    for problem in parsed.problems:
        out.report(
            problem.rule, in_content(located, problem.line, problem.column, sources), problem.message, problem.hint
        )
    if not parsed.ok:
        return
    previous: Any = None
    for part in parsed.parts:
        if isinstance(part, Var) and isinstance(previous, Var):
            out.report(
                "SMS112",
                in_content(located, part.line, part.column, sources),
                f"variables '{previous.name}' and '{part.name}' are adjacent; providers reject "
                "templates with no text between variables",
            )
        previous = part
    if parsed.variables and not parsed.literal_text.strip():
        out.report(
            "SMS113",
            located.at("spec", "content"),
            "content is only variables; providers reject templates without fixed text",
        )
    match = _PLACEHOLDER.search(parsed.literal_text)
    if match:
        out.report(
            "SMS117",
            located.at("spec", "content"),
            f"the text contains {match.group()!r}, which Alibaba or Tencent would read as a variable",
        )


def _variables(located: Any, parsed: ParsedContent, out: Reporter, sources: Sources) -> None:
    spec = located.resource.spec
    declared = spec.variables
    for name in parsed.variables:
        if name not in declared:
            var = next(var for var in parsed.occurrences() if var.name == name)
            out.report(
                "SMS110",
                in_content(located, var.line, var.column, sources),
                f"variable '{name}' is used in content but not declared in spec.variables",
            )
    if parsed.ok:
        for name in declared:
            if name not in parsed.variables:
                out.report(
                    "SMS111",
                    located.at("spec", "variables", name),
                    f"variable '{name}' is declared but not used in content",
                )
    for name, variable in declared.items():
        if variable.max_length is not None and len(variable.example) > variable.max_length:
            out.report(
                "SMS114",
                located.at("spec", "variables", name, "example"),
                f"example of '{name}' is {len(variable.example)} characters; maxLength is {variable.max_length}",
            )
    kind = spec.type
    if kind == "verification":
        codes = [name for name, variable in declared.items() if variable.type == "code"]
        if len(codes) != 1:
            found = "none" if not codes else f"{len(codes)} ({', '.join(codes)})"
            out.report(
                "SMS115",
                located.at("spec", "variables") if codes else located.at("spec", "type"),
                f"a verification template needs exactly one variable of type code; found {found}",
            )
        for name, variable in declared.items():
            if variable.type == "link":
                out.report(
                    "SMS116",
                    located.at("spec", "variables", name, "type"),
                    f"variable '{name}' is a link; verification templates may not carry links",
                )


def _remark(located: Any, family: str, out: Reporter) -> None:
    remark = located.resource.spec.remark
    shown = _SHOWN[family]
    if not remark.strip():
        out.report(
            "SMS203",
            located.at("spec", "remark"),
            f"spec.remark is empty; {shown} reviewers require an explanation of the template",
        )
    elif len(remark) > REMARK_MAX:
        out.report(
            "SMS204",
            located.at("spec", "remark"),
            f"spec.remark is {len(remark)} characters; {shown} allows at most {REMARK_MAX}",
        )


def _code_example(located: Any, family: str, out: Reporter) -> None:
    low = 4 if family == "alibaba" else 1
    for name, variable in located.resource.spec.variables.items():
        if variable.type != "code":
            continue
        example = variable.example
        if not (example.isascii() and example.isdigit() and low <= len(example) <= 6):
            wanted = "4-6 digits" if family == "alibaba" else "at most 6 digits"
            out.report(
                "SMS206",
                located.at("spec", "variables", name, "example"),
                f"example of code variable '{name}' must be {wanted} for {_SHOWN[family]}; "
                f"got {len(example)} characters{'' if example.isdigit() else ', not all digits'}",
            )


def _alibaba(located: Any, parsed: ParsedContent, out: Reporter, sources: Sources) -> None:
    template = located.resource
    provider_name = len(template.name) + SUFFIX_LENGTH
    if provider_name > ALIBABA_NAME_MAX:
        out.report(
            "SMS201",
            located.at("metadata", "name"),
            f"name '{template.name}' is {len(template.name)} characters; with the {SUFFIX_LENGTH}-character "
            f"version suffix the Alibaba template name would be {provider_name} (at most {ALIBABA_NAME_MAX})",
            f"shorten metadata.name to at most {ALIBABA_NAME_MAX - SUFFIX_LENGTH} characters",
        )
    native = to_alibaba(parsed)
    if len(native) > ALIBABA_CONTENT_MAX:
        out.report(
            "SMS202",
            located.at("spec", "content"),
            f"content is {len(native)} characters in Alibaba form; Alibaba allows at most {ALIBABA_CONTENT_MAX}",
        )
    _remark(located, "alibaba", out)
    if template.spec.type == "verification":
        _code_example(located, "alibaba", out)


def _tencent(located: Any, parsed: ParsedContent, out: Reporter, sources: Sources) -> None:
    spec = located.resource.spec
    _remark(located, "tencent", out)
    kind = spec.type
    if kind == "verification":
        _code_example(located, "tencent", out)
        if spec.international and "code" not in parsed.literal_text.lower():
            out.report(
                "SMS207",
                located.at("spec", "content"),
                "Tencent requires international verification content to contain the word 'code'",
            )
    if kind == "marketing" and not spec.content.rstrip().endswith(TAIL_OPT_OUT):
        out.report(
            "SMS208",
            located.at("spec", "content"),
            f"Tencent marketing content must end with {TAIL_OPT_OUT} (the opt-out notice)",
        )
    for name, variable in spec.variables.items():
        longest = variable.max_length or len(variable.example)
        if variable.type == "link":
            out.report(
                "SMS213",
                located.at("spec", "variables", name, "type"),
                f"variable '{name}' is a link; Tencent does not allow link variables",
            )
        if variable.type == "code" and longest > TENCENT_CODE_MAX:
            out.report(
                "SMS210",
                located.at("spec", "variables", name),
                f"code variable '{name}' may be {longest} characters; Tencent allows at most {TENCENT_CODE_MAX}",
            )
        elif longest > TENCENT_PERSONAL_VALUE_MAX:
            out.report(
                "SMS211",
                located.at("spec", "variables", name),
                f"variable '{name}' may be {longest} characters; Tencent personal accounts allow "
                f"at most {TENCENT_PERSONAL_VALUE_MAX} per value",
            )


def _aws(located: Any, parsed: ParsedContent, out: Reporter, sources: Sources) -> None:
    spec = located.resource.spec
    body = render(parsed, longest_values(spec.variables))
    if len(body) > AWS_BODY_MAX:
        out.report(
            "SMS209",
            located.at("spec", "content"),
            f"the message is {len(body)} characters with each variable at its maxLength (else its "
            f"example); AWS allows at most {AWS_BODY_MAX}",
        )
    if spec.international:
        out.report(
            "SMS215",
            located.at("spec", "international"),
            "international has no effect on AWS: the destination number decides the country",
        )


def longest_values(variables: Mapping[str, Any]) -> dict[str, str]:
    """Each variable's example, repeated out to its maxLength: the longest message the application
    can send, written in the example's alphabet (which decides GSM-7 or UCS-2)."""
    values = {}
    for name, variable in variables.items():
        example = variable.example
        size = max(variable.max_length or 0, len(example))
        values[name] = (example * (size // len(example) + 1))[:size]
    return values


def _segments(located: Any, body: str, channel: Any, out: Reporter) -> None:
    """``body``: the content with every variable at its longest value."""
    spec = channel.resource.spec
    provider = spec.provider.value
    signature = spec.signature.name
    if provider == "tencent":
        whole = message_text(body, signature, provider)
        if len(whole) > TENCENT_MESSAGE_MAX:
            out.report(
                "SMS209",
                located.at("spec", "content"),
                f"the message is {len(whole)} characters with the signature 【{signature}】 and each "
                f"variable at its maxLength (else its example); Tencent allows at most "
                f"{TENCENT_MESSAGE_MAX}",
            )
    info = count_segments(body, signature, provider=provider)
    if info.segments > spec.max_segments:
        with_sign = f"with the signature 【{signature}】 " if provider != "aws" else ""
        out.report(
            "SMS214",
            located.at("spec", "content"),
            f"the message {with_sign}is {info.characters} characters ({info.encoding}) with each variable "
            f"at its maxLength (else its example): {info.segments} segments, but channel "
            f"'{channel.resource.name}' allows maxSegments {spec.max_segments}",
        )
