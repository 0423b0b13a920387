"""Who may use the console, and which requests may change something.

- A random access token is printed in the URL (as Jupyter does). The first request that carries it
  gets it as an HttpOnly, SameSite=Strict cookie and is redirected to the same URL without it, so
  the token leaves the address bar and the history; any request with neither is refused (403).
- Every POST carries the CSRF token (a form field ``csrf`` or the ``X-CSRF-Token`` header), derived
  from the access token, so a page of another site cannot make the browser post to the console.
- ``--read-only`` refuses every change and every send, whatever the page offers.
- Only the Host names of loopback are served (no DNS-rebinding site can read the pages).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

COOKIE = "smsops_console"
REFUSED = "403: the console's access token is missing or wrong: open the URL `smsops console` printed"
READ_ONLY = "the console runs with --read-only: it shows, it does not change or send anything"


def new_token() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Guard:
    token: str
    read_only: bool

    @property
    def csrf(self) -> str:
        return hmac.new(self.token.encode(), b"csrf", hashlib.sha256).hexdigest()

    async def form(self, request: Request, *, changes: bool = True) -> FormData:
        """The posted form, once its CSRF token is checked; ``changes``: refused when read-only."""
        form = await request.form()
        given = str(form.get("csrf") or request.headers.get("x-csrf-token") or "")
        if not hmac.compare_digest(given, self.csrf):
            raise HTTPException(403, "the form's CSRF token is missing or wrong: reload the page and try again")
        if changes and self.read_only:
            raise HTTPException(403, READ_ONLY)
        return form


class TokenMiddleware(BaseHTTPMiddleware):
    def __init__(self, app: object, guard: Guard) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.guard = guard

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        given = request.query_params.get("token")
        if given is not None and hmac.compare_digest(given, self.guard.token):
            rest = request.url.remove_query_params("token")
            entry = RedirectResponse(rest.path + (f"?{rest.query}" if rest.query else ""), status_code=303)
            entry.set_cookie(COOKIE, self.guard.token, httponly=True, samesite="strict")
            return entry
        if not hmac.compare_digest(request.cookies.get(COOKIE, ""), self.guard.token):
            return PlainTextResponse(REFUSED, status_code=403)
        response = await call_next(request)
        # The pages hold nothing another site may frame or a cache may keep.
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response
