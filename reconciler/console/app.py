"""The console's ASGI application: routes by concern (``reconciler.console.routes``), Jinja2 pages,
one stylesheet and a small script that only enhances pages which work without it. What the routes
share is ``reconciler.console.state``."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from reconciler.console.gitwork import shown_dir
from reconciler.console.routes import changes, channels, history, sends, templates
from reconciler.console.security import Guard, TokenMiddleware
from reconciler.console.state import Console, console_of, json_answer
from reconciler.history.diff import show
from reconciler.render.status import gate_skipped

STATIC = Path(__file__).parent / "static"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if "application/json" in request.headers.get("accept", ""):
        return json_answer({"error": error.detail}, error.status_code)
    return console_of(request).page(request, "error.html", error.status_code, message=error.detail)


def create_app(
    config_dir: str, *, read_only: bool = False, token: str, hosts: tuple[str, ...] = LOOPBACK_HOSTS
) -> Starlette:
    """The console for ``config_dir``. ``token`` is the access token the printed URL carries;
    ``hosts`` the Host names served (loopback, plus the one given to ``--host``)."""
    environment = Environment(
        loader=PackageLoader("reconciler.console", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # the break-glass line as `smsops status` words it: an auditor sees it on the channel page too
    environment.globals["gate_skipped"] = gate_skipped
    # a field's value as `smsops history` writes it (JSON): not Python's repr of a label map or list
    environment.filters["field_value"] = show
    guard = Guard(token=token, read_only=read_only)
    routes = [
        *channels.ROUTES,
        *templates.ROUTES,
        *changes.ROUTES,
        *sends.ROUTES,
        *history.ROUTES,
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=list(hosts)),
            Middleware(TokenMiddleware, guard=guard),
        ],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.console = Console(
        config_dir=config_dir, guard=guard, environment=environment, shown_dir=shown_dir(config_dir)
    )
    return app
