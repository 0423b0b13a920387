"""`smsops schema`: write ``schemas/*.json`` from the models; ``--check`` fails when they are stale.

The output is deterministic (sorted keys, two-space indent, trailing newline) so CI can compare
bytes, and editors pick it up through ``# yaml-language-server: $schema=...`` in each config file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel

from reconciler.commands.options import directory_path
from reconciler.config.models import Channel, Signature, Template
from reconciler.errors import EXIT_ERROR, EXIT_OK

# A URN, not a URL: the schemas are files in this repository, served from no web address.
SCHEMA_BASE_URL = "urn:smsops:schemas:"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _drop_property_titles(node: Any) -> Any:
    """Pydantic titles every property after its Python name ("Deliverytimeout"); they add noise to
    editor tooltips next to the descriptions, so only model titles are kept."""
    if isinstance(node, dict):
        result = {key: _drop_property_titles(value) for key, value in node.items()}
        for prop in (result.get("properties") or {}).values():
            if isinstance(prop, dict):
                prop.pop("title", None)
        return result
    if isinstance(node, list):
        return [_drop_property_titles(item) for item in node]
    return node


def schema_for(model: type[BaseModel], filename: str, title: str) -> dict[str, Any]:
    generated = _drop_property_titles(model.model_json_schema(by_alias=True, mode="validation"))
    return {"$schema": DIALECT, "$id": SCHEMA_BASE_URL + filename, **generated, "title": title}


def render_schemas() -> dict[str, str]:
    """File name -> exact file content."""
    schemas = {
        "channel.schema.json": schema_for(Channel, "channel.schema.json", "smsops Channel"),
        "template.schema.json": schema_for(Template, "template.schema.json", "smsops Template"),
        "signature.schema.json": schema_for(Signature, "signature.schema.json", "smsops Signature"),
    }
    return {
        name: json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        for name, schema in schemas.items()
    }


@click.command(name="schema")
@click.option(
    "--out-dir",
    type=directory_path(Path),
    default=Path("schemas"),
    show_default=True,
    help="Directory to write the schemas to.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if any schema file is missing or stale.")
def command(out_dir: Path, check: bool) -> int:
    """Write schemas/*.json from the models."""
    wanted = render_schemas()
    if check:
        stale = [
            name
            for name, content in wanted.items()
            if not (out_dir / name).is_file() or (out_dir / name).read_text(encoding="utf-8") != content
        ]
        for name in stale:
            click.echo(f"{out_dir / name}: stale or missing", err=True)
        if stale:
            click.echo("hint: run `smsops schema` and commit the result", err=True)
            return EXIT_ERROR
        click.echo(f"OK: {len(wanted)} schemas up to date in {out_dir}")
        return EXIT_OK
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, content in wanted.items():
        (out_dir / name).write_text(content, encoding="utf-8")
        click.echo(f"wrote {out_dir / name}")
    return EXIT_OK
