"""`smsops test-send`: the gate on its own: real sends to the channel's test numbers, confirmed.

What is sent (one message per template version, round-robin over the test recipients):
- ``--template NAME`` (repeatable): those templates: the version awaiting promotion where there is
  one, else the live version. A named template with no approved version fails the gate.
- no ``--template``: every version awaiting promotion in a fresh plan (PROMOTE changes), limited to
  ``spec.testSend.templates`` when set (the others are listed as skipped);
- nothing awaiting promotion: a **channel test**: one message through the live version of the
  channel's first verification template (config order; testSend.templates first when set), or of
  its first live template of any type. It proves keys, signature and delivery to the test numbers.
  With nothing live at all there is nothing to send: the result is ``skipped`` (exit 0).
AWS has no template registry: every template is sendable, rendered locally and sent as DryRun.

Exit codes: 0 passed (or skipped: disabled channel, nothing to test), 3 any send not delivered
(not accepted / validated where that is the provider's best proof), 1 error.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click
from pydantic_core import PydanticCustomError

from reconciler.commands.options import (
    check_output_paths,
    config_dir_argument,
    output_file_option,
    output_option,
    write_output,
)
from reconciler.config.lint.provider_rules import code_wanted, is_code
from reconciler.config.models import Channel, Template, VariableSpec, VariableType, parse_duration
from reconciler.errors import ConfigError, SmsopsError
from reconciler.pipeline import load_valid_config
from reconciler.providers.base import TemplateKind
from reconciler.providers.traits import ProviderTraits, traits
from reconciler.reconcile.changes import Action, ChannelObservation, DesiredChannel
from reconciler.reconcile.desired import desired_channel
from reconciler.reconcile.matching import match_templates
from reconciler.reconcile.observe import Session, open_session, select_channels
from reconciler.reconcile.plan import plan_channel
from reconciler.render.gate import render
from reconciler.render.junit import junit_xml
from reconciler.secrets.sops import channel_secrets
from reconciler.verify.gate import gate_disabled, gate_send, gate_without_recipients, run_gate
from reconciler.verify.results import GateProgress, GateResult, GateSend, SendOutcome, SendResult

if TYPE_CHECKING:
    from reconciler.config.load import LoadedConfig, Located


# The gate's time: the real thing, which tests replace (as in commands/wait.py). None: the gate's default.
CLOCK: Callable[[], float] = time.monotonic
SLEEP: Callable[[float], None] = time.sleep
POLL_INTERVAL_S: float | None = None


def _parse_vars(values: Sequence[str]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected name=value, got {item!r}", param_hint="--var")
        parsed[name.strip()] = value
    return parsed


def _parse_timeout(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value).total_seconds()
    except PydanticCustomError:
        raise click.BadParameter(
            f"expected a duration such as 90s, 5m or 1h, got {value!r}", param_hint="--timeout"
        ) from None


@click.command(name="test-send")
@config_dir_argument
@click.option("--channel", "channel_name", required=True, help="The channel to test.")
@click.option("--template", "templates", multiple=True, help="Only this template (repeatable).")
@click.option(
    "--var",
    "variables",
    multiple=True,
    help="Override an example value: name=value (repeatable); held to the variable's maxLength and type.",
)
@click.option(
    "--timeout",
    "timeout",
    metavar="DURATION",
    help="How long to wait for each delivery report, e.g. 90s or 5m (default: testSend.deliveryTimeout).",
)
@output_file_option("--junit", "junit_file", "Write JUnit XML here.")
@output_option
def command(
    config_dir: str,
    channel_name: str,
    templates: tuple[str, ...],
    variables: tuple[str, ...],
    timeout: str | None,
    junit_file: Path | None,
    output: str,
) -> int:
    """Send test messages with example values to the channel's test numbers and confirm delivery."""
    overrides = _parse_vars(variables)
    timeout_s = _parse_timeout(timeout)
    check_output_paths(junit=junit_file)
    config = load_valid_config(config_dir)
    with _progress_display() as progress:
        result = channel_test_send(
            config,
            channel_name,
            templates,
            overrides,
            timeout_s=timeout_s,
            poll_interval=POLL_INTERVAL_S,
            progress=progress,
        )
    return _report(result, output, junit_file)


