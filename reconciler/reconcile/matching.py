"""Which provider template is a version of which template in git: the one rule that plan, status,
wait, test-send, import, the console and export share, so that none of them calls a version live
that another calls unregistered.

A provider template is a version of a template in git when
- its code is the template's ``adopt`` code;
- smsops named it ``<name>~<fingerprint>`` with the template's name;
- it is a version of the template's earlier name. A rename keeps the live code, whose provider-side
  name stays ``<old name>~<fingerprint>``: matching on that name alone calls the renamed template's
  live version "not registered". The earlier name is ``metadata.renamedFrom``; else a rename
  applied before (the live version's ``smsops-renamed`` mark names its old name, and the published
  config names its code under the new one), which still holds once ``renamedFrom`` is removed and
  the new name has versions of its own; else a rename without ``renamedFrom`` (a template new in
  git whose content is the live version of a name no longer in git).
Anything else smsops named belongs to a name no longer in git; what it did not name is unmanaged.

Only templates the channel may touch are matched (``group_owned``, ``reconcile.owner``): another
channel's or config repository's version of the same name on a shared account is never this
channel's version, live or otherwise, for any of the commands above.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from reconciler.content.identity import parse_provider_name
from reconciler.providers.base import ObservedTemplate, ReviewStatus
from reconciler.reconcile.changes import ChannelObservation, DesiredChannel, DesiredTemplate
from reconciler.reconcile.owner import split_owned
from reconciler.reconcile.rollout import LIVE, RENAMED
from reconciler.reconcile.versions import created_order, live_version


@dataclass(frozen=True)
class TemplateMatch:
    """One template in git and the provider's versions of it. ``current``: the version registered
    for the content in git (None: not registered yet); ``live``: the one the application uses."""

    versions: list[ObservedTemplate] = field(default_factory=list)
    current: ObservedTemplate | None = None
    live: ObservedTemplate | None = None


def match_templates(desired: DesiredChannel, observed: ChannelObservation) -> dict[str, TemplateMatch]:
    """Every template of ``desired`` (by name) with its versions, current and live version, from one
    observation; the same answers ``plan`` reaches."""
    by_name, _, _ = group_owned(desired, observed)
    published = observed.published or {}
    found: dict[str, TemplateMatch] = {}
    for template in desired.templates:
        versions = by_name.get(template.name, [])
        named = published.get(template.name) or published.get(template.renamed_from, "")
        live = live_version(versions, observed.tags_supported, template.adopt_code, named)
        found[template.name] = TemplateMatch(versions, current_version(template, versions), live)
    return found


def group_owned(
    desired: DesiredChannel, observed: ChannelObservation
) -> tuple[dict[str, list[ObservedTemplate]], list[ObservedTemplate], tuple[ObservedTemplate, ...]]:
    """``versions_by_template`` over the templates this channel may touch (``owner.split_owned``),
    the one grouping plan and ``match_templates`` share. Returns the groups, the unmanaged templates
    and the smsops-named ones of other channels or repositories (foreign: left alone)."""
    usable, foreign = split_owned(desired, observed)
    by_name, unmanaged = versions_by_template(desired, usable, observed.published)
    return by_name, unmanaged, foreign


def versions_by_template(
    desired: DesiredChannel, seen: Iterable[ObservedTemplate], published: Mapping[str, str] | None = None
) -> tuple[dict[str, list[ObservedTemplate]], list[ObservedTemplate]]:
    """The provider's templates grouped by the name in git they are versions of (see the module
    docstring; ``published``: name -> code as the channel's published config has it), and those
    smsops did not name (unmanaged). Names no longer in git keep their own group."""
    by_name: dict[str, list[ObservedTemplate]] = {}
    unmanaged: list[ObservedTemplate] = []
    adopted_codes = {t.adopt_code: t.name for t in desired.templates if t.adopt_code}
    wanted = {t.name for t in desired.templates}
    for template in seen:
        identity = parse_provider_name(template.name)
        if template.code in adopted_codes:
            by_name.setdefault(adopted_codes[template.code], []).append(template)
        elif identity is None:
            unmanaged.append(template)
        else:
            by_name.setdefault(identity.name, []).append(template)
    for new in desired.templates:
        old = (
            new.renamed_from
            or _marked_rename(new, by_name, wanted, published or {})
            or _detected_rename(new, by_name, wanted)
        )
        if old and old not in wanted and old in by_name:
            by_name.setdefault(new.name, []).extend(by_name.pop(old))
    return by_name, unmanaged


def _marked_rename(
    template: DesiredTemplate,
    by_name: dict[str, list[ObservedTemplate]],
    wanted: set[str],
    published: Mapping[str, str],
) -> str:
    """A rename applied before: the name no longer in git whose version the published config names
    under this template's name, marked as renamed from that name."""
    code = published.get(template.name)
    if not code:
        return ""
    return next(
        (
            name
            for name, versions in by_name.items()
            if name not in wanted
            and any(v.code == code and v.tags.get(RENAMED, "").partition(" ")[2] == name for v in versions)
        ),
        "",
    )


def _detected_rename(template: DesiredTemplate, by_name: dict[str, list[ObservedTemplate]], wanted: set[str]) -> str:
    """A template new in git whose exact content is the live version of one no longer in git: a
    rename without ``renamedFrom`` (unambiguous only: exactly one such name)."""
    if template.name in by_name:
        return ""
    found = [
        name
        for name, versions in by_name.items()
        if name not in wanted
        and any(
            v.status is ReviewStatus.APPROVED
            and v.tags.get(LIVE)
            and (i := parse_provider_name(v.name)) is not None
            and i.fingerprint == template.fingerprint
            for v in versions
        )
    ]
    return found[0] if len(found) == 1 else ""


def current_version(template: DesiredTemplate, versions: list[ObservedTemplate]) -> ObservedTemplate | None:
    """The version registered for the content in git: the oldest with its provider-side name (two
    applies at once may have registered it twice: every plan keeps the same one), else the oldest
    with its fingerprint under an earlier name (a rename), else the adopted template when it says
    the same; None: this content is not there."""
    request = template.request
    same = [v for v in versions if (i := parse_provider_name(v.name)) and i.fingerprint == template.fingerprint]
    exact = [v for v in same if v.name == request.name]
    current = min(exact or same, key=created_order, default=None)
    adopted = next((v for v in versions if template.adopt_code and v.code == template.adopt_code), None)
    if current is None and adopted is not None and (adopted.content, adopted.kind) == (request.content, request.kind):
        return adopted
    return current
