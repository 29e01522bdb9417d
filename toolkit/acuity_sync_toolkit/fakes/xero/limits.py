"""Xero's limits per tenant (research A2): 60 calls a minute, 5,000 a day, 5 in flight; 10,000 a minute per app.

The windows are fixed and start at a tenant's first call; they run on the FakeClock. Every answer carries the
remaining counts; over a limit the answer is 429 with `X-Rate-Limit-Problem` and, for minute and day, Retry-After.
Faults a test plans (`plan`) answer the tenant's next requests before anything else.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass

from acuity_sync_toolkit.fakes.clock import FakeClock

MINUTE = 60.0
DAY = 86400.0
APP_PER_MINUTE = 10_000


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    headers: tuple[tuple[str, str], ...]
    problem: str | None = None


@dataclass(slots=True)
class _Window:
    length: float
    start: float = 0.0
    used: int = 0

    def roll(self, now: float) -> None:
        if now >= self.start + self.length:
            self.start, self.used = now, 0

    def retry_after(self, now: float) -> int:
        return max(1, math.ceil(self.start + self.length - now))


@dataclass(frozen=True, slots=True)
class PlannedFault:
    status: int
    retry_after: int | None
    problem: str | None


class TenantLimiter:
    def __init__(self, clock: FakeClock, *, per_minute: int, per_day: int, max_concurrent: int) -> None:
        if min(per_minute, per_day, max_concurrent) < 1:
            raise ValueError("limits must be at least 1")
        self._clock = clock
        self.per_minute, self.per_day, self.max_concurrent = per_minute, per_day, max_concurrent
        self._lock = threading.Lock()
        self._minute: dict[str, _Window] = {}
        self._day: dict[str, _Window] = {}
        self._app = _Window(MINUTE, start=-math.inf)
        self._in_flight: dict[str, int] = {}
        self._faults: dict[str, deque[PlannedFault]] = {}

    def plan(self, tenant_id: str, fault: PlannedFault, count: int) -> None:
        with self._lock:
            self._faults.setdefault(tenant_id, deque()).extend([fault] * count)

    def planned(self, tenant_id: str) -> PlannedFault | None:
        with self._lock:
            queue = self._faults.get(tenant_id)
            return queue.popleft() if queue else None

    def acquire(self, tenant_id: str) -> Verdict:
        """Count one call; a refusal counts nothing. An allowed call must be `release`d."""
        with self._lock:
            now = self._clock.monotonic()
            minute = self._minute.setdefault(tenant_id, _Window(MINUTE, start=now))
            day = self._day.setdefault(tenant_id, _Window(DAY, start=now))
            for window in (minute, day, self._app):
                window.roll(now)
            problem, retry = None, None
            if self._in_flight.get(tenant_id, 0) >= self.max_concurrent:
                problem = "concurrent"
            elif day.used >= self.per_day:
                problem, retry = "day", day.retry_after(now)
            elif minute.used >= self.per_minute:
                problem, retry = "minute", minute.retry_after(now)
            elif self._app.used >= APP_PER_MINUTE:
                problem, retry = "appminute", self._app.retry_after(now)
            if problem is None:
                minute.used += 1
                day.used += 1
                self._app.used += 1
                self._in_flight[tenant_id] = self._in_flight.get(tenant_id, 0) + 1
            headers = [
                ("X-DayLimit-Remaining", str(max(0, self.per_day - day.used))),
                ("X-MinLimit-Remaining", str(max(0, self.per_minute - minute.used))),
                ("X-AppMinLimit-Remaining", str(max(0, APP_PER_MINUTE - self._app.used))),
            ]
            if problem is not None:
                headers.append(("X-Rate-Limit-Problem", problem))
                if retry is not None:
                    headers.append(("Retry-After", str(retry)))
            return Verdict(problem is None, tuple(headers), problem)

    def release(self, tenant_id: str) -> None:
        with self._lock:
            self._in_flight[tenant_id] = max(0, self._in_flight.get(tenant_id, 0) - 1)
