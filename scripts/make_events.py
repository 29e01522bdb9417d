"""Writes events/*.json: HTTP API (payload 2.0) events of signed Acuity webhooks for the demo tenant, for
`sam local invoke WebhookFunction -e events/<file>` and for tests/integration/test_events.py.

Run: .venv/bin/python scripts/make_events.py   (the output is committed; a test checks it is current)
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

from acuity_sync.acuity.signature import sign
from acuity_sync_toolkit.demo.tenant import DEMO_ACUITY_API_KEY, DEMO_TENANT_ID

EVENTS_DIR = Path(__file__).resolve().parents[1] / "events"
ROUTE_KEY = "POST /webhooks/acuity/{tenant_id}"
EPOCH_MS = 1_795_000_000_000

# file name → (form body, base64-encoded?, signing key); the expected answers are in events/README.md.
SAMPLES: dict[str, tuple[bytes, bool, str]] = {
    "webhook_scheduled.json": (
        b"action=scheduled&id=1000001&calendarID=27238&appointmentTypeID=1",
        False,
        DEMO_ACUITY_API_KEY,
    ),
    "webhook_rescheduled.json": (
        b"action=rescheduled&id=1000001&calendarID=27238&appointmentTypeID=1",
        False,
        DEMO_ACUITY_API_KEY,
    ),
    "webhook_canceled.json": (
        b"action=canceled&id=1000001&calendarID=27238&appointmentTypeID=1",
        False,
        DEMO_ACUITY_API_KEY,
    ),
    "webhook_changed.json": (
        b"action=appointment.changed&id=1000001&calendarID=27238&appointmentTypeID=1",
        False,
        DEMO_ACUITY_API_KEY,
    ),
    "webhook_order_completed.json": (b"action=order.completed&id=5001", False, DEMO_ACUITY_API_KEY),
    "webhook_scheduled_base64.json": (
        b"action=scheduled&id=1000002&calendarID=27238&appointmentTypeID=1",
        True,
        DEMO_ACUITY_API_KEY,
    ),
    "webhook_forged.json": (
        b"action=scheduled&id=1000001&calendarID=27238&appointmentTypeID=1",
        False,
        "not-the-tenant-key",
    ),
}


def http_api_event(index: int, body: bytes, base64_encoded: bool, key: str) -> dict[str, Any]:
    path = f"/webhooks/acuity/{DEMO_TENANT_ID}"
    epoch_ms = EPOCH_MS + index * 1000
    return {
        "version": "2.0",
        "routeKey": ROUTE_KEY,
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "content-length": str(len(body)),
            "content-type": "application/x-www-form-urlencoded",
            "host": "abc123.execute-api.us-east-1.amazonaws.com",
            "user-agent": "Acuity-Webhooks",
            "x-acuity-signature": sign(body, key),
            "x-forwarded-for": "203.0.113.10",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "Acuity-Webhooks",
            },
            "requestId": f"SampleEvent{index:04d}=",
            "routeKey": ROUTE_KEY,
            "stage": "$default",
            "time": "19/Nov/2026:08:26:40 +0000",
            "timeEpoch": epoch_ms,
        },
        "pathParameters": {"tenant_id": DEMO_TENANT_ID},
        "body": base64.b64encode(body).decode() if base64_encoded else body.decode(),
        "isBase64Encoded": base64_encoded,
    }


def rendered() -> dict[str, str]:
    return {
        name: json.dumps(http_api_event(index, *sample), indent=2) + "\n"
        for index, (name, sample) in enumerate(sorted(SAMPLES.items()), start=1)
    }


def main() -> int:
    for name, text in rendered().items():
        (EVENTS_DIR / name).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
