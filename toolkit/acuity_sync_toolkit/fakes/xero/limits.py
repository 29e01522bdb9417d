"""Xero's limits per tenant (research A2): 60 calls a minute, 5,000 a day, 5 in flight; 10,000 a minute per app.

The windows are fixed and start at a tenant's (or, for the app's, the first) call; they run on the FakeClock.
Every answer carries the remaining counts; over a limit the answer is 429 with `X-Rate-Limit-Problem` and, for the
minute and day windows, Retry-After in whole seconds.
"""

from __future__ import annotations

import math

from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.limits import Decision, RateLimiter, Window

MINUTE = 60.0
DAY = 86400.0
APP_PER_MINUTE = 10_000

# Refusals name the first full window, in this order (after the concurrency cap): what Xero would say.
DAY_WINDOW, MINUTE_WINDOW, APP_MINUTE_WINDOW = "day", "minute", "appminute"


def tenant_limiter(clock: FakeClock, *, per_minute: int, per_day: int, max_concurrent: int) -> RateLimiter:
    return RateLimiter(
        clock,
        (
            Window(DAY_WINDOW, per_day, DAY, fixed=True),
            Window(MINUTE_WINDOW, per_minute, MINUTE, fixed=True),
            Window(APP_MINUTE_WINDOW, APP_PER_MINUTE, MINUTE, fixed=True, per_key=False),
        ),
        max_concurrent=max_concurrent,
    )


def rate_limit_headers(decision: Decision) -> tuple[tuple[str, str], ...]:
    """The headers of every answer: what is left of each window; on a refusal, the problem and Retry-After."""
    headers = [
        ("X-DayLimit-Remaining", str(decision.remaining[DAY_WINDOW])),
        ("X-MinLimit-Remaining", str(decision.remaining[MINUTE_WINDOW])),
        ("X-AppMinLimit-Remaining", str(decision.remaining[APP_MINUTE_WINDOW])),
    ]
    if decision.refused_by is not None:
        headers.append(("X-Rate-Limit-Problem", decision.refused_by))
        if decision.retry_after is not None:
            headers.append(("Retry-After", str(max(1, math.ceil(decision.retry_after)))))
    return tuple(headers)
