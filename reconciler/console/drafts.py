"""A template as the editor holds it: form fields -> the YAML document -> the checks of ``validate``.

A draft is checked by loading the config with the draft's file text in place of the file on disk
(``load_config(overlay=...)``) and running the same lint: the rule ids, messages and positions are
exactly what ``smsops validate`` reports once the file is saved. Nothing is written to check.
The preview (the message as a recipient sees it, segments and encoding, each provider's native
form) comes from ``reconciler.content``, as plan's segment counts do.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from reconciler.config.load import LoadedConfig, Located
from reconciler.config.models import API_VERSION, ProviderName, Template
from reconciler.console.yamlfile import edited_text, merge
from reconciler.content.parse import parse_content, render
from reconciler.content.segments import count_segments, message_text
from reconciler.errors import Diagnostic
from reconciler.pipeline import checked_config
from reconciler.providers.traits import traits

SPARE_ROWS = 2  # empty variable rows the form offers (no script needed to add one)


@dataclass(frozen=True)
class Variable:
    name: str
    type: str = "text"
    example: str = ""
    max_length: str = ""


@dataclass(frozen=True)
class TemplateDraft:
    """The editor's fields. ``original`` is the name the template had when the editor opened it
    ("" for a new one); ``digest`` the file's digest then (see ``yamlfile``)."""

    name: str
    type: str = "notification"
    international: bool = False
    content: str = ""
    remark: str = ""
    channels: tuple[str, ...] = ()  # () = every channel
    variables: tuple[Variable, ...] = ()
    original: str = ""
    file: str = ""  # relative to the config root
    digest: str = ""

    def spec(self) -> dict[str, Any]:
        """The document's ``spec`` in YAML spelling; None removes a key the form left empty."""
        variables: dict[str, Any] = {}
        for var in self.variables:
            entry: dict[str, Any] = {"type": var.type, "example": DoubleQuotedScalarString(var.example)}
            if var.max_length.strip():
                entry["maxLength"] = int(var.max_length) if var.max_length.strip().isdigit() else var.max_length
            variables[var.name] = entry
        return {
            "type": self.type,
            "international": True if self.international else None,
            "content": DoubleQuotedScalarString(self.content),  # as the example config writes it
            "variables": variables or None,
            "remark": self.remark or None,
            "channels": list(self.channels) or None,
        }

    def rows(self) -> tuple[Variable, ...]:
        return (*self.variables, *(Variable("") for _ in range(SPARE_ROWS)))


def from_template(located: Located[Template], root: Path, digest: str) -> TemplateDraft:
    template = located.resource
    spec = template.spec
    return TemplateDraft(
        name=template.name,
        type=spec.type.value,
        international=spec.international,
        content=spec.content,
        remark=spec.remark,
        channels=tuple(spec.channels or ()),
        variables=tuple(
            Variable(name, v.type.value, v.example, str(v.max_length or "")) for name, v in spec.variables.items()
        ),
        original=template.name,
        file=os.path.relpath(located.file, root),
        digest=digest,
    )


def from_form(form: Mapping[str, str], lists: Mapping[str, Sequence[str]]) -> TemplateDraft:
    """The draft the editor posted: ``form`` single fields, ``lists`` the repeated ones."""
    names, types = lists.get("var_name", ()), lists.get("var_type", ())
    examples, maxima = lists.get("var_example", ()), lists.get("var_max", ())
    variables = tuple(
        Variable(name.strip(), kind, example, maximum)
        for name, kind, example, maximum in zip(names, types, examples, maxima, strict=False)
        if name.strip()
    )
    return TemplateDraft(
        name=form.get("name", "").strip(),
        type=form.get("type", "notification"),
        international=form.get("international") == "on",
        content=form.get("content", "").replace("\r\n", "\n"),
        remark=form.get("remark", "").strip(),
        channels=tuple(lists.get("channels", ())),
        variables=variables,
        original=form.get("original", ""),
        file=form.get("file", ""),
        digest=form.get("digest", ""),
    )


class OutsideConfig(ValueError):
    """A draft's file that is not a YAML file inside the config directory."""


