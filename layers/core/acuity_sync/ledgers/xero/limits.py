"""Xero's limits as its answers state them (research A2): 60 calls a minute and 5,000 a day per organisation;
every answer says what is left (`X-MinLimit-Remaining`, `X-DayLimit-Remaining`) and a 429 says which limit
(`X-Rate-Limit-Problem`) and for how long (`Retry-After`)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from acuity_sync.domain.errors import RateLimited

MINUTE = 60.0
UNKNOWN_DAY_WAIT = 3600.0  # the day's count is spent but Xero did not say when it resets


class RateGate:
    """Xero's counts of calls left, read from every answer: once one is spent, the next call raises RateLimited
    at once rather than spending a request on a certain 429."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until = 0.0
        self._why = ""

    def check(self) -> None:
        wait = self._until - self._clock()
        if wait > 0:
            raise RateLimited(wait, f"Xero's {self._why} limit for this organisation is spent")

    def observe(self, response: httpx.Response) -> None:
        headers = response.headers
        retry_after = _seconds(headers.get("Retry-After"))
        if response.status_code == 429:
            self._wait(retry_after or MINUTE, headers.get("X-Rate-Limit-Problem") or "minute")
        elif headers.get("X-DayLimit-Remaining") == "0":
            self._wait(retry_after or UNKNOWN_DAY_WAIT, "day")
        elif headers.get("X-MinLimit-Remaining") == "0":
            self._wait(MINUTE, "minute")

    def _wait(self, seconds: float, why: str) -> None:
        until = self._clock() + seconds
        if until > self._until:
            self._until, self._why = until, why


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
