"""The template list's "Add Template", "Modify" and "Delete", and the editor's live check.

Saving writes the template's YAML file and nothing else: the provider hears of it only when a
pipeline plans and applies the commit. A draft with errors is not saved (the editor shows them with
their rule ids and positions); a file changed since the editor loaded it is not overwritten.
"""

from __future__ import annotations

import os
from dataclasses import asdict, replace

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from reconciler.config.models import VariableType
from reconciler.console.drafts import (
    Check,
    OutsideConfig,
    TemplateDraft,
    check_draft,
    draft_file,
    draft_text,
    from_form,
    from_template,
    preview,
    removed_text,
)
from reconciler.console.state import Console, console_of, json_answer
from reconciler.console.yamlfile import StaleFile, digest, require_fresh, write_checked
from reconciler.providers.base import TemplateKind


def _editor(
    request: Request, console: Console, draft: TemplateDraft, checked: Check | None, *, status_code: int = 200,
    problem: str = "",
) -> Response:  # fmt: skip
    config, _ = console.config()
    return console.page(
        request,
        "editor.html",
        status_code,
        draft=draft,
        checked=checked,
        preview=preview(draft, checked.config if checked else config) if draft.content else None,
        channel=request.query_params.get("channel") or str((draft.channels or ("",))[0]),
        channels=[c.resource.name for c in config.channels],
        kinds=[k.value for k in TemplateKind],
        variable_types=[v.value for v in VariableType],
        problem=problem,
    )


async def new_template(request: Request) -> Response:
    console = console_of(request)
    channel = request.query_params.get("channel", "")
    draft = TemplateDraft(name="", channels=(channel,) if channel else (), digest="absent")
    return _editor(request, console, draft, None)


async def edit_template(request: Request) -> Response:
    console = console_of(request)
    config, _ = console.config()
    name = request.path_params["name"]
    located = next((t for t in config.templates if t.resource.name == name), None)
    if located is None:
        raise HTTPException(404, f"no template named {name!r} in this config")
    draft = from_template(located, console.root, digest(console.root / os.path.relpath(located.file, config.root)))
    return _editor(request, console, draft, None)


async def _posted(request: Request, console: Console, *, changes: bool) -> tuple[TemplateDraft, Check]:
    form = await console.guard.form(request, changes=changes)
    lists = {key: [str(v) for v in form.getlist(key)] for key in ("var_name", "var_type", "var_example", "var_max")}
    lists["channels"] = [str(v) for v in form.getlist("channels")]
    draft = from_form({k: str(v) for k, v in form.items()}, lists)
    config, _ = console.config()
    try:
        file = draft_file(draft, config)
    except OutsideConfig as error:
        raise HTTPException(400, f"not checked or saved: {error}") from None
    if not draft.file and draft.digest == "absent" and (console.root / file).exists():
        draft = replace(draft, digest=digest(console.root / file))  # a new template in an existing file
    checked = check_draft(console.config_dir, file, draft_text(draft, console.root, file))
    return replace(draft, file=file), checked


async def check_template(request: Request) -> Response:
    """The editor's "Check" (and, with a script, its live check as you type): validate, preview."""
    console = console_of(request)
    draft, checked = await _posted(request, console, changes=False)
    if "application/json" in request.headers.get("accept", ""):
        shown = preview(draft, checked.config)
        return json_answer(
            {
                "diagnostics": [
                    {"location": d.location, "severity": d.severity.value, "rule": d.rule, "message": d.message,
                     "hint": d.hint}
                    for d in checked.diagnostics
                ],
                "preview": asdict(shown),
            }
        )  # fmt: skip
    return _editor(request, console, draft, checked)


async def save_template(request: Request) -> Response:
    console = console_of(request)
    draft, checked = await _posted(request, console, changes=True)
    if not draft.name:
        return _editor(request, console, draft, checked, status_code=422, problem="not saved: give the template a name")
    try:
        require_fresh(console.root / draft.file, draft.digest or "absent")  # before anything else: nothing lost
        if checked.errors:
            problem = f"not saved: {len(checked.errors)} problem(s) below; fix them and save again"
            return _editor(request, console, draft, checked, status_code=422, problem=problem)
        write_checked(console.root / draft.file, checked.text, draft.digest or "absent")
    except StaleFile as error:
        return _editor(request, console, draft, checked, status_code=409, problem=f"{error.message}. {error.hint}")
    console.touched.add(draft.file)
    return RedirectResponse(f"/changes?saved={draft.file}", status_code=303)


async def delete_template(request: Request) -> Response:
    console = console_of(request)
    form = await console.guard.form(request)
    config, _ = console.config()
    name = request.path_params["name"]
    located = next((t for t in config.templates if t.resource.name == name), None)
    if located is None:
        raise HTTPException(404, f"no template named {name!r} in this config")
    file = os.path.relpath(located.file, config.root)
    text = removed_text(console.root, file, name)
    checked = check_draft(console.config_dir, file, text or None)
    if checked.errors:
        detail = "; ".join(d.format() for d in checked.errors)
        raise HTTPException(422, f"{name} was not deleted: without it the config has errors: {detail}")
    try:
        write_checked(console.root / file, text, str(form.get("digest") or digest(console.root / file)))
    except StaleFile as error:
        raise HTTPException(409, f"{error.message}. {error.hint}") from None
    console.touched.add(file)
    return RedirectResponse(f"/changes?deleted={name}", status_code=303)


ROUTES = [
    Route("/templates/new", new_template),
    Route("/templates/check", check_template, methods=["POST"]),
    Route("/templates/save", save_template, methods=["POST"]),
    Route("/templates/{name}/edit", edit_template),
    Route("/templates/{name}/delete", delete_template, methods=["POST"]),
]
