"""How long one AWS call can take at worst, from the client's own configuration: what a lease that must outlast a
write is sized by (auth/tokens.py). Every attempt may wait the whole connect and read timeouts, and botocore sleeps
between attempts (standard mode: up to min(2**(attempt - 1), 20) s, plus up to 5 s more when AWS asks for a
`x-amz-retry-after`; legacy mode grows as fast)."""

from __future__ import annotations

from typing import Any

# botocore's defaults when the configuration names no attempts: standard and adaptive modes make 3, legacy mode 5
# (10 for DynamoDB, whose retry policy is its own).
_STANDARD_ATTEMPTS = 3
_LEGACY_ATTEMPTS = {"dynamodb": 10}
_LEGACY_DEFAULT_ATTEMPTS = 5
_MAX_BACKOFF = 20.0
_RETRY_AFTER_EXTRA = 5.0
_DEFAULT_TIMEOUT = 60.0  # botocore's connect and read timeouts


def worst_call_seconds(client: Any) -> float:
    """The longest one call of `client` (a botocore client) can take before it raises."""
    config = client.meta.config
    retries: dict[str, Any] = dict(config.retries or {})
    attempts = _attempts(retries, client.meta.service_model.service_name)
    per_attempt = float(config.connect_timeout or _DEFAULT_TIMEOUT) + float(config.read_timeout or _DEFAULT_TIMEOUT)
    backoff = sum(min(2.0 ** (retry - 1), _MAX_BACKOFF) + _RETRY_AFTER_EXTRA for retry in range(1, attempts))
    return attempts * per_attempt + backoff


def _attempts(retries: dict[str, Any], service: str) -> int:
    if "total_max_attempts" in retries:
        return max(1, int(retries["total_max_attempts"]))
    if "max_attempts" in retries:
        return max(1, int(retries["max_attempts"]) + 1)  # retries after the first attempt
    if retries.get("mode", "legacy") == "legacy":
        return _LEGACY_ATTEMPTS.get(service, _LEGACY_DEFAULT_ATTEMPTS)
    return _STANDARD_ATTEMPTS
