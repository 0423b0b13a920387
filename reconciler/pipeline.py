"""Stage wiring shared by commands: load+validate, then desired state and observation per channel."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

from reconciler.errors import ConfigError, Diagnostic, Severity

if TYPE_CHECKING:  # imported where used: the config worker is forked before they are (see load_valid_config)
    from reconciler.config.load import LoadedConfig
    from reconciler.reconcile.changes import Plan
    from reconciler.reconcile.observe import Session


def load_valid_config(config_dir: str) -> LoadedConfig:
    """Load and lint; any error stops here with every diagnostic (nothing is contacted).

    Every caller goes on to open provider channels, so the config is checked in a forked worker
    while this process imports what observing takes: the SDKs of the providers the channel files
    name, and the plan modules (``reconciler.overlap``; measured on ``benchmarks/bench_plan.py``)."""
    from reconciler.config.heap import gc_paused
    from reconciler.overlap import in_worker

    with gc_paused():  # modules and the config: objects that live as long as the process (see gc_paused)
        config, diagnostics = in_worker(partial(_checked_ahead, config_dir), partial(_prefetch, config_dir))
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    if errors:
        raise ConfigError(
            f"{len(errors)} problem(s) in {config_dir}; nothing was contacted",
            sorted(errors),
            hint=f"run `smsops validate {config_dir}` for details",
        )
    return config


def checked_config(config_dir: str) -> tuple[LoadedConfig, list[Diagnostic]]:
    """The loaded config and every diagnostic of loading and linting it."""
    from reconciler.config.lint.run import check
    from reconciler.config.load import load_config

    config, diagnostics = load_config(config_dir)
    return config, [*diagnostics, *check(config)]


def _checked_ahead(config_dir: str) -> tuple[LoadedConfig, list[Diagnostic]]:
    """``checked_config`` and, when it has no errors, each channel's desired state, kept on the config
    (the worker has time to spare while this process imports SDKs, and every caller needs them). One
    that cannot be computed is left for the caller to compute, and report, as it would anyway."""
    config, diagnostics = checked_config(config_dir)
    if not any(d.severity is Severity.ERROR for d in diagnostics):
        from reconciler.reconcile.desired import desired_channel

        try:
            for located in config.channels:
                desired_channel(config, located)
        except ConfigError:
            pass
    return config, diagnostics


def _prefetch(config_dir: str) -> None:
    # imported now, used by every caller next
    from reconciler.providers.registry import prefetch
    from reconciler.reconcile import desired, observe, plan  # noqa: F401
    from reconciler.render import plan as render_plan  # noqa: F401

    prefetch(config_dir)


def compute_plan(session: Session, *, config_dir: str, now: datetime | None = None) -> Plan:
    from reconciler.reconcile.desired import desired_channel
    from reconciler.reconcile.observe import observe_all
    from reconciler.reconcile.plan import make_plan

    desired = [desired_channel(session.config, located) for located in session.channels]
    observed = observe_all(session, desired)
    return make_plan(zip(desired, observed, strict=True), config_dir=config_dir, now=now or datetime.now(UTC))
