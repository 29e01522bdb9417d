"""One HTTP call to an accounting app, the same for every adapter: paced under the tenant's budget, with the
connection's access token (a fresh one, once, after a 401), a dropped connection or timeout as Transient, the
latency and throttling metrics, and one log line carrying the app's trace id. What an answer means (its errors,
its rate-limit headers) is the adapter's to say; this module only moves bytes."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from typing import Any

import httpx
from aws_lambda_powertools.metrics import MetricUnit

from acuity_sync.domain.errors import AuthExpired, Transient
from acuity_sync.domain.names import LedgerName
from acuity_sync.ledgers import jsonmoney
from acuity_sync.ledgers.base import AccessToken, Pace
from acuity_sync.observability import MetricName, count, logger, redact


def payload_key(method: str, path: str, body: Mapping[str, Any] | None) -> str:
    """A key for a write that is the same exactly when the write is: QuickBooks' `requestid`, Xero's
    `Idempotency-Key`. A retried write is then answered with the first answer instead of writing twice."""
    payload = jsonmoney.dumps(body) if body is not None else ""
    return hashlib.sha256(f"{method} {path} {payload}".encode()).hexdigest()[:36]


class LedgerTransport:
    def __init__(
        self,
        *,
        ledger: LedgerName,
        app_name: str,
        http: httpx.Client,
        access_token: AccessToken,
        pace: Pace = lambda: None,
        trace_header: str = "",
    ) -> None:
        self.ledger = ledger
        self.app_name = app_name  # "Xero": how a business owner reads it in a message
        self._http = http
        self._access_token = access_token
        self._pace = pace
        self._trace_header = trace_header

    def send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> httpx.Response:
        """The answer to the first call the app does not refuse with 401; after two 401s, AuthExpired."""
        content = jsonmoney.dumps(body) if body is not None else b""
        for refreshed in (False, True):
            sent_headers = {
                "Authorization": f"Bearer {self._access_token(refreshed).reveal()}",
                "Accept": "application/json",
                "Content-Type": content_type,
                **(headers or {}),
            }
            self._pace()
            started = time.monotonic()
            try:
                response = self._http.request(method, url, params=params, content=content, headers=sent_headers)
            except httpx.HTTPError as error:
                raise Transient(f"{self.app_name} did not answer ({type(error).__name__})") from None
            self._observe(method, url, response, (time.monotonic() - started) * 1000)
            if response.status_code != 401:
                return response
        raise AuthExpired(f"{self.app_name} refused the access token twice")

    def _observe(self, method: str, url: str, response: httpx.Response, elapsed_ms: float) -> None:
        count(MetricName.LEDGER_LATENCY, elapsed_ms, MetricUnit.Milliseconds, ledger=self.ledger)
        if response.status_code == 429:
            count(MetricName.LEDGER_THROTTLED, ledger=self.ledger)
        # The path is redacted: queries and searches can hold e-mail addresses.
        extra: dict[str, Any] = {
            "method": method,
            "path": redact(httpx.URL(url).path),
            "status": response.status_code,
            "ms": round(elapsed_ms),
        }
        if self._trace_header:
            extra[self._trace_header.lower().replace("-", "_")] = response.headers.get(self._trace_header, "")
        logger.info(f"{self.ledger} call", extra=extra)


# --------------------------------------------------------------------------------------------- reading answers
# What every app's answer has in common; each adapter maps the rest (its error bodies, 403, 404) itself.


def retry_after(response: httpx.Response, default: float) -> float:
    """The wait a 429 asks for: `Retry-After` in seconds (at least 1), else `default`."""
    try:
        return max(float(response.headers.get("Retry-After", "")), 1.0)
    except ValueError:
        return default


def raise_for_server_error(response: httpx.Response, app_name: str) -> None:
    """5xx: the same call may succeed later."""
    if response.status_code >= 500:
        raise Transient(f"{app_name} had a problem ({response.status_code}); it will be retried")


def json_document(response: httpx.Response, app_name: str) -> dict[str, Any]:
    """The answer's JSON object, every non-integer number a Decimal; a body that is not one is Transient (a proxy's
    error page, a truncated answer): retried, never read as an empty success."""
    try:
        document = jsonmoney.loads(response.content)
    except ValueError:
        raise Transient(f"{app_name} answered {response.status_code} with a body that is not JSON") from None
    if not isinstance(document, dict):
        raise Transient(f"{app_name} answered {response.status_code} with JSON that is not an object")
    return document
