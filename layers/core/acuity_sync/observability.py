"""Powertools Logger, Metrics and Tracer, set up once, with the metric names the dashboard and alarms use.

Names are decided here and listed in the README; dimensions are `ledger`, `outcome` or `reason`, never a
tenant (a tenant per dimension would be a metric per tenant). Every log line passes through `redact`, so an
e-mail, token, key or signature that slips into a message, a URL or an exception text is masked.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING, Any

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


# An e-mail address, also URL-encoded (%40) and with the apostrophes and other marks RFC 5322 allows in its local
# part (o'brien@example.com); \w takes letters of any script. A backslash is never taken: a match starting inside a
# JSON escape would leave the line unreadable.
_EMAIL = re.compile(r"[\w.%+'!#$&*?^`{|}~-]+(?:@|%40)[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
# Field names whose value is a secret, in any letter case and spelling: access_token, accessToken, access-token.
# These may end a longer name (oauth_refresh_token, xeroAccessToken); they never start one, so that a name such as
# access_token_expires_at is left alone (the value must follow the name at once).
# The list grows with what each part adds (in wave 2: the connect function's
# cookies, PKCE and CSRF values, a revoke request's token, a booking's package or gift certificate code).
_MASKED_NAMES = (
    r"access[_-]?token|refresh[_-]?token|id[_-]?token|csrf[_-]?token|api[_-]?key|client[_-]?secret|secret|"
    r"password|signature|authorization|cookie|session[_-]?id|acuity_sync_session|acuity_sync_consent|"
    r"code[_-]?verifier|code[_-]?challenge"
)
# Names that are secrets only on their own: `code` (an OAuth authorization code), but not statusCode or error_code;
# `token` (an admin link's, a revoke request's), but not next_token; `state` (OAuth's); a booking's `certificate`.
_MASKED_WHOLE_NAMES = r"code|token|state|nonce|certificate"
_SECRET_FIELD = re.compile(
    rf"(?i)(?P<name>(?:{_MASKED_NAMES})|(?<![A-Za-z0-9_-])(?:{_MASKED_WHOLE_NAMES}))"
    # the name's closing quote, however escaped (JSON, JSON in JSON, a Python repr), then `:` or `=`
    r"(?P<separator>\\*[\"']?\s*[:=]\s*)"
    # the value: quoted (to its closing quote, escapes included) or bare (to the next delimiter)
    r"(?P<value>\\+\"(?:(?!\\+\").)*|\"(?:[^\"\\]|\\.)*|'(?:[^'\\]|\\.)*|[^\s\"'\\&,;}\]]+)"
)
_OPENING_QUOTE = re.compile(r"\\*[\"']")
_NUMERIC_CODE = re.compile(r"[\"'\\]*\d{1,10}")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """`text` with every e-mail address, credential and secret field value replaced by REDACTED."""
    text = _EMAIL.sub(REDACTED, text)
    text = _AUTH_SCHEME.sub(lambda match: f"{match.group(1)} {REDACTED}", text)
    return _SECRET_FIELD.sub(_mask_field, text)


def _mask_field(match: re.Match[str]) -> str:
    value = match.group("value")
    if match.group("name").lower() == "code" and _NUMERIC_CODE.fullmatch(value):
        return match.group(0)  # an API's error code (QuickBooks' "code":"6240"), not an authorization code
    opening = _OPENING_QUOTE.match(value)
    return f"{match.group('name')}{match.group('separator')}{opening.group(0) if opening else ''}{REDACTED}"


class RedactingFormatter(LambdaPowertoolsFormatter):
    def format(self, record: Any) -> str:
        return redact(super().format(record))


logger = Logger(logger_formatter=RedactingFormatter())
metrics = Metrics(namespace=NAMESPACE)

if TYPE_CHECKING:
    tracer: Tracer


def __getattr__(name: str) -> Tracer:
    """`tracer` is created when a function first names it (the sync, connect and maintenance functions, at
    import), never by the webhook function, which does not trace: in Lambda, creating a Tracer imports the X-Ray
    SDK and patches botocore, httpx and others, which the webhook's cold start would pay for."""
    if name == "tracer":
        created = Tracer()
        globals()["tracer"] = created
        return created
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def count(name: MetricName, value: float = 1, unit: MetricUnit = MetricUnit.Count, **dimensions: str) -> None:
    """One metric with its own dimensions (beside `service`), flushed at once as its own EMF document."""
    with single_metric(
        name=name, unit=unit, value=value, namespace=NAMESPACE, default_dimensions=metrics.default_dimensions
    ) as metric:
        for dimension, dimension_value in dimensions.items():
            metric.add_dimension(dimension, dimension_value)
