""" "Send Test SMS": the on-demand channel test, the very code of ``smsops test-send``.

It sends with the example values to the channel's test numbers and follows each message to the
provider's delivery report. The numbers are shown masked (``SendResult.recipient`` never holds
one in the clear). The only call the console makes that the provider acts on.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reconciler.commands.test_send import channel_test_send
from reconciler.console.routes.channels import find_channel
from reconciler.console.state import console_of, errors_of
from reconciler.errors import SmsopsError
from reconciler.providers.traits import traits
from reconciler.secrets.redact import redact

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
        return console.page(request, "send.html", 422, channel=name, result=None, config_errors=errors,
                            problem="the config has errors: nothing was sent")  # fmt: skip
    embedded = traits(located.resource.spec.provider).embedded
    try:
        result = await run_in_threadpool(
            channel_test_send, config, name, poll_interval=EMBEDDED_POLL_INTERVAL_S if embedded else None
        )
    except SmsopsError as error:
        problem = redact(f"{error.message} ({error.hint})" if error.hint else error.message)
        return console.page(request, "send.html", 422, channel=name, result=None, problem=problem)
    return console.page(request, "send.html", channel=name, result=result, problem="")


ROUTES = [Route("/channels/{name}/test-send", test_send, methods=["POST"])]
