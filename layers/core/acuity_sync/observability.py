"""Powertools Logger, Metrics and Tracer, set up once, with the metric names the dashboard and alarms use.

Names are decided here and listed in the README; dimensions are `ledger`, `outcome` or `reason`, never a
tenant (a tenant per dimension would be a metric per tenant). Every log line passes through `redact`, so an
e-mail, token, key or signature that slips into a message, a URL or an exception text is masked.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = "AcuitySync"


class MetricName(StrEnum):
    # webhook function (dimension: outcome, a WebhookOutcome)
    WEBHOOKS = "Webhooks"
    # webhook function (dimension: ledger)
    MESSAGES_QUEUED = "MessagesQueued"
    # sync functions (dimensions: ledger, outcome)
    SYNCS = "Syncs"
    # sync functions (dimension: ledger): milliseconds per ledger API call, and its 429 answers
    LEDGER_LATENCY = "LedgerLatency"
    LEDGER_THROTTLED = "LedgerThrottled"
    # sync and maintenance functions (dimensions: ledger, reason)
    EVENTS_PARKED = "EventsParked"
    # sync and maintenance functions (dimension: ledger)
    CONNECTIONS_NEEDING_REAUTH = "ConnectionsNeedingReauth"
    # sync functions: Acuity answered 429 (no dimension: the budget is global)
    ACUITY_THROTTLED = "AcuityThrottled"
    # maintenance function (dimensions: ledger, reason = the park's reason): parked events put back on their queue
    EVENTS_RESUMED = "EventsResumed"
    # maintenance function and `reconcile` (dimensions: ledger, outcome = missing | different): queued because
    # Acuity lists them and no sync has seen them (a lost webhook), or saw an older state of them
    EVENTS_RECONCILED = "EventsReconciled"
    # maintenance function (dimension: ledger): backfilled events released to their queue
    EVENTS_BACKFILLED = "EventsBackfilled"
    # maintenance function (dimensions: ledger, outcome = refreshed | needs_reauth | failed): refresh tokens
    # renewed before they lapse for lack of use
    TOKEN_REFRESHES = "TokenRefreshes"  # noqa: S105 - a metric name
    # maintenance function, every run (no dimension): events parked for more than a day (0 when none)
    PARKED_OVER_A_DAY = "ParkedEventsOverADay"


_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
_SECRET_FIELD = re.compile(
    r"(?i)(access_token|refresh_token|id_token|api_key|apikey|client_secret|password|"
    r"x-acuity-signature|signature|authorization|code)((?:\\?\")?\s*[:=]\s*(?:\\?\")?)[^\"\\&\s,}]+"
)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    text = _EMAIL.sub(REDACTED, text)
    text = _AUTH_SCHEME.sub(lambda match: f"{match.group(1)} {REDACTED}", text)
    return _SECRET_FIELD.sub(lambda match: f"{match.group(1)}{match.group(2)}{REDACTED}", text)


class RedactingFormatter(LambdaPowertoolsFormatter):
    def format(self, record: Any) -> str:
        return redact(super().format(record))


logger = Logger(logger_formatter=RedactingFormatter())
metrics = Metrics(namespace=NAMESPACE)
tracer = Tracer()


def count(name: MetricName, value: float = 1, unit: MetricUnit = MetricUnit.Count, **dimensions: str) -> None:
    """One metric with its own dimensions (beside `service`), flushed at once as its own EMF document."""
    with single_metric(
        name=name, unit=unit, value=value, namespace=NAMESPACE, default_dimensions=metrics.default_dimensions
    ) as metric:
        for dimension, dimension_value in dimensions.items():
            metric.add_dimension(dimension, dimension_value)
