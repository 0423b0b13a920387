"""`smsops import`: adopt a channel's existing provider templates into YAML files.

Steps: load the (valid) config -> decrypt and open the one channel -> read its signature and
templates -> decide what to import (``reconciler.adopt``) -> write one file per template, never over
an existing file without --force -> lint what was written and mark any file lint rejects -> report.

A signature that is missing or not approved is a warning, not an error: the templates exist at the
provider whatever its state, and plan/apply are what stop on it (see ``adopt.signature_warning``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler import adopt
from reconciler.adopt_signature import render_signature, signature_document
from reconciler.commands.options import config_dir_argument, directory_path
from reconciler.config.lint.run import check
from reconciler.config.load import load_config
from reconciler.errors import EXIT_OK, ConfigError, Diagnostic, Severity, SmsopsError
from reconciler.pipeline import load_valid_config
from reconciler.providers.base import AdoptsSignatures, Signing
from reconciler.providers.traits import traits
from reconciler.reconcile.changes import ChannelObservation, DesiredChannel
from reconciler.reconcile.desired import desired_channel
from reconciler.reconcile.matching import match_templates
from reconciler.reconcile.observe import Session, open_session, select_channels
from reconciler.secrets.redact import redact

if TYPE_CHECKING:
    from collections.abc import Sequence

    from reconciler.adopt import Imported
    from reconciler.config.load import LoadedConfig, Located
    from reconciler.config.models import Channel
    from reconciler.providers.base import ObservedSignature


@dataclass
class Written:
    file: str
    name: str
    code: str
    provider_name: str
    kind: str
    exact: bool
    notes: tuple[str, ...]
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def _same_file(a: str | Path, b: str | Path) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def _lint_written(config_dir: str, out_dir: Path, files: list[Path]) -> dict[Path, list[Diagnostic]]:
    """Diagnostics of the written files, linted together with the config (rules span documents)."""
    config, diagnostics = load_config(config_dir)
    root = os.path.realpath(config_dir)
    if os.path.commonpath([root, os.path.realpath(out_dir)]) != root:
        extra, extra_diagnostics = load_config(out_dir)
        config = replace(
            config,
            templates=config.templates + extra.templates,
            documents=config.documents + extra.documents,
            files=config.files + extra.files,
        )
        diagnostics = diagnostics + extra_diagnostics
    found: dict[Path, list[Diagnostic]] = {path: [] for path in files}
    for diagnostic in [*diagnostics, *check(config)]:
        for path in files:
            if _same_file(diagnostic.file, path):
                found[path].append(diagnostic)
    return found


def _line(diagnostic: Diagnostic, shift: int) -> str:
    """``SMS113 at line 14: …``, with the line as it is in the file finally written."""
    return f"{diagnostic.rule} at line {diagnostic.line + shift}: {diagnostic.message}"


def _summary(written: list[Written], skipped: int, in_git: int, channel: str) -> str:
    to_fix = sum(1 for w in written if w.problems)
    fix = f" ({to_fix} to fix: validate rejects them)" if to_fix else ""
    head = f"{len(written)} imported{fix}, {skipped} skipped, {in_git} already in git"
    if not written:
        return head
    return f"{head}; next: review the files, then `smsops plan --channel {channel}`"


@click.command(name="import")
@config_dir_argument
@click.option("--channel", required=True, help="The channel whose provider templates to adopt.")
@click.option(
    "--out",
    "out",
    type=directory_path(Path),
    help="Directory for the YAML files. Default: CONFIG_DIR/templates/imported.",
)
@click.option(
    "--all", "include_managed", is_flag=True, help="Also import templates smsops created that are no longer in git."
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@click.option(
    "--output",
    "-o",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Report format; json is the stable contract.",
)
def command(config_dir: str, channel: str, out: Path | None, include_managed: bool, force: bool, output: str) -> int:
    """Adopt a channel's existing provider templates into YAML files with `adopt` codes, and its
    signature into a Signature document (an AWS sender ID, with no templates to adopt: its entry
    in every country the account has it in).

    Each file adopts one template (rejected and cancelled ones are skipped), so that `smsops plan`
    right after shows no change. Alibaba ${name} variables keep their names; Tencent {1}, {2}…
    become {{ var1 }}, {{ var2 }}…; names with no ASCII letters become template-<code>. Variable
    types are guessed (a name containing "code" is a code) and examples are placeholders: review them.
    A missing or unapproved signature is reported as a warning; the templates are written anyway.
    """
    config = load_valid_config(config_dir)
    located = select_channels(config, [channel])[0]
    provider_api = _registry_api(located.resource)
    desired = desired_channel(config, located)
    # The provider's side: its signature and every template it lists, with the rollout marks and the
    # published config that say which of them are versions of templates in git (a renamed one too).
    with open_session(config, [channel]) as session:
        provider = session.provider(channel)
        observation = _observe(session, desired)
        signature = observation.signature
        registered = _registered(provider, signature)
    matched = match_templates(desired, observation)

    adoption = adopt.adopt_templates(
        observation.templates,
        channel=channel,
        provider=provider_api,
        names_in_git={t.resource.name for t in config.templates},
        codes_in_git={v.code for match in matched.values() for v in match.versions},
        include_managed=include_managed,
    )
    out_dir = out if out is not None else Path(config_dir) / "templates" / "imported"
    schema = adopt.schema_reference(out_dir)
    skipped = [(s.code, s.provider_name, s.reason) for s in adoption.skipped]
    by_path = _write_documents(adoption.imported, out_dir, schema, channel, force=force, skipped=skipped)
    # Lint what was written; a file lint rejects is kept, marked with its problems, and reported.
    written = _mark_problems(config_dir, out_dir, by_path, schema, channel)

    sign_name = located.resource.spec.signature.name
    warning = adopt.signature_warning(signature, sign_name)
    summary = _summary(written, len(skipped), len(adoption.in_git), channel)
    own = traits(located.resource.spec.provider)
    if not own.registers_templates:
        summary = f"no templates to import: {own.display} messages are rendered by the application"
    signature_file = _adopt_signature(config, located, registered, provider_api, Path(config_dir), force=force)
    if output == "json":
        report = {
            "channel": channel,
            "provider": provider_api,
            "signature": _signature_json(signature, sign_name, warning),
            "signature_file": signature_file,
            "written": [vars(w) for w in written],
            "skipped": [{"code": c, "provider_name": n, "reason": r} for c, n, r in skipped],
            "in_git": list(adoption.in_git),
            "summary": summary,
        }
        click.echo(redact(json.dumps(report, indent=2, ensure_ascii=False)))
    else:
        wrote = f"+ wrote {signature_file}: kind Signature for '{sign_name}'" if signature_file else ""
        click.echo(redact(_text(signature, warning, written, skipped, summary, wrote)))
    return EXIT_OK


def _adopt_signature(
    config: LoadedConfig,
    located: Located[Channel],
    observed: ObservedSignature | None,
    api: str,
    config_dir: Path,
    *,
    force: bool,
) -> str | None:
    """Write the channel's signature as a Signature document (``adopt_signature``), unless git has one
    for it already or the file exists (without --force); the path written, or None. One that needs
    files (Tencent's proof image) is written as ``<name>.yaml.draft``."""
    managed = located.resource.spec.signature.managed
    if observed is None or managed or any(s.resource.spec.name == observed.name for s in config.signatures):
        return None
    adopted = signature_document(observed, located.resource.spec.provider)
    if adopted is None:
        return None
    slug, document, notes, complete = adopted
    folder = config_dir / "signatures"
    # A document that needs files the provider never returns would fail validation, and with it
    # every command: it is written as a draft the user renames once the files are added.
    path = folder / (f"{slug}.yaml" if complete else f"{slug}.yaml.draft")
    if path.exists() and not force:
        return None
    schema = adopt.schema_reference(folder).replace("template.schema.json", "signature.schema.json")
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(render_signature(document, notes, schema=schema, channel=located.resource.name), encoding="utf-8")
    return str(path)


def _observe(session: Session, desired: DesiredChannel) -> ChannelObservation:
    """The channel as plan sees it; without a template registry, only the signature to adopt."""
    if not desired.registers_templates:
        return ChannelObservation(channel=desired.name, signature=session.provider(desired.name).get_signature())
    observation = session.observe(desired)
    if observation.error:
        raise SmsopsError(
            f"channel {desired.name}: could not be read, nothing imported: {observation.error}",
            hint="fix access to the provider and the channel's publish target, then run import again",
        )
    return observation


def _registered(provider: object, signature: ObservedSignature | None) -> ObservedSignature | None:
    """Everything the provider reports back about the channel's signature, to adopt it as a
    Signature document (a sender ID: in every country it is in)."""
    if signature is None or not isinstance(provider, Signing):
        return None
    if isinstance(provider, AdoptsSignatures):
        return provider.signature_to_adopt(signature.name)
    return provider.read_signature(signature.name)


def _registry_api(channel: Channel) -> str:
    """The provider API whose templates (and signature) to read. A provider with neither a template
    registry nor signatures to adopt is refused: there is nothing to import."""
    own = traits(channel.spec.provider)
    if not own.registers_templates and own.adopt_signature is None:
        raise ConfigError(
            f"channel {channel.name} uses provider {own.name}, which has no template registry: "
            "there is nothing to import",
            hint=f"{own.display} messages are rendered by the application; write their Template documents by hand",
        )
    return own.api


def _write_documents(
    imported: Sequence[Imported],
    out_dir: Path,
    schema: str,
    channel: str,
    *,
    force: bool,
    skipped: list[tuple[str, str, str]],
) -> dict[Path, Imported]:
    """One YAML file per template; an existing file is kept (and the template ``skipped``) unless ``force``."""
    by_path: dict[Path, Imported] = {}
    for one in imported:
        path = out_dir / f"{one.name}.yaml"
        if path.exists() and not force:
            skipped.append((one.code, one.provider_name, f"{path} exists; pass --force to overwrite it"))
            continue
        out_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(adopt.render_document(one, schema=schema, channel=channel), encoding="utf-8")
        by_path[path] = one
    return by_path


def _mark_problems(
    config_dir: str, out_dir: Path, by_path: dict[Path, Imported], schema: str, channel: str
) -> list[Written]:
    """What was written, with lint's findings; a file with errors is rewritten with them marked in it."""
    lint = _lint_written(config_dir, out_dir, list(by_path)) if by_path else {}
    written: list[Written] = []
    for path, imported in by_path.items():
        errors = [d for d in lint[path] if d.severity is Severity.ERROR]
        shift = 0
        if errors:
            before = path.read_text(encoding="utf-8")
            problems = [f"{d.rule} {d.message}" for d in errors]
            text = adopt.render_document(imported, schema=schema, channel=channel, problems=problems)
            path.write_text(text, encoding="utf-8")
            shift = text.count("\n") - before.count("\n")  # the marks move everything below them down
        written.append(
            Written(
                file=str(path),
                name=imported.name,
                code=imported.code,
                provider_name=imported.provider_name,
                kind=imported.document["spec"]["type"],
                exact=imported.exact,
                notes=imported.notes,
                problems=tuple(_line(d, shift) for d in errors),
                warnings=tuple(_line(d, shift) for d in lint[path] if d.severity is Severity.WARNING),
            )
        )
    return written


def _signature_json(signature: ObservedSignature | None, sign_name: str, warning: str) -> dict[str, str]:
    return {
        "name": signature.name if signature else sign_name,
        "status": signature.status.value if signature else "missing",
        "warning": warning,
    }


def _text(
    signature: ObservedSignature | None,
    warning: str,
    written: list[Written],
    skipped: list[tuple[str, str, str]],
    summary: str,
    wrote: str = "",
) -> str:
    lines = [f"warning: {warning}"] if warning else [f"signature '{signature.name}' is approved" if signature else ""]
    for w in written:
        lines.append(f"+ wrote {w.file}: {w.code} '{w.provider_name}' ({w.kind})")
        lines.extend(f"    note: {note}" for note in w.notes)
        lines.extend(f"    warning: {warning}" for warning in w.warnings)
        lines.extend(f"    error: {problem} (written anyway, marked in the file)" for problem in w.problems)
    lines.extend(f"- skipped {code} '{name}': {reason}" for code, name, reason in skipped)
    lines.extend([wrote, summary])
    return "\n".join(line for line in lines if line)
