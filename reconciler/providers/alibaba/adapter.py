"""Alibaba Cloud SMS (dysmsapi 2017-05-25) through the official SDK.

The numberings and codes it translates live in ``alibaba_codes``. Business errors come back as
HTTP 200 with ``Code != "OK"``; gateway errors as 4xx/5xx exceptions, throttling with an
``x-acs-retry-after`` header (milliseconds), honoured by the retry.

Reads are retried with backoff; writes are retried only when the failure proves the request was
not processed (throttled, connection refused). A write whose answer was lost (timeout, reset, 5xx)
raises ``ResponseLost``: the caller re-observes instead of creating a duplicate.

The connection, its retries and error mapping live in ``alibaba_transport``; listing and observing
in ``alibaba_observe``; this module adds the writes and sends and stays the public import path.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.errors import ErrorKind, ProviderError
from reconciler.providers._support import failure
from reconciler.providers.alibaba import codes
from reconciler.providers.alibaba.observe import MARK_KEYS, PAGE_SIZE, PARALLEL_PAGES, AlibabaObserver
from reconciler.providers.alibaba.traits import TRAITS
from reconciler.providers.alibaba.transport import DEFAULT_ENDPOINT, DEFAULT_REGION, PROVIDER
from reconciler.providers.base import (
    DeliveryReport,
    DeliveryState,
    NumberLimit,
    PastSend,
    SendReceipt,
    SendRequest,
    TemplateKind,
    TemplateRequest,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from reconciler.config.load import Located
    from reconciler.config.models import Channel
    from reconciler.content.parse import ParsedContent
    from reconciler.secrets.sops import ChannelSecrets

# QuerySendDetails pages hold at most 50. A number with more than 500 sends in one day is far past
# every per-number limit and not a test number: the cap bounds the calls, not the pacing.
HISTORY_PAGE_SIZE = 50
HISTORY_MAX_PAGES = 10


__all__ = [
    "DEFAULT_ENDPOINT",
    "DEFAULT_REGION",
    "MARK_KEYS",
    "PAGE_SIZE",
    "PARALLEL_PAGES",
    "PROVIDER",
    "AlibabaProvider",
    "open_channel",
]


class AlibabaProvider(AlibabaObserver):
    """One Alibaba SMS account and signature. Construct with plain values (tests, sandbox) or via
    ``open_channel`` from a Channel resource."""

    name = PROVIDER
    dry_run_by_default = TRAITS.test_send_dry_run

    def number_limits(self, kind: TemplateKind) -> tuple[NumberLimit, ...]:
        return TRAITS.number_limits(kind.value)

    def send_parameters(self, parsed: ParsedContent, values: Mapping[str, str]) -> dict[str, str]:
        """``TemplateParam`` keyed as the traits spell the variables (``${name}``: by name)."""
        keys = TRAITS.native_keys(parsed)
        return {keys[name]: values[name] for name in parsed.variables}

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
                    limited=error.kind is ErrorKind.LIMITED,
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

    def recent_sends(self, phone_number: str, within: timedelta) -> list[PastSend]:
        """The sends to ``phone_number`` in the last ``within``, from QuerySendDetails: one query per
        Beijing calendar day the window touches (SendDate is a Beijing day), paged by 50."""
        now = self._now()
        since = now - within
        day, last = since.astimezone(codes.BEIJING).date(), now.astimezone(codes.BEIJING).date()
        past: list[PastSend] = []
        while day <= last:
            for page in range(1, HISTORY_MAX_PAGES + 1):
                request = self._m.QuerySendDetailsRequest(
                    phone_number=phone_number.lstrip("+"),
                    send_date=day.strftime("%Y%m%d"),
                    page_size=HISTORY_PAGE_SIZE,
                    current_page=page,
                )
                body = self._call("QuerySendDetails", "query_send_details", request, write=False)
                details = (body.sms_send_detail_dtos.sms_send_detail_dto if body.sms_send_detail_dtos else None) or []
                for detail in details:
                    sent_at = codes.beijing_time(detail.send_date)
                    if sent_at is not None and since <= sent_at:
                        age = max((now - sent_at).total_seconds(), 0.0)
                        past.append(PastSend(template_code=str(detail.template_code or ""), sent_at=sent_at, age_s=age))
                total = codes.as_int(body.total_count)  # -1 when missing: the short page ends it
                if len(details) < HISTORY_PAGE_SIZE or 0 <= total <= page * HISTORY_PAGE_SIZE:
                    break
            day += timedelta(days=1)
        return past

    def close(self) -> None:
        """Nothing to release: the SDK keeps a process-wide connection pool."""


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
