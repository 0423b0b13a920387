"""What the saves changed (the git diff, the saved file) and "Commit on a new branch"."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reconciler.console.gitwork import commit_on_branch, working_changes
from reconciler.console.state import console_of
from reconciler.errors import SmsopsError


async def changes_page(request: Request, *, problem: str = "", committed: str = "", status_code: int = 200) -> Response:
    console = console_of(request)
    # Only a file this console saved is named and shown: the address is the browser's to change,
    # and the config's directory holds what no page may show (an age key beside it; ../ leads anywhere).
    saved = request.query_params.get("saved", "")
    saved = saved if saved in console.touched else ""
    text = (console.root / saved).read_text(encoding="utf-8") if saved and (console.root / saved).is_file() else ""
    try:
        changes = working_changes(console.config_dir)
    except SmsopsError as error:
        return console.page(request, "changes.html", status_code, saved=saved, text=text, changes=None,
                            problem=error.message, committed=committed)  # fmt: skip
    return console.page(
        request,
        "changes.html",
        status_code,
        saved=saved,
        deleted=request.query_params.get("deleted", ""),
        text=text,
        changes=changes,
        problem=problem,
        committed=committed,
    )


async def commit(request: Request) -> Response:
    console = console_of(request)
    form = await console.guard.form(request)
    try:
        short = commit_on_branch(
            console.config_dir, console.touched, str(form.get("branch", "")).strip(), str(form.get("message", ""))
        )
    except SmsopsError as error:
        return await changes_page(request, problem=f"not committed: {error.message} ({error.hint})", status_code=422)
    console.touched.clear()
    return await changes_page(request, committed=f"committed {short} on branch {form.get('branch')}")


ROUTES = [
    Route("/changes", changes_page),
    Route("/changes/commit", commit, methods=["POST"]),
]
