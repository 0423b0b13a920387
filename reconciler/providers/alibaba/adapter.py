"""Alibaba Cloud SMS (dysmsapi 2017-05-25) through the official SDK.

The numberings and codes it translates live in codes.py. Business errors come back as
HTTP 200 with ``Code != "OK"``; gateway errors as 4xx/5xx exceptions, throttling with an
``x-acs-retry-after`` header (milliseconds), honoured by the retry.

Reads are retried with backoff; writes are retried only when the failure proves the request was
not processed (throttled, connection refused). A write whose answer was lost (timeout, reset, 5xx)
raises ``ResponseLost``: the caller re-observes instead of creating a duplicate.

Three parts, composed rather than inherited: an ``AlibabaTransport`` (transport.py: the SDK client,
paced and retried calls, SDK failures mapped to ``ProviderError``), an ``AlibabaObserver``
(observe.py: listing, marks, the signature) given that transport, and ``AlibabaProvider`` here,
which holds both, implements the ``Provider`` protocol by delegating the reads, and does the
writes, sends and delivery queries itself. This module stays the public import path.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from reconciler.errors import ErrorKind, ProviderError
from reconciler.providers._support import failure, utcnow
from reconciler.providers.alibaba import codes
from reconciler.providers.alibaba.observe import MARK_KEYS, PAGE_SIZE, PARALLEL_PAGES, AlibabaObserver
from reconciler.providers.alibaba.signatures import AlibabaSignatures
from reconciler.providers.alibaba.traits import TRAITS
from reconciler.providers.alibaba.transport import DEFAULT_ENDPOINT, DEFAULT_REGION, PROVIDER, AlibabaTransport
from reconciler.providers.base import (
    DeliveryReport,
    DeliveryState,
    NumberLimit,
    ObservedSignature,
    ObservedTemplate,
    PastSend,
    SendReceipt,
    SendRequest,
    SignatureRequest,
    TemplateKind,
    TemplateRequest,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from reconciler.config.load import Located
    from reconciler.config.models import Channel
    from reconciler.content.parse import ParsedContent
    from reconciler.providers.ratelimit import Pacer, Sleep
    from reconciler.providers.retry import RetryPolicy
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
    "Lifecycle",
    "open_channel",
]


class Lifecycle(Protocol):
    """Something a provider keeps going for as long as it is open and closes with it (the
    sandbox's emulator)."""

    def close(self) -> None: ...


class AlibabaProvider:
    """One Alibaba SMS account and signature. Construct with plain values (tests, sandbox) or via
    ``open_channel`` from a Channel resource.

    ``name`` is the provider name its errors carry (the sandbox's channels say ``sandbox``);
    ``lifecycle`` is closed with the provider."""

    name = PROVIDER
    dry_run_by_default = TRAITS.test_send_dry_run

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
        name: str = PROVIDER,
        lifecycle: Lifecycle | None = None,
    ) -> None:
        self.transport = AlibabaTransport(
            access_key_id=access_key_id,
            access_key_secret=access_key_secret,
            sign_name=sign_name,
            endpoint=endpoint,
            region=region,
            connect_timeout_s=connect_timeout_s,
            read_timeout_s=read_timeout_s,
            pacer=pacer,
            retry_policy=retry_policy,
            sleep=sleep,
            name=name,
        )
        self.observer = AlibabaObserver(self.transport)
        self.signatures = AlibabaSignatures(self.transport)
        self.name = name
        self.lifecycle = lifecycle
        self._now = now

    @property
    def endpoint(self) -> str:
        return self.transport.endpoint

    @property
    def sign_name(self) -> str:
        return self.transport.sign_name

    def number_limits(self, kind: TemplateKind) -> tuple[NumberLimit, ...]:
        return TRAITS.number_limits(kind.value)

    def send_parameters(self, parsed: ParsedContent, values: Mapping[str, str]) -> dict[str, str]:
        """``TemplateParam`` keyed as the traits spell the variables (``${name}``: by name)."""
        keys = TRAITS.native_keys(parsed)
        return {keys[name]: values[name] for name in parsed.variables}

    # -- observe (the observer's) ---------------------------------------------------------------

    def list_templates(self) -> list[ObservedTemplate]:
        return self.observer.list_templates()

    def read_whole(self) -> tuple[ObservedSignature | None, list[ObservedTemplate]]:
        return self.observer.read_whole()

    def get_signature(self) -> ObservedSignature | None:
        return self.observer.get_signature()

    # -- signatures (kind: Signature; signatures.py) ---------------------------------------------

    def read_signature(self, name: str) -> ObservedSignature | None:
        return self.signatures.read(name)

    def create_signature(self, request: SignatureRequest) -> None:
        self.signatures.create(request)

    def update_signature(self, observed: ObservedSignature, request: SignatureRequest) -> None:
        self.signatures.update(observed, request)

    def delete_signature(self, observed: ObservedSignature) -> None:
        self.signatures.delete(observed)

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
        body = self.transport.call(
            "CreateSmsTemplate",
            "create_sms_template",
            self.transport.models.CreateSmsTemplateRequest(**self._template_fields(request)),
            write=True,
        )
        return str(body.template_code)

    def update_template(self, code: str, request: TemplateRequest) -> None:
        self.transport.call(
            "UpdateSmsTemplate",
            "update_sms_template",
            self.transport.models.UpdateSmsTemplateRequest(template_code=code, **self._template_fields(request)),
            write=True,
        )

    def delete_template(self, code: str) -> None:
        request = self.transport.models.DeleteSmsTemplateRequest(template_code=code)
        self.transport.call("DeleteSmsTemplate", "delete_sms_template", request, write=True)

    def set_tags(self, code: str, tags: dict[str, str]) -> None:
        """Add or overwrite these tag keys on a template; other keys are left as they are."""
        if not tags:
            return
        request = self.transport.models.TagResourcesRequest(
            region_id=self.transport.region,
            resource_type="TEMPLATE",
            prod_code="dysms",
            resource_id=[code],
            tag=[self.transport.models.TagResourcesRequestTag(key=k, value=v) for k, v in sorted(tags.items())],
        )
        self.transport.call("TagResources", "tag_resources", request, write=True)

    # -- send ------------------------------------------------------------------------------------

    def send(self, request: SendRequest) -> SendReceipt:
        """One message. A provider refusal of this message (``isv.*`` in the reply, e.g. the
        per-number limit ``isv.BUSINESS_LIMIT_CONTROL``) is a receipt with ``accepted=False``;
        failures of the call itself (auth, throttling, transport) raise."""
        if request.dry_run:
            raise failure(self.name, "SendSms", "DryRunUnsupported", "Alibaba SMS has no dry-run send", retryable=False)
        sms = self.transport.models.SendSmsRequest(
            phone_numbers=request.phone_number.lstrip("+"),
            sign_name=self.sign_name,
            template_code=request.template_code,
            template_param=json.dumps(request.params, ensure_ascii=False) if request.params else None,
        )
        sent_at = self._now()
        try:
            body = self.transport.call("SendSms", "send_sms", sms, write=True)
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
            return DeliveryReport.never_sent(receipt)
        request = self.transport.models.QuerySendDetailsRequest(
            phone_number=receipt.phone_number.lstrip("+"),
            send_date=receipt.sent_at.astimezone(codes.BEIJING).strftime("%Y%m%d"),
            biz_id=receipt.message_id,
            page_size=10,
            current_page=1,
        )
        body = self.transport.call("QuerySendDetails", "query_send_details", request, write=False)
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
                request = self.transport.models.QuerySendDetailsRequest(
                    phone_number=phone_number.lstrip("+"),
                    send_date=day.strftime("%Y%m%d"),
                    page_size=HISTORY_PAGE_SIZE,
                    current_page=page,
                )
                body = self.transport.call("QuerySendDetails", "query_send_details", request, write=False)
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
        """Closes the lifecycle, if any; the SDK's connection pool is process-wide, nothing else to release."""
        if self.lifecycle is not None:
            self.lifecycle.close()


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
