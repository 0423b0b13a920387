"""The channel page (the product's settings page), its "Modify" of the settings, and a new key."""

from __future__ import annotations

import os

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from reconciler.config.load import LoadedConfig, Located
from reconciler.config.models import Channel
from reconciler.console.drafts import check_draft
from reconciler.console.keys import replace_keys
from reconciler.console.live import channel_view
from reconciler.console.state import console_of, errors_of
from reconciler.console.yamlfile import StaleFile, digest, edited_text, merge, write_checked
from reconciler.errors import SmsopsError
from reconciler.secrets.redact import redact


def find_channel(config: LoadedConfig, name: str) -> Located[Channel]:
    located = config.channel(name)
    if located is None:
        raise HTTPException(404, f"no channel named {name!r} in this config")
    return located


async def index(request: Request) -> Response:
    console = console_of(request)
    config, diagnostics = console.config()
    if len(config.channels) == 1 and not errors_of(diagnostics):
        return RedirectResponse(f"/channels/{config.channels[0].resource.name}", status_code=303)
    return console.page(request, "index.html", channels=config.channels, config_errors=errors_of(diagnostics))


async def channel_page(request: Request) -> Response:
    console = console_of(request)
    config, diagnostics = console.config()
    located = find_channel(config, request.path_params["name"])
    errors = errors_of(diagnostics)
    view = await run_in_threadpool(channel_view, config, located, live=not errors)
    states = {t.name: t for t in view.status.templates} if view.status else {}
    return console.page(
        request,
        "channel.html",
        view=view,
        channels=config.channels,
        templates=config.templates_for(located.resource.name),
        states=states,
        config_errors=errors,
        message=request.query_params.get("message", ""),
    )


async def modify_page(request: Request, problem: str = "", status_code: int = 200) -> Response:
    console = console_of(request)
    config, _ = console.config()
    located = find_channel(config, request.path_params["name"])
    return console.page(
        request,
        "settings.html",
        status_code,
        view=channel_view(config, located, live=False),
        digest=digest(console.root / os.path.relpath(located.file, config.root)),
        problem=problem,
    )


async def save_settings(request: Request) -> Response:
    """Save the channel's endpoint, signature and Enable/Closed switch into its YAML file."""
    console = console_of(request)
    form = await console.guard.form(request)
    config, _ = console.config()
    located = find_channel(config, request.path_params["name"])
    file = os.path.relpath(located.file, config.root)
    wanted = {
        "endpoint": str(form.get("endpoint", "")).strip() or None,
        "signature": {**_signature(located), "name": str(form.get("signature", "")).strip()},
        "enabled": form.get("enabled") == "on",
    }

    def change(doc):  # type: ignore[no-untyped-def]
        merge(doc["spec"], wanted)
        return doc

    text = edited_text(console.root / file, "Channel", located.resource.name, change)
    checked = check_draft(console.config_dir, file, text)
    if checked.errors:
        problem = "; ".join(redact(d.format()) for d in checked.errors)
        return await modify_page(request, f"not saved: {problem}", 422)
    try:
        write_checked(console.root / file, text, str(form.get("digest", "")))
    except StaleFile as error:
        return await modify_page(request, f"{error.message} ({error.hint})", 409)
    console.touched.add(file)
    return RedirectResponse(f"/changes?saved={file}", status_code=303)


def _signature(located: Located[Channel]) -> dict[str, str]:
    signature = located.resource.spec.signature.model_dump(by_alias=True, exclude_none=True)
    return {str(k): str(v) for k, v in signature.items()}


async def save_keys(request: Request) -> Response:
    """A new access key id and secret: written by sops into the channel's SOPS file, nowhere else."""
    console = console_of(request)
    form = await console.guard.form(request)
    config, _ = console.config()
    located = find_channel(config, request.path_params["name"])
    key_id, secret = str(form.get("access_key_id", "")).strip(), str(form.get("access_key_secret", "")).strip()
    if not key_id or not secret:
        return await modify_page(request, "not saved: give both the access key and the secret key", 422)
    try:
        file = replace_keys(located, key_id, secret)
    except SmsopsError as error:
        return await modify_page(request, redact(f"not saved: {error.message} ({error.hint})"), 422)
    console.touched.add(
        os.path.normpath(os.path.join(os.path.dirname(os.path.relpath(located.file, config.root)), file))
    )
    return RedirectResponse(f"/channels/{located.resource.name}?message=keys+replaced+through+sops", status_code=303)


ROUTES = [
    Route("/", index),
    Route("/channels/{name}", channel_page),
    Route("/channels/{name}/modify", modify_page),
    Route("/channels/{name}/settings", save_settings, methods=["POST"]),
    Route("/channels/{name}/keys", save_keys, methods=["POST"]),
]
