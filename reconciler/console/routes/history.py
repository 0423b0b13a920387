"""History: the audit trail of a channel or one of its templates, from git (``smsops history``)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reconciler.console.state import console_of
from reconciler.errors import SmsopsError
from reconciler.history.walk import collect_history


async def history_page(request: Request) -> Response:
    console = console_of(request)
    channel = request.path_params["name"]
    template = request.query_params.get("template") or None
    try:
        history = await run_in_threadpool(
            collect_history, console.config_dir, channel=None if template else channel, template=template
        )
    except SmsopsError as error:
        return console.page(request, "history.html", channel=channel, template=template, history=None,
                            problem=error.message)  # fmt: skip
    return console.page(request, "history.html", channel=channel, template=template, history=history, problem="")


ROUTES = [Route("/channels/{name}/history", history_page)]
