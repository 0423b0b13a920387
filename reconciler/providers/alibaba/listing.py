"""Reading templates from one GetSmsTemplateList listing (pure; no I/O).

GetSmsTemplateList returns each template's tags with it, so a plan needs one call per 50 templates
instead of a template listing plus one tag listing per mark key. What its items lack, and how each
gap is filled (reference/providers.md §1.2, §1.3; SDK ``_get_sms_template_list_response_body.py``):

- The international flag: its ``TemplateType`` is 0 notification, 1 promotional, 2 verification,
  with no international value. For templates smsops named (``<logical>~<fp7>``) the fingerprint in
  the name was computed from (native content, kind, international), so exactly one (kind,
  international) pair reproduces it from the listed content; it must also agree with the listed
  type. Any other template (unmanaged, renamed, or no single pair matches) is read with
  GetSmsTemplate, whose ``TemplateType`` 3 + ``IntlType`` is authoritative: a guessed flag could
  make an adopted international template pass for a domestic one.
- The rejection reason: only GetSmsTemplate's ``AuditInfo.RejectInfo`` has it, so rejected templates
  are read one by one too (there are few).
- Whether its ``TemplateTag`` really carries the resource tags (TagResources) is not stated in the
  public docs. ``marks_agree`` checks the listing against the first ListTagResources page of each mark
  key on every listing (a few calls, not one per 50 marks); on any disagreement the caller reads the
  marks the old way, one key-filtered tag listing per key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconciler.content.identity import fingerprint, parse_provider_name
from reconciler.providers.alibaba import codes
from reconciler.providers.base import ReviewStatus, TemplateKind

# GetSmsTemplateList TemplateType (the IntlType numbering).
LISTED_KIND = codes.FROM_INTL_TYPE


@dataclass(frozen=True)
class Detail:
    """What GetSmsTemplate adds to a listed template."""

    kind: TemplateKind | None
    international: bool
    reason: str
    remark: str = ""


def listed_status(item: Any) -> ReviewStatus:
    return codes.STATUS.get(codes.as_int(item.audit_status), ReviewStatus.PENDING)


def listed_tags(item: Any, keys: tuple[str, ...]) -> dict[str, str]:
    """The item's tags restricted to ``keys`` (smsops reads only its own marks)."""
    return {t.tag_key: t.tag_value or "" for t in item.template_tag or [] if t is not None and t.tag_key in keys}


def resolve(item: Any) -> tuple[TemplateKind, bool] | None:
    """(kind, international) exactly, from the fingerprint in an smsops name; None when it takes a
    GetSmsTemplate (unmanaged name, no single matching pair, or a pair the listed type contradicts)."""
    identity = parse_provider_name(item.template_name or "")
    if identity is None:
        return None
    content = item.template_content or ""
    matches = [
        (kind, international)
        for kind in TemplateKind
        for international in (False, True)
        if fingerprint(content, kind.value, international) == identity.fingerprint
    ]
    if len(matches) != 1:
        return None
    kind, international = matches[0]
    if LISTED_KIND.get(codes.as_int(item.template_type)) is not kind:
        return None
    return kind, international


def detail(body: Any) -> Detail:
    """GetSmsTemplate's answer: TemplateType (0 verification, 1 notification, 2 promotional,
    3 international + IntlType) and the rejection text."""
    outer = codes.as_int(body.template_type)
    international = outer == codes.INTERNATIONAL_TYPE
    if international:
        kind = codes.FROM_INTL_TYPE.get(codes.as_int(body.intl_type) if body.intl_type is not None else -1)
    else:
        kind = codes.OUTER_TYPE.get(outer)
    reason = body.audit_info.reject_info if body.audit_info is not None else ""
    return Detail(kind=kind, international=international, reason=reason or "", remark=body.remark or "")


def marks_agree(
    key: str, probe: list[tuple[str, str]], complete: bool, listed: dict[str, dict[str, str]], codes_seen: set[str]
) -> bool:
    """Whether one ListTagResources page for ``key`` (resource id, value) matches the listing's tags
    for the templates both saw. With the whole key read (``complete``), the listing must also carry
    no ``key`` mark the tag API lacks. A disagreement may also be a mark set between the two reads:
    either way the caller re-reads the marks the old way, which is never wrong."""
    probed = {code: value for code, value in probe if code in codes_seen}
    if any(listed.get(code, {}).get(key) != value for code, value in probed.items()):
        return False
    if complete:
        return all(code in probed for code, marks in listed.items() if key in marks)
    return True
