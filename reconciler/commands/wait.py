"""`smsops wait`: poll the providers until every desired version is approved, or one is rejected."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import click

from reconciler.commands.options import config_dir_argument, note_unopened, output_option
from reconciler.config.models import DURATION_PATTERN, format_duration, parse_duration
from reconciler.errors import EXIT_ERROR, EXIT_OK
from reconciler.pipeline import load_valid_config
from reconciler.reconcile.observe import open_session
from reconciler.reconcile.status import ChannelStatus, observe_statuses, review_outcome, wait_for_review
from reconciler.render.status import render
from reconciler.secrets.redact import redact


class DurationType(click.ParamType[timedelta, Any]):
    """``90s``, ``10m``, ``2h``, ``1d`` (the config's duration form)."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> timedelta:
        if isinstance(value, timedelta):
            return value
        if not isinstance(value, str) or not re.match(DURATION_PATTERN, value):
            self.fail(f"{value!r} is not a duration such as 90s, 10m, 2h or 1d", param, ctx)
        return parse_duration(value)


# Tests replace these to run without real time passing.
CLOCK: Callable[[], float] = time.monotonic
SLEEP: Callable[[float], None] = time.sleep


@click.command(name="wait")
@config_dir_argument
@click.option("--channel", "channels", multiple=True, help="Only this channel (repeatable). Default: all.")
@click.option("--timeout", type=DurationType(), default="30m", show_default=True, help="Give up after this long.")
@click.option("--interval", type=DurationType(), default="10s", show_default=True, help="Time between checks.")
@output_option
def command(config_dir: str, channels: tuple[str, ...], timeout: timedelta, interval: timedelta, output: str) -> int:
    """Wait until every desired template version is approved (0); a rejection, a channel that cannot be
    observed (the others are still waited for) or the timeout fails (1)."""

    def note(message: str) -> None:
        click.echo(redact(message), err=True)

    config = load_valid_config(config_dir)
    with open_session(config, channels) as session:
        # A channel that cannot be opened or observed (its secrets unreadable, its keys refused) is
        # set aside and reported at the end; the others are waited for.
        blocked = {status.channel: status for status in observe_statuses(session.only(session.unopened))}

        def poll() -> list[ChannelStatus]:
            statuses = observe_statuses(session.only(set(session.providers) - set(blocked)))
            blocked.update((status.channel, status) for status in statuses if status.error)
            return [status for status in statuses if not status.error]

        result = wait_for_review(poll, timeout=timeout, interval=interval, progress=note, clock=CLOCK, sleep=SLEEP)
    order = [c.resource.name for c in session.channels]
    statuses = sorted([*result.statuses, *blocked.values()], key=lambda status: order.index(status.channel))
    click.echo(render(statuses, output), nl=False)
    outcome = result.outcome
    unobserved = [status for name, status in blocked.items() if name not in session.unopened]
    for failure in [*outcome.failed, *review_outcome(unobserved).failed]:
        note(f"failed: {failure}")
    note_unopened(session.unopened)  # with what to do about it
    if result.timed_out:
        note(f"timed out after {format_duration(timeout)}: still pending: {', '.join(outcome.pending)}")
    if result.ok and not blocked:
        note(f"all {len(outcome.ready)} template(s) approved")
        if outcome.to_register:
            note(
                f"signature approved: the next apply registers {len(outcome.to_register)} template(s) "
                f"that waited for it: {', '.join(outcome.to_register)}"
            )
        return EXIT_OK
    return EXIT_ERROR
