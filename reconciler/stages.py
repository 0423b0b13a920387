"""Stage wiring shared by commands: load+validate, then desired state and observation per channel."""

from __future__ import annotations

from datetime import UTC, datetime

from reconciler.changes import Plan
from reconciler.errors import ConfigError, Severity
from reconciler.load import LoadedConfig, load_config
from reconciler.observe import Session, observe_all


def load_valid_config(config_dir: str) -> LoadedConfig:
    """Load and lint; any error stops here with every diagnostic (nothing is contacted)."""
    from reconciler.lint import check

    config, diagnostics = load_config(config_dir)
    diagnostics = [*diagnostics, *check(config)]
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    if errors:
        raise ConfigError(
            f"{len(errors)} problem(s) in {config_dir}; nothing was contacted",
            sorted(errors),
            hint=f"run `smsops validate {config_dir}` for details",
        )
    return config


def compute_plan(session: Session, *, config_dir: str, now: datetime | None = None) -> Plan:
    from reconciler.desired import desired_channel
    from reconciler.plan import make_plan

    desired = [desired_channel(session.config, located) for located in session.channels]
    observed = observe_all(session, desired)
    return make_plan(zip(desired, observed, strict=True), config_dir=config_dir, now=now or datetime.now(UTC))
