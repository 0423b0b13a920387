"""What every route shares: the ``Console`` (config directory, guard, pages) and answer helpers.

Every page and every JSON answer passes through ``redact`` on its way out, as every CLI output
does: a secret value or phone number that some model carried by mistake is masked there too.
The config is loaded anew on each request: the files are the truth, and another editor may have
changed them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from reconciler.config.load import LoadedConfig
from reconciler.console.security import Guard
from reconciler.console.testsends import SendJobs
from reconciler.errors import Diagnostic, Severity
from reconciler.pipeline import checked_config
from reconciler.secrets.redact import redact


@dataclass
class Console:
    """What every route needs: the config directory, the guard, the files saved so far, the test sends."""

    config_dir: str
    guard: Guard
    environment: Environment
    shown_dir: str  # the config directory as the pages name it (see ``gitwork.shown_dir``)
    # files (relative to the config root) this console wrote or deleted: what "Commit" offers
    touched: set[str] = field(default_factory=set)
    sends: SendJobs = field(default_factory=SendJobs)  # "Send Test SMS", running and done

    @property
    def root(self) -> Path:
        return Path(self.config_dir)

    def config(self) -> tuple[LoadedConfig, list[Diagnostic]]:
        return checked_config(self.config_dir)

    def page(self, request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        config_errors = context.pop("config_errors", None)
        html = self.environment.get_template(name).render(
            request=request,
            csrf=self.guard.csrf,
            read_only=self.guard.read_only,
            config_dir=self.shown_dir,
            touched=sorted(self.touched),
            config_errors=config_errors or [],
            **context,
        )
        return HTMLResponse(redact(html), status_code=status_code)


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def json_answer(data: Any, status_code: int = 200) -> Response:
    return Response(redact(json.dumps(data, ensure_ascii=False)), status_code, media_type="application/json")


def errors_of(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity is Severity.ERROR]
