"""A rate budget, as numbers: a token bucket, an optional cap per UTC day, an optional concurrency limit. Each
ledger declares its own (ledgers/<ledger>/__init__.py), Acuity's is acuity/client.py's ACUITY_BUDGET; the table
keeps their state (store/budgets.py).

Sizing a bucket: a bucket of burst B refilled at r a second grants at most B + r*T in any window of T seconds, so
a limit of N per T holds when B + r*T <= N. A bucket cannot be both bursty and safe: the bursts are small on
purpose. The daily cap counts per UTC day; a ledger whose day starts at another hour (Xero resets "at different
times for each tenant") can see up to twice the cap across its own boundary, so its 429 with Retry-After stays
the last word and the adapter honours it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Budget:
    """A token bucket (`rate_per_second`, `burst`), an optional cap per UTC day, an optional concurrency limit."""

    rate_per_second: float
    burst: float
    daily_cap: int | None = None
    max_concurrent: int | None = None

    def __post_init__(self) -> None:
        if not (self.rate_per_second > 0 and math.isfinite(self.rate_per_second)):
            raise ValueError("rate_per_second must be a positive number")
        if not (self.burst >= 1 and math.isfinite(self.burst)):
            raise ValueError("burst must be at least 1 (one request must fit)")
        if self.daily_cap is not None and self.daily_cap < 1:
            raise ValueError("daily_cap must be at least 1")
        if self.max_concurrent is not None and self.max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")

    def in_time_scale(self, time_scale: float) -> Budget:
        """The budget where every wait is `time_scale` times as long (the local stack runs at 0.05): the rate
        grows by 1 / time_scale, so that pacing keeps to the scaled functions' timeouts."""
        return replace(self, rate_per_second=self.rate_per_second / time_scale)
