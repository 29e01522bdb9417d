"""POST /webhooks/acuity/{tenant_id}: check an Acuity webhook and queue it for each connected ledger.

Thin by design: the decision is acuity_sync.intake; this maps the HTTP API event in and the answer out.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from acuity_sync.intake import (
    MAX_BODY_BYTES,
    IntakeResult,
    WebhookOutcome,
    WebhookRequest,
    lower_case_headers,
)
from acuity_sync.observability import MetricName, count, logger, metrics, tracer
from acuity_sync.wiring.webhook import build_webhook_intake

app = APIGatewayHttpResolver()
intake = build_webhook_intake()

# Base64 grows a body by 4/3: anything longer than this cannot decode to an acceptable size.
_MAX_ENCODED_LENGTH = (MAX_BODY_BYTES + 2) // 3 * 4


@app.post("/webhooks/acuity/<tenant_id>")
def acuity_webhook(tenant_id: str) -> Response[str]:
    return _answer(tenant_id, _receive(tenant_id, app.current_event.raw_event))


@app.not_found
def no_such_address(_error: Exception) -> Response[str]:
    # API Gateway routes only POST /webhooks/acuity/{tenant_id}; anything else reaching us is no tenant of ours.
    return _answer(None, IntakeResult(404, WebhookOutcome.REJECTED_TENANT, "no such webhook address"))


def unexpected_error(error: Exception) -> Response[str]:
    # A bug, not bad input: still a 500 (API Gateway's 5xx alarm), but logged through our masking logger rather
    # than printed unmasked by the Lambda runtime.
    logger.exception("webhook failed", extra={"error_type": type(error).__name__})
    result = IntakeResult(500, WebhookOutcome.ERROR, "internal error")
    metrics.add_dimension("outcome", str(result.outcome))
    metrics.add_metric(name=MetricName.WEBHOOKS, unit=MetricUnit.Count, value=1)
    return Response(status_code=result.status, content_type=content_types.APPLICATION_JSON, body=result.body())


app.exception_handler(Exception)(unexpected_error)  # registered without the decorator, which mypy sees untyped


def _answer(tenant_id: str | None, result: IntakeResult) -> Response[str]:
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
    return Response(status_code=result.status, content_type=content_types.APPLICATION_JSON, body=result.body())


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
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
