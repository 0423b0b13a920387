"""What the channel page shows: the settings as git has them, the keys masked, and the live state.

The live state is what ``status``, ``plan`` and the published config say, computed by their own
code (``channel_status``, ``make_plan``, ``session.documents``) from one observation of the
provider (the two commands observe on their own; a page needs only one); nothing here decides
anything about versions. Invariant: no secret value and no phone number is in a
``ChannelView``: the access key id is masked to its first and last four characters, the secret is
only said to be set, test numbers go through ``mask_phone``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from reconciler.config.load import LoadedConfig, Located
from reconciler.config.models import Channel
from reconciler.errors import SmsopsError
from reconciler.pipeline import block_unopened
from reconciler.providers.traits import traits
from reconciler.reconcile.changes import ChannelPlan
from reconciler.reconcile.desired import desired_channel
from reconciler.reconcile.observe import observe_all, open_session
from reconciler.reconcile.plan import make_plan
from reconciler.reconcile.status import ChannelStatus, channel_status
from reconciler.render.plan import render_text
from reconciler.secrets.redact import mask_phone, redact
from reconciler.secrets.sops import channel_secrets


def mask_key(value: str) -> str:
    """``LTAI5tExampleKey0001`` -> ``LTAI****0001``; a short value shows nothing of itself."""
    return f"{value[:4]}****{value[-4:]}" if len(value) >= 12 else "****"


@dataclass(frozen=True)
class Keys:
    access_key: str = ""  # masked; "" when the channel declares none
    secret_set: bool = False
    recipients: tuple[str, ...] = ()  # masked
    problem: str = ""  # why the SOPS file could not be read (redacted)


def channel_keys(located: Located[Channel]) -> Keys:
    try:
        secrets = channel_secrets(located)
    except SmsopsError as error:
        return Keys(problem=redact(error.message))
    key_id = secrets.access_key_id.get_secret_value()
    return Keys(
        access_key=mask_key(key_id) if key_id else "",
        secret_set=bool(secrets.access_key_secret.get_secret_value()),
        recipients=tuple(mask_phone(r.get_secret_value()) for r in secrets.test_recipients),
    )


@dataclass(frozen=True)
class ChannelView:
    located: Located[Channel]
    provider: str  # display name
    endpoint: str  # as configured, else the provider's default
    keys: Keys
    status: ChannelStatus | None = None
    plan: ChannelPlan | None = None
    plan_text: str = ""
    published: str | None = None  # the published runtime config, as the application reads it
    error: str = ""  # the live state could not be read

    @property
    def channel(self) -> Channel:
        return self.located.resource


def channel_view(config: LoadedConfig, located: Located[Channel], *, live: bool = True) -> ChannelView:
    """The page's data; ``live=False`` reads nothing from the provider (the config has errors)."""
    spec = located.resource.spec
    own = traits(spec.provider)
    view = ChannelView(
        located=located,
        # the embedded sandbox speaks another provider's API: say both
        provider=own.display
        if own.display.lower() == spec.provider.value
        else f"{spec.provider.value} ({own.display} API)",
        endpoint=spec.endpoint or own.endpoint(spec.region) or "",
        keys=channel_keys(located),
    )
    if not live:
        return view
    name = located.resource.name
    try:
        with open_session(config, [name]) as session:
            desired = desired_channel(config, located)
            (observed,) = observe_all(session, [desired])
            now = datetime.now(UTC)
            plan = block_unopened(make_plan([(desired, observed)], config_dir=str(config.root), now=now), session)
            status = channel_status(desired, observed, now=now)
            read = session.documents.get(name)
            published = read() if read is not None else None
    except SmsopsError as error:
        return replace(view, error=redact(error.message))
    return replace(
        view,
        status=status,
        plan=plan.channels[0] if plan.channels else None,
        plan_text=render_text(plan),  # the session holds this channel only
        published=redact(published) if published is not None else None,
    )
