"""The rule catalogue (id -> title, severity, hint) and the reporter every rule writes to.

Ids are stable: users grep for them and docs list them. SMS0xx are the loader's
(``reconciler.config.load``); SMS1xx content and variables; SMS2xx provider limits; SMS3xx references
across resources (SMS305-SMS309 signatures); SMS4xx secrets.

Some limits are enforced by the schema (reconciler.config.models, reported by the loader as
SMS020) and so have no lint rule: signature name 2-12 characters, variable names 1-35 characters,
adopt without a channel when the template goes to several channels. SMS205 and SMS302 stay unused.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.errors import Diagnostic, Severity

E, W = Severity.ERROR, Severity.WARNING


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: Severity
    hint: str


_RULES = (
    # SMS1xx: content and variables (SMS101-107 come from reconciler.content.parse, with their own hints)
    Rule("SMS101", "content is not valid template syntax", E, "write variables as {{ name }}"),
    Rule("SMS102", "filter in content", E, "format the value in the application before sending"),
    Rule("SMS103", "Jinja tag ({% %}) in content", E, "make one template per variant"),
    Rule("SMS104", "Jinja comment ({# #}) in content", E, "use a YAML comment or spec.remark"),
    Rule("SMS105", "expression other than a plain variable in content", E, "pass the computed value as a variable"),
    Rule("SMS106", "whitespace control in content", E, "write {{ name }} and put spacing in the text"),
    Rule("SMS107", "invalid variable name in content", E, "use 1-35 letters, digits or '_', starting with a letter"),
    Rule("SMS110", "variable used but not declared", E, "declare it under spec.variables with a type and an example"),
    Rule("SMS111", "variable declared but not used", W, "remove it from spec.variables or use it in content"),
    Rule("SMS112", "adjacent variables", E, "put literal text between the variables, or merge them into one"),
    Rule("SMS113", "content is only variables", E, "add the fixed wording to the content; providers reject it"),
    Rule("SMS114", "example longer than maxLength", E, "shorten the example or raise maxLength"),
    Rule(
        "SMS115",
        "verification template needs exactly one code variable",
        E,
        'declare one variable of type code, e.g. code: {type: code, example: "482913", maxLength: 6}',
    ),
    Rule(
        "SMS116",
        "link variable in a verification template",
        E,
        "verification messages may not carry links; move the link to a notification template",
    ),
    Rule(
        "SMS117",
        "literal text looks like a provider placeholder",
        W,
        "reword it: the provider would read ${…} or {1} in the text as a variable",
    ),
    # SMS2xx: provider limits
    Rule(
        "SMS201",
        "template name too long for the provider",
        E,
        "shorten metadata.name; the provider-side name adds an 8-character version suffix",
    ),
    Rule("SMS202", "content too long for the provider", E, "shorten the content"),
    Rule("SMS203", "remark missing", E, "explain in spec.remark where and why the message is sent"),
    Rule("SMS204", "remark too long", E, "shorten spec.remark to at most 100 characters"),
    Rule("SMS206", "verification code example", E, "use a digits-only example of the code's real length"),
    Rule("SMS207", "Tencent international verification must say 'code'", E, "include the word 'code' in the content"),
    Rule("SMS208", "Tencent marketing template without opt-out", E, "end the content with 拒收请回复R"),
    Rule("SMS209", "whole message too long", E, "shorten the content or lower the variables' maxLength"),
    Rule("SMS210", "Tencent verification code longer than 6", E, "set the code variable's maxLength to 6 or less"),
    Rule(
        "SMS211",
        "Tencent value longer than 12",
        W,
        "personal Tencent accounts accept at most 12 characters per value (newer accounts 6)",
    ),
    Rule("SMS212", "AWS sender ID format", E, "use 1-11 characters from A-Z a-z 0-9 _ -, with at least one letter"),
    Rule("SMS213", "link variable on Tencent", E, "Tencent does not allow link variables; put the link in the text"),
    Rule(
        "SMS214",
        "message over the segment budget",
        W,
        "shorten the content or the variables, or raise the channel's maxSegments",
    ),
    Rule("SMS215", "setting has no effect on this provider", W, "remove the setting or target another channel"),
    # SMS3xx: references across resources
    Rule("SMS301", "unknown channel", E, "use the metadata.name of a Channel in this config"),
    Rule(
        "SMS303",
        "enabled channel without templates",
        W,
        "add templates for it, list it in a template's channels, or set enabled: false",
    ),
    Rule(
        "SMS304",
        "test-send template not on this channel",
        E,
        "list templates that go to this channel, or add the channel to the template's channels",
    ),
    Rule("SMS305", "unknown signature", E, "name a Signature document by its metadata.name, or remove managed"),
    Rule(
        "SMS306",
        "signature name differs from the Signature document",
        E,
        "make spec.signature.name the Signature's spec.name: the channel sends with what is registered",
    ),
    Rule(
        "SMS307",
        "Signature has no settings for this provider",
        E,
        "add the block of the channel's provider to the Signature's spec (sandbox channels use alibaba)",
    ),
    Rule("SMS308", "sender ID not requested for the channel's country", E, "add the country to spec.aws.senderIds"),
    Rule("SMS309", "Signature named by no channel", W, "name it in a channel's spec.signature.managed, or delete it"),
    # SMS4xx: secrets
    Rule(
        "SMS401",
        "plaintext credential",
        E,
        "move the value into a SOPS-encrypted file and reference it (credentials.sops)",
    ),
    Rule(
        "SMS402", "access key in plaintext", E, "remove it from git history, rotate the key, and keep it in a SOPS file"
    ),
    Rule(
        "SMS403",
        "phone number in plaintext",
        E,
        "phone numbers belong in SOPS files (testSend.recipients); in examples use a masked value like 138****0000",
    ),
    Rule(
        "SMS404", "SOPS file missing", E, "check the path (relative to this YAML file) or create it with `sops encrypt`"
    ),
    Rule("SMS405", "SOPS file not encrypted", E, "encrypt it in place: sops encrypt --in-place FILE"),
    Rule("SMS406", "key missing from SOPS file", E, "add the key with `sops edit FILE` or fix the key name here"),
    Rule(
        "SMS407",
        "path outside the config directory",
        E,
        "keep SOPS files and publish.file inside the config directory, or set spec.allowOutside: true on the channel",
    ),
    Rule("SMS408", "publish.file is not a regular file", E, "point spec.publish.file at a regular file (or a new one)"),
    Rule(
        "SMS409",
        "signature file missing, not a regular file or not encrypted",
        E,
        "encrypt the image or document with `sops encrypt FILE > FILE.enc`, commit only the .enc file, and "
        "refer to it relative to this YAML file",
    ),
    Rule(
        "SMS410",
        "signature file in plaintext beside its encrypted copy",
        W,
        "delete the plaintext file (smsops reads only the .enc copy), or keep it out of git with the .gitignore "
        "of the team guide; if it was ever committed, remove it from git history",
    ),
)

RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}


class Reporter:
    """Collects diagnostics; drops exact duplicates (the same template checked for two channels of
    the same provider says the same thing once)."""

    def __init__(self) -> None:
        self._seen: dict[Diagnostic, None] = {}

    def report(
        self, rule: str, where: tuple[str, int, int], message: str, hint: str | None = None, *, warn: bool = False
    ) -> None:
        """``warn``: this occurrence is a warning although the rule is an error (it was allowed)."""
        entry = RULES[rule]
        file, line, column = where
        severity = Severity.WARNING if warn else entry.severity
        diagnostic = Diagnostic(file, line, column, rule, message, entry.hint if hint is None else hint, severity)
        self._seen.setdefault(diagnostic)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return list(self._seen)
