""" "Send Test SMS": the on-demand channel test, the very code of ``smsops test-send``.

It sends with the example values to the channel's test numbers and follows each message to the
provider's delivery report. The send runs in the background (``reconciler.console.testsends``): the
POST answers at once with a redirect to the job's page, which shows the gate's progress as it
arrives: a script asks the job's JSON, and without a script the page refreshes itself until the job
is done. The numbers are shown masked (``SendResult.recipient`` never holds one in the clear). The
only call the console makes that the provider acts on.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from reconciler.commands.test_send import channel_test_send
from reconciler.console.routes.channels import find_channel
from reconciler.console.state import console_of, errors_of, json_answer
from reconciler.console.testsends import SendJob
from reconciler.providers.traits import traits
from reconciler.verify.results import GateProgress, GateResult

# An emulator delivers within a second or two: its receipts need not be asked for every 5 s.
EMBEDDED_POLL_INTERVAL_S = 0.5


async def test_send(request: Request) -> Response:
    console = console_of(request)
    await console.guard.form(request)
    config, diagnostics = console.config()
    located = find_channel(config, request.path_params["name"])
    name = located.resource.name
    errors = errors_of(diagnostics)
    if errors:
        return console.page(request, "send.html", 422, channel=name, job=None, config_errors=errors,
                            problem="the config has errors: nothing was sent")  # fmt: skip
    poll_interval = EMBEDDED_POLL_INTERVAL_S if traits(located.resource.spec.provider).embedded else None

    def run(progress: Callable[[GateProgress], None]) -> GateResult:
        return channel_test_send(config, name, poll_interval=poll_interval, progress=progress)

    job = console.sends.start(name, run)
    return RedirectResponse(f"/channels/{name}/test-send/{job.id}", status_code=303)


def _job(request: Request) -> SendJob:
    job = console_of(request).sends.get(request.path_params["job"])
    if job is None or job.channel != request.path_params["name"]:
        raise HTTPException(404, "no such test send: the console keeps the last ones until it stops")
    return job


async def send_page(request: Request) -> Response:
    job = _job(request)
    return console_of(request).page(request, "send.html", channel=job.channel, job=job, problem=job.problem)


async def send_progress(request: Request) -> Response:
    return json_answer(_job(request).answer())


ROUTES = [
    Route("/channels/{name}/test-send", test_send, methods=["POST"]),
    Route("/channels/{name}/test-send/{job}", send_page),
    Route("/channels/{name}/test-send/{job}/progress", send_progress),
]