def channel_test_send(
    config: LoadedConfig,
    channel_name: str,
    templates: Sequence[str] = (),
    overrides: dict[str, str] | None = None,
    *,
    timeout_s: float | None = None,
    poll_interval: float | None = None,
    progress: Callable[[GateProgress], None] = lambda _: None,
) -> GateResult:
    """The test send of ``smsops test-send`` (what to send: the module docstring) on a loaded, valid
    config; ``smsops console``'s "Send Test SMS" runs it too."""
    overrides = overrides or {}
    (located,) = select_channels(config, [channel_name])
    channel = located.resource
    _check_names(config, channel, templates, overrides)
    if not channel.spec.enabled:
        return gate_disabled(channel)  # nothing decrypted, nothing contacted
    if channel.spec.test_send is None:
        return gate_without_recipients(channel)
    with open_session(config, [channel_name]) as session:
        session.require(channel_name)  # its secrets could not be read: that error, as it is
        sends, early, mode = _select(config, located, session, templates, overrides)
        return run_gate(
            session.provider(channel_name),
            channel,
            channel_secrets(located).test_recipients,
            sends,
            timeout=timeout_s,
            poll_interval=poll_interval,
            clock=CLOCK,
            sleep=SLEEP,
            mode=mode,
            progress=progress,
            extra_results=early,
        )


def _report(result: GateResult, output: str, junit_file: Path | None) -> int:
    if junit_file is not None:
        write_output("junit", junit_file, junit_xml(result))
    click.echo(render(result, output), nl=False)
    return result.exit_code


def _check_names(config: LoadedConfig, channel: Channel, names: Sequence[str], overrides: dict[str, str]) -> None:
    known = {t.resource.name: t.resource for t in config.templates_for(channel.name)}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(
            f"no template {', '.join(repr(n) for n in unknown)} goes to channel {channel.name}",
            hint=f"templates of this channel: {', '.join(sorted(known)) or 'none'}",
        )
    if names:  # what is sent is known before anything is contacted
        _check_vars(channel, [known[n] for n in dict.fromkeys(names)], overrides)


def _check_vars(
    channel: Channel, templates: Sequence[Template], overrides: dict[str, str], *, sent: bool = True
) -> None:
    """Each --var names a variable of ``templates``: the ones being sent (a variable of another
    template would be silently left out), or, when nothing is sent, any of the channel's; and its
    value fits that variable's declaration in each of them (``_value_problem``)."""
    stray = sorted(set(overrides) - {v for t in templates for v in t.spec.variables})
    if stray:
        which = f"no template sent to channel {channel.name}" if sent else f"no template of channel {channel.name}"
        listed = "; ".join(f"{t.name}: {', '.join(sorted(t.spec.variables)) or 'none'}" for t in templates)
        raise ConfigError(
            f"--var {', '.join(stray)}: {which} has such a variable",
            hint=f"variables of the template(s) sent: {listed}" if sent else f"variables: {listed or 'none'}",
        )
    provider = traits(channel.spec.provider)
    for name, value in overrides.items():
        for template in (t for t in templates if name in t.spec.variables):
            variable = template.spec.variables[name]
            problem = _value_problem(value, variable, provider)
            if problem is not None:
                what, wanted = problem
                limit = f", maxLength {variable.max_length}" if variable.max_length else ""
                raise ConfigError(
                    f"--var {name}: {what}; template {template.name} declares {name} as type {variable.type}{limit}",
                    hint=f"give {wanted}, or leave out --var {name} to send the example",
                )


def _value_problem(value: str, variable: VariableSpec, provider: ProviderTraits) -> tuple[str, str] | None:
    """What is wrong with ``value`` for ``variable`` and what would do, or None. The limits are the
    lint's (SMS114 maxLength, SMS206 the provider's code digits), so a value passes where its
    template's example would; the value itself is never shown (a phone variable holds a number)."""
    longest = variable.max_length
    size = f"1-{longest} characters" if longest else "a value"
    if not value:
        return "empty value", size
    if longest is not None and len(value) > longest:
        return f"{len(value)} characters", size
    digits = provider.code_digits
    if variable.type is VariableType.CODE and digits is not None and not is_code(value, digits):
        wanted = code_wanted(digits)
        return f"not {wanted} ({provider.display} codes)", wanted
    return None


