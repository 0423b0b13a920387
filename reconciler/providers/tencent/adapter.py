"""Tencent Cloud SMS (2021-01-11) through the official SDK.

Facts this module encodes (reference/providers.md §2, ``tencentcloud/sms/v20210111/models.py``):
- Templates are listed per ``International`` (0 mainland, 1 international) with Limit ≤100/Offset;
  an item with ``International`` 3 is valid for both and appears in both lists.
- The list reports no ``SmsType``: the kind is recovered from the name or guessed from the content
  (``codes.infer_kind``, with ``kind_inferred=True`` for a guess).
- Signatures cannot be fetched by name, only by SignId or by paging the list: the adapter pages
  ``DescribeSmsSignList`` (mainland first, then international) and matches ``SignName``.
- Status codes, SmsType numbers and error codes are translated in ``codes``.
- Per-number send failures arrive in ``SendStatusSet`` (receipt ``accepted=False``), not as errors.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.errors import ErrorKind
from reconciler.providers._support import failure, missing_sdk, required_setting, split_endpoint, utcnow, was_not_sent
from reconciler.providers.base import (
    DeliveryReport,
    DeliveryState,
    NumberLimit,
    ObservedSignature,
    ObservedTemplate,
    PastSend,
    ReviewStatus,
    SendReceipt,
    SendRequest,
    SignatureRequest,
    TemplateKind,
    TemplateRequest,
)
from reconciler.providers.ratelimit import Pacer, Sleep
from reconciler.providers.retry import RetryPolicy, call
from reconciler.providers.tencent import signatures
from reconciler.providers.tencent.codes import SMS_TYPE, STATUS, error_kind, hint_for, infer_kind
from reconciler.providers.tencent.traits import TRAITS
from reconciler.secrets.redact import register_secret

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from reconciler.config.load import Located
    from reconciler.config.models import Channel
    from reconciler.content.parse import ParsedContent
    from reconciler.errors import ProviderError
    from reconciler.secrets.sops import ChannelSecrets

PROVIDER = "tencent"
DEFAULT_ENDPOINT = "https://sms.tencentcloudapi.com"
DEFAULT_REGION = "ap-guangzhou"
PAGE = 100
HISTORY_MAX_PULLS = 5  # 100 reports each; the default daily limit is 10 per number


class TencentProvider:
    """One Tencent SMS application (SmsSdkAppId) and signature."""

    name = PROVIDER
    dry_run_by_default = TRAITS.test_send_dry_run

    def number_limits(self, kind: TemplateKind) -> tuple[NumberLimit, ...]:
        return TRAITS.number_limits(kind.value)

    def send_parameters(self, parsed: ParsedContent, values: Mapping[str, str]) -> dict[str, str]:
        """``TemplateParamSet`` is positional: the values keyed "1", "2", … as the traits number them."""
        keys = TRAITS.native_keys(parsed)
        return {keys[name]: values[name] for name in parsed.variables}

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        sign_name: str,
        sms_sdk_app_id: str,
        endpoint: str = DEFAULT_ENDPOINT,
        region: str = DEFAULT_REGION,
        timeout_s: int = 15,
        pacer: Pacer | None = None,
        retry_policy: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        try:
            from tencentcloud.common.credential import Credential
            from tencentcloud.common.profile.client_profile import ClientProfile
            from tencentcloud.common.profile.http_profile import HttpProfile
            from tencentcloud.sms.v20210111 import models
            from tencentcloud.sms.v20210111.sms_client import SmsClient
        except ImportError as exc:
            raise missing_sdk(PROVIDER, exc.name or "tencentcloud", "tencentcloud-sdk-python-sms") from None
        register_secret(secret_key)
        host, protocol = split_endpoint(endpoint)
        http = HttpProfile(endpoint=host, protocol=protocol, reqTimeout=timeout_s)
        # No region breaker: it would silently fail over to another endpoint.
        profile = ClientProfile(httpProfile=http, disable_region_breaker=True)
        self._client = SmsClient(Credential(secret_id, secret_key), region, profile)
        self._m = models
        self.sign_name = sign_name
        self.sms_sdk_app_id = sms_sdk_app_id
        self.endpoint = f"{protocol}://{host}"
        self._pacer = pacer or Pacer(PROVIDER, sleep=sleep)
        self._retry = retry_policy or RetryPolicy.from_env()
        self._sleep = sleep
        self._now = now

    # -- transport -------------------------------------------------------------------------------

    def _call(self, operation: str, fields: dict[str, Any], *, write: bool) -> Any:
        request = getattr(self._m, f"{operation}Request")()
        request.from_json_string(json.dumps(fields, ensure_ascii=False))
        invoke = getattr(self._client, operation)

        def once() -> Any:
            self._pacer.acquire(operation)
            try:
                return invoke(request)
            except Exception as exc:  # every SDK failure becomes a ProviderError
                raise self._map_exception(operation, exc, write=write) from None

        return call(once, self._retry, sleep=self._sleep)

    def _map_exception(self, operation: str, exc: Exception, *, write: bool) -> ProviderError:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

        if not isinstance(exc, TencentCloudSDKException):
            return failure(PROVIDER, operation, type(exc).__name__, str(exc))
        code = str(exc.code or "Unknown")
        raw = exc.message
        message = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw or "")
        request_id = str(exc.requestId or "")
        if code == "ClientNetworkError":
            not_sent = was_not_sent(message)
            return failure(
                PROVIDER,
                operation,
                "ConnectionRefused" if not_sent else code,
                message,
                kind=ErrorKind.UNAVAILABLE,
                lost=write and not not_sent,
                hint="" if write else f"is {self.endpoint} reachable?",
            )
        kind = error_kind(code, operation)
        # A non-200 answer (ServerNetworkError) or an internal error after a write leaves it unknown.
        lost = write and kind is ErrorKind.UNAVAILABLE
        return failure(
            PROVIDER, operation, code, message, kind=kind, request_id=request_id, hint=hint_for(code), lost=lost
        )

    # -- observe ---------------------------------------------------------------------------------

    def _pages(self, operation: str, international: int, key: str) -> list[Any]:
        items: list[Any] = []
        offset = 0
        while True:
            fields = {"International": international, "Limit": PAGE, "Offset": offset}
            batch = list(getattr(self._call(operation, fields, write=False), key) or [])
            items.extend(batch)
            if len(batch) < PAGE:
                return items
            offset += PAGE

    def list_templates(self) -> list[ObservedTemplate]:
        seen: dict[int, ObservedTemplate] = {}
        for international in (0, 1):
            for item in self._pages("DescribeSmsTemplateList", international, "DescribeTemplateStatusSet"):
                if item.TemplateId in seen:  # International 3: listed under both
                    continue
                is_international = item.International == 1
                content = item.TemplateContent or ""
                kind, inferred = infer_kind(item.TemplateName or "", content, is_international)
                seen[item.TemplateId] = ObservedTemplate(
                    code=str(item.TemplateId),
                    name=item.TemplateName or "",
                    content=content,
                    kind=kind,
                    kind_inferred=inferred,
                    international=is_international,
                    status=STATUS.get(int(item.StatusCode), ReviewStatus.PENDING),
                    reason=(item.ReviewReply or "") if int(item.StatusCode) == -1 else "",
                    created_at=datetime.fromtimestamp(item.CreateTime, UTC) if item.CreateTime else None,
                )
        return list(seen.values())

    def get_signature(self) -> ObservedSignature | None:
        return self.read_signature(self.sign_name)

    # -- signatures (kind: Signature; signatures.py) ---------------------------------------------

    def read_signature(self, name: str) -> ObservedSignature | None:
        for international in (0, 1):
            found = signatures.find(
                self._pages("DescribeSmsSignList", international, "DescribeSignListStatusSet"), name
            )
            if found is not None:
                return found
        return None

    def _write(self, operation: str, fields: dict[str, Any]) -> Any:
        return self._call(operation, fields, write=True)

    def create_signature(self, request: SignatureRequest) -> None:
        signatures.create(self._write, request)

    def update_signature(self, observed: ObservedSignature, request: SignatureRequest) -> None:
        signatures.update(self._write, observed, request)

    def delete_signature(self, observed: ObservedSignature) -> None:
        signatures.delete(self._write, observed)

    # -- change ----------------------------------------------------------------------------------

    def _template_fields(self, request: TemplateRequest) -> dict[str, Any]:
        return {
            "TemplateName": request.name,
            "TemplateContent": request.content,
            "SmsType": SMS_TYPE[request.kind],
            "International": 1 if request.international else 0,
            "Remark": request.remark,
        }

    def create_template(self, request: TemplateRequest) -> str:
        response = self._call("AddSmsTemplate", self._template_fields(request), write=True)
        return str(response.AddTemplateStatus.TemplateId)

    def update_template(self, code: str, request: TemplateRequest) -> None:
        self._call("ModifySmsTemplate", {"TemplateId": int(code), **self._template_fields(request)}, write=True)

    def delete_template(self, code: str) -> None:
        self._call("DeleteSmsTemplate", {"TemplateId": int(code)}, write=True)

    # -- send ------------------------------------------------------------------------------------

    def send(self, request: SendRequest) -> SendReceipt:
        """``params`` are keyed by position ("1", "2", ...); they are sent in that order."""
        if request.dry_run:
            raise failure(PROVIDER, "SendSms", "DryRunUnsupported", "Tencent SMS has no dry-run send", retryable=False)
        values = [request.params[k] for k in sorted(request.params, key=_position)]
        fields = {
            "PhoneNumberSet": [request.phone_number],
            "SmsSdkAppId": self.sms_sdk_app_id,
            "SignName": self.sign_name,
            "TemplateId": request.template_code,
            "TemplateParamSet": values,
        }
        sent_at = self._now()
        response = self._call("SendSms", fields, write=True)
        statuses = list(response.SendStatusSet or [])
        if not statuses:
            raise failure(
                PROVIDER,
                "SendSms",
                "EmptySendStatusSet",
                "no per-number status in the reply",
                retryable=False,
                request_id=str(response.RequestId or ""),
                lost=True,
            )
        status = statuses[0]
        accepted = str(status.Code).lower() == "ok"
        return SendReceipt(
            phone_number=request.phone_number,
            message_id=str(status.SerialNo or ""),
            sent_at=sent_at,
            accepted=accepted,
            limited=not accepted and error_kind(str(status.Code or ""), "SendSms") is ErrorKind.LIMITED,
            code=str(status.Code or ""),
            message="" if accepted else str(status.Message or ""),
        )

    def query_delivery(self, receipt: SendReceipt) -> DeliveryReport:
        if not receipt.accepted or not receipt.message_id:
            return DeliveryReport.never_sent(receipt)
        # Offset must be 0 for this API, so there is no paging: a window starting just before the
        # send keeps the answer (≤100 reports of this number) to this message's neighbourhood.
        begin = int((receipt.sent_at - timedelta(minutes=1)).timestamp())
        end = int(max(self._now(), receipt.sent_at + timedelta(minutes=1)).timestamp())
        fields = {
            "BeginTime": begin,
            "EndTime": end,
            "Offset": 0,
            "Limit": PAGE,
            "PhoneNumber": receipt.phone_number,
            "SmsSdkAppId": self.sms_sdk_app_id,
        }
        response = self._call("PullSmsSendStatusByPhoneNumber", fields, write=False)
        for item in response.PullSmsSendStatusSet or []:
            if item.SerialNo == receipt.message_id:
                delivered = str(item.ReportStatus).upper() == "SUCCESS"
                return DeliveryReport(
                    phone_number=receipt.phone_number,
                    message_id=receipt.message_id,
                    state=DeliveryState.DELIVERED if delivered else DeliveryState.FAILED,
                    code=str(item.ReportStatus or ""),
                    description=str(item.Description or ""),
                )
        # Only messages the carrier has reported on are listed: not there yet means waiting.
        return DeliveryReport(
            phone_number=receipt.phone_number, message_id=receipt.message_id, state=DeliveryState.WAITING
        )

    def recent_sends(self, phone_number: str, within: timedelta) -> list[PastSend]:
        """The messages to ``phone_number`` the carrier reported on in the last ``within``. The pull
        has no template id (``template_code`` ""), lists only reported messages, and is stamped with
        the receive time, which is at or after the send: a later time only makes pacing wait longer.
        Offset must be 0, so a full answer (100) is followed by one starting at its newest time."""
        now = self._now()
        begin = int((now - within).timestamp())
        seen: dict[str, PastSend] = {}
        for _ in range(HISTORY_MAX_PULLS):
            fields = {
                "BeginTime": begin,
                "EndTime": int(now.timestamp()),
                "Offset": 0,
                "Limit": PAGE,
                "PhoneNumber": phone_number,
                "SmsSdkAppId": self.sms_sdk_app_id,
            }
            items = list(self._call("PullSmsSendStatusByPhoneNumber", fields, write=False).PullSmsSendStatusSet or [])
            for item in items:
                received = datetime.fromtimestamp(int(item.UserReceiveTime or 0), UTC)
                age = max((now - received).total_seconds(), 0.0)
                seen[str(item.SerialNo)] = PastSend(template_code="", sent_at=received, age_s=age)
            newest = max((int(item.UserReceiveTime or 0) for item in items), default=begin)
            if len(items) < PAGE or newest <= begin:
                break
            begin = newest
        return list(seen.values())

    def close(self) -> None:
        """Nothing to release."""


def _position(key: str) -> int:
    try:
        return int(key)
    except ValueError:
        raise failure(
            PROVIDER,
            "SendSms",
            "InvalidParamName",
            f"Tencent template parameters are positional ('1', '2', ...), got {key!r}",
            retryable=False,
        ) from None


def open_channel(
    channel: Located[Channel], secrets: ChannelSecrets, *, state_dir: Path | None = None
) -> TencentProvider:
    spec = channel.resource.spec
    app_id = required_setting(spec.signature.sms_sdk_app_id, channel.resource.name, "spec.signature.smsSdkAppId")
    return TencentProvider(
        secret_id=secrets.access_key_id.get_secret_value(),
        secret_key=secrets.access_key_secret.get_secret_value(),
        sign_name=spec.signature.name,
        sms_sdk_app_id=app_id,
        endpoint=spec.endpoint or DEFAULT_ENDPOINT,
        region=spec.region or DEFAULT_REGION,
    )
