"""Stage wiring shared by commands: load+validate, then desired state and observation per channel.

Each stage runs inside ``stage(name)``: an unexpected exception leaving it is reported by the CLI as
"internal error in <name>" (see ``reconciler.cli``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import click

from reconciler.config.heap import gc_paused
from reconciler.config.lint.paths import OUTSIDE
from reconciler.config.lint.run import check
from reconciler.config.load import LoadedConfig, load_config
from reconciler.errors import ConfigError, Diagnostic, SecretsError, Severity, stage
from reconciler.reconcile.changes import Blocker, Plan
from reconciler.reconcile.desired import desired_channel
from reconciler.reconcile.observe import Session, observe_all
from reconciler.reconcile.plan import make_plan
from reconciler.secrets.redact import redact


def load_valid_config(config_dir: str) -> LoadedConfig:
    """Load and lint; any error stops here with every diagnostic (nothing is contacted)."""
    config, diagnostics = checked_config(config_dir)
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    for allowed in (d for d in diagnostics if d.rule == OUTSIDE and not errors):
        # A path outside the config dir that spec.allowOutside permits is said on every plan and apply.
        click.echo(redact(allowed.format()), err=True)
    if errors:
        raise ConfigError(
            f"{len(errors)} problem(s) in {config_dir}; nothing was contacted",
            sorted(errors),
            hint=f"run `smsops validate {config_dir}` for details",
        )
    return config


def checked_config(
    config_dir: str, *, overlay: Mapping[str, str | None] | None = None
) -> tuple[LoadedConfig, list[Diagnostic]]:
    """The loaded config and every diagnostic of loading and linting it (``overlay``: drafts read in
    place of files, see ``load_config``)."""
    with gc_paused():  # the config and what lint builds live as long as the command (see gc_paused)
        with stage("load"):
            config, diagnostics = load_config(config_dir, overlay=overlay)
        with stage("validate"):
            return config, [*diagnostics, *check(config)]


def compute_plan(session: Session, *, config_dir: str, now: datetime | None = None) -> Plan:
    with stage("plan"):
        desired = [desired_channel(session.config, located) for located in session.channels]
    with stage("observe"):
        observed = observe_all(session, desired)
    with stage("plan"):
        plan = make_plan(zip(desired, observed, strict=True), config_dir=config_dir, now=now or datetime.now(UTC))
    return block_unopened(plan, session)


def block_unopened(plan: Plan, session: Session) -> Plan:
    """``plan`` with each channel the session could not open blocked by why (its secrets could not be
    read) and what to do about it; its changes stay, so apply lists them as skipped. A channel not
    in the plan is left out."""
    if not session.unopened:
        return plan
    channels = []
    for channel in plan.channels:
        error = session.unopened.get(channel.channel)
        if error is not None:
            code = "secrets-failed" if isinstance(error, SecretsError) else "lease-unavailable"
            blocker = Blocker(channel=channel.channel, code=code, message=error.message, hint=error.hint)
            channel = channel.model_copy(update={"blockers": (blocker,)})
        channels.append(channel)
    return plan.model_copy(update={"channels": tuple(channels)})
