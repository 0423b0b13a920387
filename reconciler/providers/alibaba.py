"""Alibaba Cloud SMS (dysmsapi 2017-05-25) through the official SDK.

The numberings and codes it translates live in ``alibaba_codes``. Business errors come back as
HTTP 200 with ``Code != "OK"``; gateway errors as 4xx/5xx exceptions, throttling with an
``x-acs-retry-after`` header (milliseconds), honoured by the retry.

Reads are retried with backoff here; writes are retried only when the failure proves the request was
not processed (throttled, connection refused). A write whose answer was lost (timeout, reset, 5xx)
raises ``ResponseLost``: the caller re-observes instead of creating a duplicate.
"""

from __future__ import annotations

import json
import math
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.errors import ProviderError
from reconciler.providers import alibaba_codes as codes
from reconciler.providers import alibaba_listing as listing
from reconciler.providers._support import failure, missing_sdk, split_endpoint, utcnow, was_not_sent
from reconciler.providers.base import (
    DeliveryReport,
    DeliveryState,
    ObservedSignature,
    ObservedTemplate,
    ReviewStatus,
    SendReceipt,
    SendRequest,
    TemplateKind,
    TemplateRequest,
)
from reconciler.providers.pacing import Pacer, RetryPolicy, Sleep, retry
from reconciler.redact import register_secret

if TYPE_CHECKING:
    from collections.abc import Callable

    from reconciler.load import Located
    from reconciler.model.resources import Channel
    from reconciler.secrets import ChannelSecrets

PROVIDER = "alibaba"
DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com"
DEFAULT_REGION = "cn-hangzhou"
PAGE_SIZE = 50  # GetSmsTemplateList page (the list APIs' maximum; the SDK default is 10)
PARALLEL_PAGES = 4  # list requests in flight at once (the pacer still caps the rate)
# The tags smsops reads back: the rollout marks (see reconciler.plan.LIVE_TAG).
MARK_KEYS = ("smsops-live", "smsops-gate", "smsops-removed")


