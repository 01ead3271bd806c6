"""An HTTP SMS gateway: one JSON POST per SMS carrying the DLT ids Indian SMS need.

    POST {url}   Authorization: Bearer {api_key}   Idempotency-Key: {outbox key}
    {"sender": "PGRID", "mobile": "919876500001", "text": "...", "unicode": true,
     "dlt_entity_id": "1101...", "dlt_template_id": "1107...", "reference": "{outbox key}"}

2xx: accepted; the provider's id is read from "message_id" or "id" of the JSON answer.
4xx: refused (a bad number, an unregistered template): never tried again; except 401/403
(our key) and 408/429 (come back later).
5xx, timeouts and connection errors: tried again later, with backoff.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from prepaidgrid.services.ports import SendFailed, SendRefused, Sms


@dataclass(frozen=True)
class SmsGatewayConfig:
    url: str
    api_key: str
    dlt_entity_id: str  # the principal entity's id on the DLT platform
    sender_id: str  # the 6-character header registered on DLT
    dlt_template_ids: Mapping[str, str] = field(default_factory=dict)  # template -> DLT id
    timeout_s: float = 10.0


# 401/403: our key is wrong or expired (an operator fixes it; the messages must not be lost);
# 408/429: the gateway asks us to come back later.
_RETRIED = frozenset({401, 403, 408, 429})


class HttpSmsGateway:
    def __init__(self, config: SmsGatewayConfig, client: httpx.Client | None = None) -> None:
        self._config = config
        self._client = client or httpx.Client(timeout=config.timeout_s)

    def send_sms(self, sms: Sms) -> str:
        config = self._config
        template_id = config.dlt_template_ids.get(sms.template)
        if template_id is None:  # an operator would rather know than have the SMS dropped
            raise SendRefused(f"no DLT template id is configured for {sms.template!r}")
        body = {
            "sender": config.sender_id,
            "mobile": f"91{sms.mobile}" if len(sms.mobile) == 10 else sms.mobile,
            "text": sms.text,
            "unicode": not sms.text.isascii(),
            "dlt_entity_id": config.dlt_entity_id,
            "dlt_template_id": template_id,
            "reference": sms.idempotency_key,
        }
        headers = {
            "Authorization": f"Bearer {config.api_key}",
            "Idempotency-Key": sms.idempotency_key,
        }
        try:
            response = self._client.post(config.url, json=body, headers=headers)
        except httpx.HTTPError as error:  # timeouts, refused connections, broken answers
            raise SendFailed(f"SMS gateway unreachable: {type(error).__name__}") from error
        if response.is_success:
            return _provider_id(response)
        detail = f"SMS gateway answered {response.status_code}: {response.text[:200]}"
        if 400 <= response.status_code < 500 and response.status_code not in _RETRIED:
            raise SendRefused(detail)
        raise SendFailed(detail)  # 5xx, and the 4xx that are not the message's fault

    def close(self) -> None:
        self._client.close()


def _provider_id(response: httpx.Response) -> str:
    try:
        answer = response.json()
    except ValueError:
        return ""
    if isinstance(answer, dict):
        for key in ("message_id", "id"):
            if answer.get(key) is not None:
                return str(answer[key])
    return ""
