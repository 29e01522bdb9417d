"""POST /webhooks/acuity/{tenant_id}: check an Acuity webhook and queue it for each connected ledger.

Thin by design: the decision is acuity_sync.intake; this maps the HTTP API event in and the answer out.

Neither Powertools' event handler nor its Tracer: this function has one route, and its cold start is what
Acuity waits for (bench/README.md, `bench/coldstart`). Importing the event handler imports every
resolver Powertools has; creating the Tracer imports the X-Ray SDK and patches botocore, httpx and more. Without
them the function's trace in X-Ray still has Lambda's own segments (the function is Tracing: Active), and botocore
still passes the trace header on to SQS, so that the sync function's trace follows on from this one; what is no
longer drawn is a subsegment per AWS call (one GetItem and one Decrypt when the profile is not cached, one
SendMessage per ledger), whose failures are answered 503 and logged anyway.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from acuity_sync.intake import (
    MAX_BODY_BYTES,
    IntakeResult,
    WebhookOutcome,
    WebhookRequest,
    lower_case_headers,
)
from acuity_sync.observability import MetricName, count, logger, metrics
from acuity_sync.wiring.webhook import build_webhook_intake

intake = build_webhook_intake()

# Base64 grows a body by 4/3: anything longer than this cannot decode to an acceptable size.
_MAX_ENCODED_LENGTH = (MAX_BODY_BYTES + 2) // 3 * 4

# The one route, matched as Powertools' resolver matched `/webhooks/acuity/<tenant_id>`: a path segment of URI
# characters, taken as it is (not percent-decoded), the method in any letter case.
_ROUTE = re.compile(r"/webhooks/acuity/(?P<tenant_id>[-._~()'!*:@,;=+&$%<> \[\]{}|^\w]+)")
_JSON_HEADERS = {"Content-Type": "application/json"}


def _route(event: dict[str, Any]) -> tuple[str | None, IntakeResult]:
    """The tenant id of the address (None: not the webhook's address) and the intake's answer."""
    context = event.get("requestContext") or {}
    method = str((context.get("http") or {}).get("method") or "").upper()
    path = str(event.get("rawPath") or "")
    stage = context.get("stage")
    if stage and stage != "$default":
        path = path.removeprefix(f"/{stage}")
    route = _ROUTE.fullmatch(path)
    if method != "POST" or route is None:
        # API Gateway routes only POST /webhooks/acuity/{tenant_id}; anything else reaching us is no tenant of ours.
        return None, IntakeResult(404, WebhookOutcome.REJECTED_TENANT, "no such webhook address")
    tenant_id = route["tenant_id"]
    return tenant_id, _receive(tenant_id, event)


def _response(result: IntakeResult) -> dict[str, Any]:
    """What API Gateway's HTTP API (payload 2.0) takes: the answer as JSON, as Powertools' resolver built it."""
    return {
        "statusCode": result.status,
        "body": result.body(),
        "isBase64Encoded": False,
        "headers": dict(_JSON_HEADERS),
        "cookies": [],
    }


def unexpected_error(error: Exception) -> dict[str, Any]:
    # A bug, not bad input: still a 500 (API Gateway's 5xx alarm), but logged through our masking logger rather
    # than printed unmasked by the Lambda runtime.
    logger.exception("webhook failed", extra={"error_type": type(error).__name__})
    result = IntakeResult(500, WebhookOutcome.ERROR, "internal error")
    metrics.add_dimension("outcome", str(result.outcome))
    metrics.add_metric(name=MetricName.WEBHOOKS, unit=MetricUnit.Count, value=1)
    return _response(result)


def _record(tenant_id: str | None, result: IntakeResult) -> None:
    if result.notice is not None and result.notice.kind is not None:
        logger.set_correlation_id(f"{tenant_id}#{result.notice.kind}#{result.notice.object_id}")
    logger.info(
        "webhook answered",
        extra={
            "tenant_id": tenant_id,
            "status": result.status,
            "outcome": result.outcome,
            "queued": [str(ledger) for ledger in result.queued],
            "reason": result.message,
        },
    )
    metrics.add_dimension("outcome", str(result.outcome))
    metrics.add_metric(name=MetricName.WEBHOOKS, unit=MetricUnit.Count, value=1)
    for ledger in result.queued:
        count(MetricName.MESSAGES_QUEUED, ledger=str(ledger))


def _receive(tenant_id: str, event: dict[str, Any]) -> IntakeResult:
    body = event.get("body") or ""
    if len(body) > _MAX_ENCODED_LENGTH:
        return IntakeResult(413, WebhookOutcome.REJECTED_SIZE, f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        raw = base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else body.encode("utf-8")
    except (binascii.Error, UnicodeEncodeError):
        return IntakeResult(400, WebhookOutcome.REJECTED_FORM, "the body could not be decoded")
    context = event.get("requestContext") or {}
    received_ms = context.get("timeEpoch")
    received_at = datetime.fromtimestamp(received_ms / 1000, UTC) if isinstance(received_ms, int) else datetime.now(UTC)
    return intake.receive(
        WebhookRequest(
            tenant_id=tenant_id,
            body=raw,
            headers=lower_case_headers(event.get("headers")),
            request_id=str(context.get("requestId") or uuid.uuid4()),
            received_at=received_at,
        )
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    try:
        tenant_id, result = _route(event)
        _record(tenant_id, result)
    except Exception as error:  # a bug of ours: answered 500 and logged, as the resolver did
        return unexpected_error(error)
    return _response(result)