def _select(
    config: LoadedConfig, located: Located[Channel], session: Session, names: Sequence[str], overrides: dict[str, str]
) -> tuple[list[GateSend], list[SendResult], Literal["templates", "channel"]]:
    """The versions to send (see the module docstring), plus verdicts reached without sending."""
    channel = located.resource
    desired = desired_channel(config, located)
    observed = session.observe(desired)
    planned = plan_channel(desired, observed, now=datetime.now(UTC))
    if planned.blockers:
        blocker = planned.blockers[0]
        raise SmsopsError(f"channel {channel.name}: {blocker.message}", hint=blocker.hint)
    by_name = {t.resource.name: t.resource for t in config.templates_for(channel.name)}
    pending = {c.template: c.after.code for c in planned.changes if c.action is Action.PROMOTE and c.after}
    live = _live_codes(desired, observed)

    def send(name: str, code: str) -> GateSend:
        return gate_send(
            by_name[name],
            session.provider(channel.name),
            code,
            {k: v for k, v in overrides.items() if k in _vars(by_name[name])},
        )

    def unsent(name: str, outcome: SendOutcome, detail: str) -> SendResult:
        return SendResult(template=name, code="", recipient="-", outcome=outcome, detail=detail)

    def check_vars(sent: Sequence[str]) -> None:
        """Without --template, what is sent is known only now (named ones: ``_check_names``)."""
        _check_vars(channel, [by_name[n] for n in sent] or list(by_name.values()), overrides, sent=bool(sent))

    if names:
        sends, early = [], []
        for name in dict.fromkeys(names):
            code = pending.get(name) or live.get(name)
            if code is None:
                early.append(
                    unsent(name, SendOutcome.FAILED, "not sent: no approved version (awaiting provider review?)")
                )
            else:
                sends.append(send(name, code))
        return sends, early, "templates"
    if pending:
        listed = channel.spec.test_send.templates if channel.spec.test_send else None
        chosen = [n for n in pending if listed is None or n in listed]
        early = [unsent(n, SendOutcome.SKIPPED, "not in spec.testSend.templates") for n in pending if n not in chosen]
        check_vars(chosen)
        return [send(n, pending[n]) for n in chosen], early, "templates"
    pick = _channel_test_template(channel, list(by_name.values()), live)
    check_vars([pick.name] if pick else [])
    return ([send(pick.name, live[pick.name])] if pick else []), [], "channel"


def _vars(template: Template) -> set[str]:
    return set(template.spec.variables)


def _live_codes(desired: DesiredChannel, observed: ChannelObservation) -> dict[str, str]:
    """Logical name -> the code of its live version (AWS: every template, no code)."""
    if not desired.registers_templates:
        return {t.name: "" for t in desired.templates}
    matches = match_templates(desired, observed)
    return {name: match.live.code for name, match in matches.items() if match.live is not None}


def _channel_test_template(channel: Channel, templates: list[Template], live: dict[str, str]) -> Template | None:
    listed = channel.spec.test_send.templates if channel.spec.test_send else None
    if listed:
        templates = sorted(
            templates, key=lambda t: (t.name not in listed, listed.index(t.name) if t.name in listed else 0)
        )
    candidates = [t for t in templates if t.name in live]
    verification = [t for t in candidates if t.spec.type is TemplateKind.VERIFICATION]
    return next(iter(verification or candidates), None)


class _progress_display:
    """A progress bar on a terminal (stderr); plain lines, only when something changed, otherwise."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.last = ""
        self.shown = 0

    def __enter__(self) -> Callable[[GateProgress], None]:
        return self.update

    def update(self, event: GateProgress) -> None:
        if sys.stderr.isatty():
            if self.bar is None:
                self.bar = click.progressbar(length=max(event.total, 1), label="test send", file=sys.stderr)
                self.bar.__enter__()
            self.bar.label = event.message[:60]
            self.bar.update(event.finished - self.shown)
            self.shown = event.finished
        elif event.message != self.last and event.message != "done":
            wait = f" (next step in {event.waiting_s:.0f}s)" if event.waiting_s >= 1 else ""
            click.echo(f"[{event.finished}/{event.total}] {event.message}{wait}", err=True)
        self.last = event.message

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
