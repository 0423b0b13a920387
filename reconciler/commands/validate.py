"""`smsops validate`: load -> lint -> sort -> render. Offline: no secrets, no provider SDKs.

Nothing imported from here may import a provider SDK or boto3 (tests check with ``-X importtime``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import click

from reconciler.commands.options import config_dir_argument, output_option
from reconciler.config.heap import gc_paused
from reconciler.config.lint.run import check
from reconciler.config.load import load_config
from reconciler.errors import EXIT_ERROR, EXIT_OK, Diagnostic, Severity
from reconciler.render.diagnostics import RENDERERS, render_markdown, summarize
from reconciler.secrets.redact import redact


def validate(config_dir: str, *, strict: bool = False) -> tuple[list[Diagnostic], dict[str, int]]:
    """Every diagnostic for ``config_dir`` (sorted; warnings escalated when ``strict``) and counts."""
    with gc_paused():  # lint walks every document too; see gc_paused
        config, diagnostics = load_config(config_dir)
        diagnostics = diagnostics + list(check(config))
    if strict:
        diagnostics = [d.escalated() if d.severity is Severity.WARNING else d for d in diagnostics]
    counts = {
        "files": len(config.files),
        "channels": len(config.channels),
        "templates": len(config.templates),
        "signatures": len(config.signatures),
    }
    return sorted(set(diagnostics)), counts


@click.command(name="validate")
@config_dir_argument
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@output_option
def command(config_dir: str, strict: bool, output: str, environ: Mapping[str, str] = os.environ) -> int:
    """Check the config offline: schema and lint rules, no secrets needed."""
    diagnostics, counts = validate(config_dir, strict=strict)
    summary = summarize(diagnostics, **counts)
    click.echo(redact(RENDERERS[output](diagnostics, summary)), nl=False)
    step_summary = environ.get("GITHUB_STEP_SUMMARY")
    if output == "github" and step_summary:
        with open(step_summary, "a", encoding="utf-8") as handle:
            handle.write(redact(render_markdown(diagnostics, summary)))
    return EXIT_OK if summary.ok else EXIT_ERROR
