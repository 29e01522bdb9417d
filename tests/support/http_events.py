"""HTTP API payload 2.0 events, as API Gateway builds them, for invoking the webhook handler in-process."""

from __future__ import annotations

import base64
import itertools
import time
from typing import Any

from acuity_sync.acuity.signature import sign

ROUTE_KEY = "POST /webhooks/acuity/{tenant_id}"
FORM = "application/x-www-form-urlencoded"
_request_numbers = itertools.count(1)


def webhook_event(
    tenant_id: str,
    body: bytes,
    *,
    api_key: str | None = None,
    signature: str | None = None,
    headers: dict[str, str] | None = None,
    base64_encoded: bool = True,
    request_id: str | None = None,
) -> dict[str, Any]:
    """A signed (api_key) or explicitly signed (signature) webhook; API Gateway base64-encodes form bodies."""
    all_headers = {"content-type": FORM, "user-agent": "Acuity-Webhooks/1.0"}
    if api_key is not None:
        all_headers["x-acuity-signature"] = sign(body, api_key)
    if signature is not None:
        all_headers["x-acuity-signature"] = signature
    all_headers.update(headers or {})
    path = f"/webhooks/acuity/{tenant_id}"
    now_ms = int(time.time() * 1000)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": ROUTE_KEY,
        "rawPath": path,
        "rawQueryString": "",
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "local.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "local",
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": all_headers.get("user-agent", ""),
            },
            "requestId": request_id or f"req-{next(_request_numbers)}-{now_ms}=",
            "routeKey": ROUTE_KEY,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now_ms / 1000)),
            "timeEpoch": now_ms,
        },
        "pathParameters": {"tenant_id": tenant_id},
        "isBase64Encoded": base64_encoded,
    }
    if body:
        event["body"] = base64.b64encode(body).decode() if base64_encoded else body.decode("utf-8")
    return event


class FakeLambdaContext:
    function_name = "WebhookFunction"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:WebhookFunction"
    memory_limit_in_mb = 512
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = "/aws/lambda/WebhookFunction"
    log_stream_name = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000
