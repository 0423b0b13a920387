"""Observing an Alibaba account: templates with their marks from one paged listing, and the
signature."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from reconciler.providers._support import failure
from reconciler.providers.alibaba import codes, listing
from reconciler.providers.alibaba.signatures import read_sign
from reconciler.providers.alibaba.transport import AlibabaTransport
from reconciler.providers.base import ObservedSignature, ObservedTemplate, ReviewStatus, TemplateKind

PAGE_SIZE = 50  # GetSmsTemplateList page (the list APIs' maximum; the SDK default is 10)
PARALLEL_PAGES = 8  # list requests in flight at once (the pacer still caps the rate)
# The tags smsops reads back: the rollout marks (see reconciler.reconcile.rollout).
MARK_KEYS = ("smsops-live", "smsops-gate", "smsops-removed", "smsops-owner")


class AlibabaObserver:
    """The read side of ``AlibabaProvider``: every request goes through the transport it is given."""

    def __init__(self, transport: AlibabaTransport) -> None:
        self.transport = transport

    def list_templates(self) -> list[ObservedTemplate]:
        return self._read(signature=False)[1]

    def read_whole(self) -> tuple[ObservedSignature | None, list[ObservedTemplate]]:
        return self._read(signature=True)

    def _read(self, *, signature: bool) -> tuple[ObservedSignature | None, list[ObservedTemplate]]:
        # One GetSmsTemplateList listing gives templates and their marks (see listing.py).
        # The first page is read alone (it gives the count, and a first request to an endpoint
        # goes alone anyway, see transport.py); then the signature, the mark probes and the
        # other pages are fetched concurrently (the pacer still holds each operation to its rate),
        # each page read here as it arrives; then one GetSmsTemplate per template the listing
        # cannot describe exactly (rejected, or not named by smsops).
        with ThreadPoolExecutor(max_workers=PARALLEL_PAGES, thread_name_prefix="alibaba-list") as pool:
            first = self._list_page(1)
            sign = pool.submit(self.get_signature) if signature else None
            probes = {key: pool.submit(self._tag_page, key, None) for key in MARK_KEYS}
            read = _Listing()
            read.take(first)
            for data in pool.map(self._list_page, range(2, math.ceil(_total(first) / PAGE_SIZE) + 1)):
                read.take(data)
            # Templates created while listing shift later items onto a page not yet read: read on.
            while len(_items(read.last)) == PAGE_SIZE and len(read.items) < _total(read.last):
                read.take(self._list_page(read.pages + 1))
            items, resolved = read.items, read.resolved
            wanted = [
                code
                for code, item in items.items()
                if resolved[code] is None or listing.listed_status(item) is ReviewStatus.REJECTED
            ]
            details = dict(zip(wanted, pool.map(self._detail, wanted), strict=True))
            tags = {code: listing.listed_tags(item, MARK_KEYS) for code, item in items.items()}
            seen = set(items)
            for key, probe in probes.items():
                entries, token = probe.result()
                if not listing.marks_agree(key, entries, token is None, tags, seen):
                    tags = self._list_tags()
                    break
            observed_signature = sign.result() if sign is not None else None
        return observed_signature, [
            self._observed(item, resolved[code], details.get(code), tags.get(code, {})) for code, item in items.items()
        ]

    def _list_page(self, page: int) -> Any:
        request = self.transport.models.GetSmsTemplateListRequest(page_index=page, page_size=PAGE_SIZE)
        return self.transport.call("GetSmsTemplateList", "get_sms_template_list", request, write=False).data

    def _detail(self, code: str) -> listing.Detail:
        request = self.transport.models.GetSmsTemplateRequest(template_code=code)
        return listing.detail(self.transport.call("GetSmsTemplate", "get_sms_template", request, write=False))

    def _observed(
        self,
        item: Any,
        resolved: tuple[TemplateKind, bool] | None,
        detail: listing.Detail | None,
        tags: dict[str, str],
    ) -> ObservedTemplate:
        if detail is not None:
            kind, international = detail.kind, detail.international
        elif resolved is not None:
            kind, international = resolved
        else:  # unreachable: every unresolved template was read with GetSmsTemplate
            kind, international = None, False
        if kind is None:
            raise failure(
                self.transport.name,
                "GetSmsTemplate",
                "UnknownTemplateType",
                f"template {item.template_code} has a template type smsops does not know",
                retryable=False,
            )
        return ObservedTemplate(
            code=item.template_code,
            name=item.template_name or "",
            content=item.template_content or "",
            kind=kind,
            international=international,
            status=listing.listed_status(item),
            reason=detail.reason if detail is not None else "",
            remark=detail.remark if detail is not None else "",
            created_at=codes.beijing_time(item.gmt_create),
            tags=tags,
        )

    def _list_tags(self) -> dict[str, dict[str, str]]:
        """smsops' marks, by template code. Filtered by tag key rather than by template code, so the
        cost is one call per 50 marked templates, not one per 20 templates."""
        tags: dict[str, dict[str, str]] = {}
        for key in MARK_KEYS:
            token: str | None = None
            while True:
                entries, token = self._tag_page(key, token)
                for code, value in entries:
                    tags.setdefault(code, {})[key] = value
                if token is None:
                    break
        return tags

    def _tag_page(self, key: str, token: str | None) -> tuple[list[tuple[str, str]], str | None]:
        """One page of the templates tagged ``key``: (code, value) pairs and the next token."""
        request = self.transport.models.ListTagResourcesRequest(
            region_id=self.transport.region,
            resource_type="TEMPLATE",
            prod_code="dysms",
            tag=[self.transport.models.ListTagResourcesRequestTag(key=key)],
            page_size=50,
            next_token=token,
        )
        body = self.transport.call("ListTagResources", "list_tag_resources", request, write=False)
        found = (body.tag_resources.tag_resource if body.tag_resources else None) or []
        entries = [(e.resource_id, e.tag_value or "") for e in found if e.tag_key == key]
        return entries, body.next_token or None

    def get_signature(self) -> ObservedSignature | None:
        return read_sign(self.transport, self.transport.sign_name)


class _Listing:
    """The pages of one listing read so far: the first item seen for each code, resolved."""

    def __init__(self) -> None:
        self.items: dict[str, Any] = {}
        self.resolved: dict[str, tuple[TemplateKind, bool] | None] = {}
        self.pages = 0
        self.last: Any = None

    def take(self, data: Any) -> None:
        self.pages += 1
        self.last = data
        for item in _items(data):
            if item.template_code not in self.items:
                self.items[item.template_code] = item
                self.resolved[item.template_code] = listing.resolve(item)


def _items(data: Any) -> list[Any]:
    return list(data.list or []) if data is not None else []


def _total(data: Any) -> int:
    return int(data.total or 0) if data is not None else 0