class AlibabaProvider:
    """One Alibaba SMS account and signature. Construct with plain values (tests, sandbox) or via
    ``open_channel`` from a Channel resource."""

    name = PROVIDER

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        endpoint: str = DEFAULT_ENDPOINT,
        region: str = DEFAULT_REGION,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 15.0,
        pacer: Pacer | None = None,
        retry_policy: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        try:
            from alibabacloud_dysmsapi20170525 import models
            from alibabacloud_dysmsapi20170525.client import Client
            from alibabacloud_tea_openapi.models import Config
            from darabonba.runtime import RuntimeOptions  # type: ignore[import-untyped]
        except ImportError as exc:
            raise missing_sdk(
                PROVIDER, exc.name or "alibabacloud_dysmsapi20170525", "alibabacloud-dysmsapi20170525"
            ) from None
        register_secret(access_key_secret)
        host, protocol = split_endpoint(endpoint)
        timeouts = {"connect_timeout": int(connect_timeout_s * 1000), "read_timeout": int(read_timeout_s * 1000)}
        config = Config(
            access_key_id=access_key_id,
            access_key_secret=access_key_secret,
            endpoint=host,
            protocol=protocol,
            region_id=region,
            **timeouts,
        )
        self._client = Client(config)
        self._m = models
        self._runtime = RuntimeOptions(autoretry=False, **timeouts)
        self.sign_name = sign_name
        self.region = region
        self.endpoint = f"{protocol}://{host}"
        self._pacer = pacer or Pacer(PROVIDER, sleep=sleep)
        self._retry = retry_policy or RetryPolicy.from_env()
        self._sleep = sleep
        self._now = now

    # -- transport -------------------------------------------------------------------------------

    def _call(self, operation: str, method: str, request: Any, *, write: bool) -> Any:
        invoke = getattr(self._client, f"{method}_with_options")

        def once() -> Any:
            self._pacer.acquire(operation)
            try:
                response = invoke(request, self._runtime)
            except Exception as exc:  # every SDK failure becomes a ProviderError
                raise self._map_exception(operation, exc, write=write) from None
            body = response.body
            if body.code != "OK":
                raise self._business_error(operation, body.code, body.message, body.request_id, write=write)
            return body

        return retry(once, self._retry, sleep=self._sleep)

    def _business_error(
        self, operation: str, code: str | None, message: str | None, request_id: str | None, *, write: bool
    ) -> ProviderError:
        code = code or "Unknown"
        retryable = code.startswith("Throttling") or code in codes.RETRYABLE_CODES
        extra = {"limited": "per-number"} if code == codes.LIMITED_CODE else {}
        # A system error on a write says nothing about whether the write happened.
        lost = write and code in codes.RETRYABLE_CODES
        return failure(
            self.name,
            operation,
            code,
            message or "",
            retryable=retryable,
            request_id=request_id or "",
            extra=extra,
            hint=codes.hint(code),
            lost=lost,
        )

    def _map_exception(self, operation: str, exc: Exception, *, write: bool) -> ProviderError:
        from alibabacloud_tea_openapi.exceptions import AlibabaCloudException, ServerException, ThrottlingException

        if isinstance(exc, AlibabaCloudException):
            data = exc.data if isinstance(exc.data, dict) else {}
            code = str(data.get("Code") or exc.code or "Unknown")
            status = int(exc.status_code or 0)
            message = str(data.get("Message") or exc.message or "")
            request_id = str(data.get("RequestId") or exc.request_id or "")
            throttled = isinstance(exc, ThrottlingException) or code.startswith("Throttling")
            server = isinstance(exc, ServerException) or status >= 500
            extra = {"http_status": str(status)}
            if exc.retry_after:
                extra["retry_after_s"] = str(int(exc.retry_after) / 1000)
            if code == codes.LIMITED_CODE:
                extra["limited"] = "per-number"
            return failure(
                self.name,
                operation,
                code,
                message,
                retryable=throttled or server,
                request_id=request_id,
                extra=extra,
                hint=codes.hint(code),
                lost=write and server and not throttled,
            )
        inner = getattr(exc, "inner_exception", None) or exc
        text = f"{type(inner).__name__}: {inner}"
        if type(inner).__name__ in ("RetryError", "ConnectionError", "Timeout", "OSError") or isinstance(
            inner, OSError
        ):
            not_sent = was_not_sent(text)
            code = "ConnectionRefused" if not_sent else ("Timeout" if "timed out" in text else "ConnectionError")
            return failure(
                self.name,
                operation,
                code,
                text,
                retryable=True,
                lost=write and not not_sent,
                hint="" if write else f"is the endpoint {self.endpoint} reachable?",
            )
        return failure(self.name, operation, type(inner).__name__, str(inner), retryable=False)

    # -- observe ---------------------------------------------------------------------------------

    def list_templates(self) -> list[ObservedTemplate]:
        # One GetSmsTemplateList listing gives templates and their marks (see alibaba_listing). The
        # mark probes and the pages after the first are fetched concurrently (the pacer still holds
        # each operation to its rate); then one GetSmsTemplate per template the listing cannot
        # describe exactly (rejected, or not named by smsops).
        with ThreadPoolExecutor(max_workers=PARALLEL_PAGES, thread_name_prefix="alibaba-list") as pool:
            probes = {key: pool.submit(self._tag_page, key, None) for key in MARK_KEYS}
            first = self._list_page(1)
            pages = [first, *pool.map(self._list_page, range(2, math.ceil(_total(first) / PAGE_SIZE) + 1))]
            items: dict[str, Any] = {}
            for data in pages:
                for item in _items(data):
                    items.setdefault(item.template_code, item)
            # Templates created while listing shift later items onto a page not yet read: read on.
            page = len(pages)
            while len(_items(pages[-1])) == PAGE_SIZE and len(items) < _total(pages[-1]):
                page += 1
                pages.append(self._list_page(page))
                for item in _items(pages[-1]):
                    items.setdefault(item.template_code, item)
            resolved = {code: listing.resolve(item) for code, item in items.items()}
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
        return [
            self._observed(item, resolved[code], details.get(code), tags.get(code, {})) for code, item in items.items()
        ]

    def _list_page(self, page: int) -> Any:
        request = self._m.GetSmsTemplateListRequest(page_index=page, page_size=PAGE_SIZE)
        return self._call("GetSmsTemplateList", "get_sms_template_list", request, write=False).data

    def _detail(self, code: str) -> listing.Detail:
        request = self._m.GetSmsTemplateRequest(template_code=code)
        return listing.detail(self._call("GetSmsTemplate", "get_sms_template", request, write=False))

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
                self.name,
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
        request = self._m.ListTagResourcesRequest(
            region_id=self.region,
            resource_type="TEMPLATE",
            prod_code="dysms",
            tag=[self._m.ListTagResourcesRequestTag(key=key)],
            page_size=50,
            next_token=token,
        )
        body = self._call("ListTagResources", "list_tag_resources", request, write=False)
        found = (body.tag_resources.tag_resource if body.tag_resources else None) or []
        entries = [(e.resource_id, e.tag_value or "") for e in found if e.tag_key == key]
        return entries, body.next_token or None

    def get_signature(self) -> ObservedSignature | None:
        request = self._m.GetSmsSignRequest(sign_name=self.sign_name)
        try:
            body = self._call("GetSmsSign", "get_sms_sign", request, write=False)
        except ProviderError as error:
            if error.code in codes.SIGN_MISSING or error.code.endswith(("NOT_EXIST", "NotFound", "NOT_FOUND")):
                return None
            raise
        reason = body.audit_info.reject_info if body.audit_info is not None else ""
        return ObservedSignature(
            name=body.sign_name or self.sign_name,
            status=codes.STATUS.get(codes.as_int(body.sign_status), ReviewStatus.PENDING),
            reason=reason or "",
        )

    # -- change ----------------------------------------------------------------------------------

    def _template_fields(self, request: TemplateRequest) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "template_name": request.name,
            "template_content": request.content,
            "remark": request.remark or None,
            "template_rule": json.dumps(request.variable_types, ensure_ascii=False) if request.variable_types else None,
        }
        if request.international:
            fields.update(template_type=codes.INTERNATIONAL_TYPE, intl_type=codes.INTL_TYPE[request.kind])
        else:
            # The related sign speeds review and is required for domestic types.
            fields.update(template_type=codes.CREATE_TYPE[request.kind], related_sign_name=self.sign_name)
        return fields

    def create_template(self, request: TemplateRequest) -> str:
        body = self._call(
            "CreateSmsTemplate",
            "create_sms_template",
            self._m.CreateSmsTemplateRequest(**self._template_fields(request)),
            write=True,
        )
        return str(body.template_code)

    def update_template(self, code: str, request: TemplateRequest) -> None:
        self._call(
            "UpdateSmsTemplate",
            "update_sms_template",
            self._m.UpdateSmsTemplateRequest(template_code=code, **self._template_fields(request)),
            write=True,
        )

    def delete_template(self, code: str) -> None:
        self._call(
            "DeleteSmsTemplate", "delete_sms_template", self._m.DeleteSmsTemplateRequest(template_code=code), write=True
        )

    def set_tags(self, code: str, tags: dict[str, str]) -> None:
        """Add or overwrite these tag keys on a template; other keys are left as they are."""
        if not tags:
            return
        request = self._m.TagResourcesRequest(
            region_id=self.region,
            resource_type="TEMPLATE",
            prod_code="dysms",
            resource_id=[code],
            tag=[self._m.TagResourcesRequestTag(key=k, value=v) for k, v in sorted(tags.items())],
        )
        self._call("TagResources", "tag_resources", request, write=True)

    # -- send ------------------------------------------------------------------------------------

    def send(self, request: SendRequest) -> SendReceipt:
        """One message. A provider refusal of this message (``isv.*`` in the reply, e.g. the
        per-number limit ``isv.BUSINESS_LIMIT_CONTROL``) is a receipt with ``accepted=False``;
        failures of the call itself (auth, throttling, transport) raise."""
        if request.dry_run:
            raise failure(self.name, "SendSms", "DryRunUnsupported", "Alibaba SMS has no dry-run send", retryable=False)
        sms = self._m.SendSmsRequest(
            phone_numbers=request.phone_number.lstrip("+"),
            sign_name=self.sign_name,
            template_code=request.template_code,
            template_param=json.dumps(request.params, ensure_ascii=False) if request.params else None,
        )
        sent_at = self._now()
        try:
            body = self._call("SendSms", "send_sms", sms, write=True)
        except ProviderError as error:
            if error.code.startswith("isv."):
                return SendReceipt(
                    phone_number=request.phone_number,
                    message_id="",
                    sent_at=sent_at,
                    accepted=False,
                    code=error.code,
                    message=error.failure.message,
                )
            raise
        return SendReceipt(
            phone_number=request.phone_number,
            message_id=str(body.biz_id),
            sent_at=sent_at,
            code="OK",
            message=body.message or "",
        )

    def query_delivery(self, receipt: SendReceipt) -> DeliveryReport:
        if not receipt.accepted or not receipt.message_id:
            return DeliveryReport(
                phone_number=receipt.phone_number,
                message_id=receipt.message_id,
                state=DeliveryState.FAILED,
                code=receipt.code,
                description=receipt.message,
            )
        request = self._m.QuerySendDetailsRequest(
            phone_number=receipt.phone_number.lstrip("+"),
            send_date=receipt.sent_at.astimezone(codes.BEIJING).strftime("%Y%m%d"),
            biz_id=receipt.message_id,
            page_size=10,
            current_page=1,
        )
        body = self._call("QuerySendDetails", "query_send_details", request, write=False)
        details = (body.sms_send_detail_dtos.sms_send_detail_dto if body.sms_send_detail_dtos else None) or []
        if not details:  # the record appears only once the carrier pipeline has it
            return DeliveryReport(
                phone_number=receipt.phone_number, message_id=receipt.message_id, state=DeliveryState.WAITING
            )
        detail = details[0]
        return DeliveryReport(
            phone_number=receipt.phone_number,
            message_id=receipt.message_id,
            state=codes.SEND_STATUS.get(codes.as_int(detail.send_status), DeliveryState.WAITING),
            code=detail.err_code or "",
            description=str(detail.receive_date or ""),
        )

    def close(self) -> None:
        """Nothing to release: the SDK keeps a process-wide connection pool."""


def _items(data: Any) -> list[Any]:
    return list(data.list or []) if data is not None else []


def _total(data: Any) -> int:
    return int(data.total or 0) if data is not None else 0


def open_channel(
    channel: Located[Channel], secrets: ChannelSecrets, *, state_dir: Path | None = None
) -> AlibabaProvider:
    spec = channel.resource.spec
    return AlibabaProvider(
        access_key_id=secrets.access_key_id.get_secret_value(),
        access_key_secret=secrets.access_key_secret.get_secret_value(),
        sign_name=spec.signature.name,
        endpoint=spec.endpoint or DEFAULT_ENDPOINT,
        region=spec.region or DEFAULT_REGION,
    )