def draft_file(draft: TemplateDraft, config: LoadedConfig) -> str:
    """Where the draft is saved, relative to the config root: its file, or for a new template
    ``<name>.yaml`` beside the other templates. Both come from the browser (a form field, the
    name typed), so the result is checked to be a YAML file inside the config directory, also once
    links are followed: a save can never write, nor a check read, anywhere else."""
    if draft.file:
        file = draft.file
    else:
        beside = [os.path.dirname(os.path.relpath(t.file, config.root)) for t in config.templates]
        file = os.path.join(beside[0] if beside else "templates", f"{draft.name or 'new-template'}.yaml")
    return inside_config(Path(config.root), file)


def inside_config(root: Path, file: str) -> str:
    """``file`` (relative to ``root``), normalised, if it names a YAML file inside ``root``."""
    relative = Path(os.path.normpath(file)) if file else Path()
    base = root.resolve()
    if (
        not file
        or relative.is_absolute()
        or relative.parts[:1] == ("..",)
        or relative.suffix not in (".yaml", ".yml")
        or not (base / relative).resolve().is_relative_to(base)
    ):
        raise OutsideConfig(f"{file!r} is not a YAML file inside the config directory")
    return relative.as_posix()


def draft_text(draft: TemplateDraft, root: Path, file: str) -> str:
    """The file's text with the draft in it (the template's own document changed, the rest kept)."""

    def change(doc: CommentedMap | None) -> CommentedMap:
        if doc is None:
            doc = CommentedMap(apiVersion=API_VERSION, kind="Template")
            doc["metadata"] = CommentedMap(name=draft.name)
            doc["spec"] = CommentedMap()
        doc["metadata"]["name"] = draft.name
        merge(doc["spec"], draft.spec())
        return doc

    return edited_text(root / file, "Template", draft.original or draft.name, change)


def removed_text(root: Path, file: str, name: str) -> str:
    """The file's text without template ``name`` ("" when nothing else is in it)."""
    return edited_text(root / file, "Template", name, lambda _: None)


@dataclass(frozen=True)
class Check:
    """What ``validate`` says about the draft's file, and the config it was loaded into."""

    text: str
    file: str
    diagnostics: tuple[Diagnostic, ...]
    config: LoadedConfig

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity.value == "error")


def check_draft(config_dir: str, file: str, text: str | None) -> Check:
    """Load the config with ``file`` holding ``text`` (None: removed) and lint it; the diagnostics
    kept are the ones in that file plus any config-wide error the change causes elsewhere."""
    config, diagnostics = checked_config(config_dir, overlay={file: text})
    shown = os.path.normpath(os.path.join(config_dir, file))
    _, before = checked_config(config_dir)
    known = {(d.file, d.rule, d.message) for d in before}
    mine = [d for d in diagnostics if d.file == shown or (d.file, d.rule, d.message) not in known]
    return Check(text or "", shown, tuple(mine), config)


@dataclass(frozen=True)
class Rendering:
    channel: str
    provider: str
    message: str
    encoding: str
    characters: int
    segments: int
    budget: int


@dataclass(frozen=True)
class Preview:
    renderings: tuple[Rendering, ...] = ()
    native: tuple[tuple[str, str], ...] = ()  # (provider display name, content in its syntax)
    problems: tuple[str, ...] = field(default_factory=tuple)


def preview(draft: TemplateDraft, config: LoadedConfig) -> Preview:
    """The message per channel the draft goes to, with the example values; empty while the content
    does not parse (the diagnostics say why)."""
    parsed = parse_content(draft.content)
    if not parsed.ok:
        return Preview()
    examples = {v.name: v.example for v in draft.variables}
    missing = [name for name in parsed.variables if name not in examples]
    if missing:
        return Preview(problems=(f"no example for {', '.join(missing)}: declare the variable below",))
    body = render(parsed, examples)
    renderings = []
    for located in config.channels:
        channel = located.resource
        if draft.channels and channel.name not in draft.channels:
            continue
        own = traits(channel.spec.provider)
        signature = channel.spec.signature.name
        info = count_segments(body, signature, bracketed=own.bracket_signature)
        renderings.append(
            Rendering(
                channel=channel.name,
                provider=own.display,
                message=message_text(body, signature, bracketed=own.bracket_signature),
                encoding=info.encoding,
                characters=info.characters,
                segments=info.segments,
                budget=channel.spec.max_segments,
            )
        )
    apis: dict[str, Any] = {}
    for provider in ProviderName:  # the sandbox speaks another provider's API: shown once
        apis.setdefault(traits(provider.value).api, traits(provider.value))
    native = tuple((own.display, own.to_native(parsed)) for own in apis.values())
    return Preview(tuple(renderings), native)
