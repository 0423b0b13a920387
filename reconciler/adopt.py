"""Adopt templates made outside smsops (in the provider console) into Template documents.

``smsops import`` reads a channel's templates and writes one YAML file per template with an
``adopt`` code. The point is a clean round trip: import, then ``plan`` shows no change. The planner
treats an adopted template as the current version when its observed native content and kind equal
the desired ones (see ``reconciler.reconcile.plan``), so the invariant here is:

    for every ``Imported`` with ``exact`` set, translating ``content`` back for the provider
    (``reconciler.content.translate.native``) gives the observed native content byte for byte, and
    ``type``/``international`` are the observed ones.

Choices, documented for users in the written files and the command's help:
- Logical names come from the provider-side name, slugified to a DNS label of at most 22
  characters (Alibaba's 30-character TemplateName minus smsops' 8-character version suffix).
  Names with nothing ASCII to keep (Chinese names: no transliteration here) become
  ``template-<code>``; clashes get ``-2``, ``-3``…
- Variables: each provider's syntax is read back by its traits (``from_native``). Alibaba
  ``${name}`` keeps its name (``{{ name }}``); a name smsops cannot use is renamed ``varN`` (and the
  round trip is then not exact). Tencent ``{N}`` becomes ``{{ varN }}``.
- Types: a variable whose name contains "code" is a ``code`` (example "123456"), others ``text``
  (example "example"); a verification template with no such variable has its first variable typed
  ``code``, since lint requires exactly one. Types and examples are not what the provider reviews,
  so they never change the fingerprint: edit them freely.
- Rejected and cancelled templates are skipped: there is nothing in use to adopt.

Pure: no I/O except ``schema_reference`` (looks for the repo's schemas directory).
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reconciler.config.models import API_VERSION
from reconciler.content.identity import SUFFIX_LENGTH, parse_provider_name
from reconciler.content.parse import parse_content
from reconciler.content.translate import from_native, native
from reconciler.providers.base import ObservedSignature, ObservedTemplate, ReviewStatus, TemplateKind
from reconciler.reconcile.rollout import LIVE

# Alibaba's TemplateName limit (30) minus the "~fingerprint" suffix smsops adds to new versions.
NAME_BUDGET = 30 - SUFFIX_LENGTH
CODE_EXAMPLE = "123456"
TEXT_EXAMPLE = "example"


@dataclass(frozen=True)
class Imported:
    """One template to write: ``document`` is the YAML data; ``notes`` are for the user."""

    name: str
    code: str
    provider_name: str
    document: dict[str, Any]
    exact: bool
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Skipped:
    code: str
    provider_name: str
    reason: str


@dataclass(frozen=True)
class Adoption:
    imported: tuple[Imported, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    in_git: tuple[str, ...] = ()  # codes already described by a Template in the config


def signature_warning(signature: ObservedSignature | None, expected: str) -> str:
    """Empty when the channel's signature is approved; otherwise what is wrong and what follows.

    Import still writes the templates (they exist at the provider whatever the signature's state):
    plan and apply are what stop on it, so this is a warning, not an error."""
    if signature is None:
        return (
            f"signature '{expected}' does not exist at the provider: templates were imported, but plan and "
            "apply stop until it is created and approved in the provider console"
        )
    if signature.status is not ReviewStatus.APPROVED:
        reason = f" ({signature.reason})" if signature.reason else ""
        return (
            f"signature '{signature.name}' is {signature.status.value}{reason}: templates were imported, but "
            "plan and apply stop until it is approved"
        )
    return ""


def slugify(text: str) -> str:
    """A DNS-label fragment: ASCII letters and digits joined by ``-``, starting with a letter."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return re.sub(r"^[^a-z]+", "", slug)


def _fit(base: str, suffix: str = "") -> str:
    return base[: NAME_BUDGET - len(suffix)].rstrip("-") + suffix


def logical_name(provider_name: str, code: str, taken: Collection[str]) -> str:
    """A unique logical name (not in ``taken``) for a template the provider calls ``provider_name``."""
    base = slugify(provider_name)
    if not base:
        code_slug = re.sub(r"[^a-z0-9]+", "-", code.lower()).strip("-")
        base = f"template-{code_slug}" if len(code_slug) <= NAME_BUDGET - 9 else f"t-{code_slug}"
    name = _fit(base)
    index = 2
    while name in taken:
        name = _fit(base, f"-{index}")
        index += 1
    return name


def _variables(names: tuple[str, ...], kind: TemplateKind) -> dict[str, dict[str, str]]:
    codes = [name for name in names if "code" in name.lower()]
    if kind is TemplateKind.VERIFICATION and not codes and names:
        codes = [names[0]]  # lint wants exactly one code variable in a verification template
    return {
        name: {"type": "code", "example": CODE_EXAMPLE} if name in codes else {"type": "text", "example": TEXT_EXAMPLE}
        for name in names
    }


def placeholder_remark(code: str) -> str:
    return f"TODO: say where and why this is sent (imported from {code})"


def adopt_one(observed: ObservedTemplate, *, name: str, channel: str, provider: str) -> Imported | Skipped:
    """The Template document adopting ``observed`` under ``name``, or why it cannot be written."""
    canonical, names, notes = from_native(observed.content, provider)
    parsed = parse_content(canonical)
    if not parsed.ok:
        problem = parsed.problems[0]
        why = f"its content cannot be written in {{{{ name }}}} syntax ({problem.rule}: {problem.message})"
        return Skipped(observed.code, observed.name, why)
    all_notes = list(notes)
    exact = native(parsed, provider) == observed.content
    if not exact:
        all_notes.append(
            "the content cannot be written so that it translates back to the provider's text exactly "
            "(e.g. positions out of order): plan will propose a new version"
        )
    if observed.kind_inferred:
        all_notes.append(
            "the provider does not report the type; it was guessed from the content. Changing spec.type "
            "makes plan propose a new version"
        )
    remark = observed.remark.strip()
    if not remark:
        remark = placeholder_remark(observed.code)
        all_notes.append("remark is a placeholder: replace it (reviewers read it when a new version is created)")
    spec: dict[str, Any] = {
        "type": observed.kind.value,
        "international": observed.international,
        "content": canonical,
        "variables": _variables(names, observed.kind),
        "remark": remark,
        "channels": [channel],
        "adopt": {"code": observed.code, "channel": channel},
    }
    document = {"apiVersion": API_VERSION, "kind": "Template", "metadata": {"name": name}, "spec": spec}
    return Imported(name, observed.code, observed.name, document, exact, tuple(all_notes))


def _newest_first(template: ObservedTemplate) -> tuple[bool, bool, str, str]:
    created = template.created_at.isoformat() if template.created_at else ""
    return (
        bool(template.tags.get(LIVE)),
        template.status is ReviewStatus.APPROVED,
        template.tags.get(LIVE, "") or created,
        template.code,
    )


def adopt_templates(
    observed: Iterable[ObservedTemplate],
    *,
    channel: str,
    provider: str,
    names_in_git: Collection[str],
    codes_in_git: Collection[str],
    include_managed: bool = False,
) -> Adoption:
    """Decide, for every observed template of ``channel``, whether and how it is imported.

    ``provider`` is the API the channel speaks (``alibaba`` or ``tencent``). Templates whose code is
    adopted in git, or managed ones whose logical name is in git, are already described: left alone.
    Managed templates not in git are imported only with ``include_managed``, one per logical name
    (the live version, else the newest approved, else the newest pending), under their own name.
    """
    imported: list[Imported] = []
    skipped: list[Skipped] = []
    in_git: list[str] = []
    managed: dict[str, list[ObservedTemplate]] = {}
    unmanaged: list[ObservedTemplate] = []
    for template in sorted(observed, key=lambda t: t.code):
        identity = parse_provider_name(template.name)
        if template.code in codes_in_git or (identity is not None and identity.name in names_in_git):
            in_git.append(template.code)
        elif template.status in (ReviewStatus.REJECTED, ReviewStatus.CANCELLED):
            reason = f"{template.status.value} by the provider" if template.status is ReviewStatus.REJECTED else ""
            detail = f": {template.reason}" if template.reason else ""
            skipped.append(Skipped(template.code, template.name, (reason or "review cancelled") + detail))
        elif identity is None:
            unmanaged.append(template)
        elif not include_managed:
            why = f"created by smsops as '{identity.name}', which is not in git; pass --all to import it"
            skipped.append(Skipped(template.code, template.name, why))
        else:
            managed.setdefault(identity.name, []).append(template)

    taken = set(names_in_git) | set(managed)
    for logical, versions in sorted(managed.items()):
        chosen, *older = sorted(versions, key=_newest_first, reverse=True)
        results = [adopt_one(chosen, name=logical, channel=channel, provider=provider)]
        why = f"older version of '{logical}' (imported {chosen.code}); plan retires it once that one is live"
        skipped.extend(Skipped(old.code, old.name, why) for old in older)
        imported.extend(r for r in results if isinstance(r, Imported))
        skipped.extend(r for r in results if isinstance(r, Skipped))
    for template in unmanaged:
        result = adopt_one(
            template, name=logical_name(template.name, template.code, taken), channel=channel, provider=provider
        )
        if isinstance(result, Imported):
            taken.add(result.name)
            imported.append(result)
        else:
            skipped.append(result)
    return Adoption(imported=tuple(imported), skipped=tuple(skipped), in_git=tuple(in_git))


def schema_reference(out_dir: Path) -> str:
    """``$schema`` for files written to ``out_dir``: a relative path to the nearest enclosing
    ``schemas/template.schema.json`` (what ``smsops schema`` writes, and the form the example config
    uses), else "": the schemas are served from no address (their ``$id`` is a URN), so there is
    nothing else a reference could resolve to."""
    start = Path(os.path.abspath(out_dir))
    for parent in (start, *start.parents):
        candidate = parent / "schemas" / "template.schema.json"
        if candidate.is_file():
            return Path(os.path.relpath(candidate, start)).as_posix()
    return ""


def schema_line(schema: str) -> list[str]:
    """The editors' schema comment for ``schema`` (``schema_reference``), none for ""."""
    return [f"# yaml-language-server: $schema={schema}"] if schema else []


def _comment(text: str) -> str:
    return "# " + " ".join(text.split())  # one line: provider names may hold newlines


def render_document(imported: Imported, *, schema: str, channel: str, problems: Iterable[str] = ()) -> str:
    """The YAML file: schema line, where it came from, notes and any lint problems as comments."""
    lines = [
        *schema_line(schema),
        _comment(f"Imported by `smsops import` from channel {channel}: {imported.code} '{imported.provider_name}'."),
        *(_comment(f"NOTE: {note}") for note in imported.notes),
    ]
    problems = list(problems)
    if problems:
        lines.append("# smsops validate rejects this template as imported; fix it before `smsops plan`:")
        lines.extend(_comment(f"- {problem}") for problem in problems)
    # default_flow_style=None: leaf mappings ({type: code, example: '123456'}) stay on one line.
    body = yaml.safe_dump(imported.document, sort_keys=False, allow_unicode=True, default_flow_style=None, width=4096)
    return "\n".join(lines) + "\n" + body
