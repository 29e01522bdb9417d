"""QuickBooks' throttles per realm, and faults a test arranges in advance.

Limits (quickbooks.md §3): 500 requests a minute and 10 a second per realm, and at most 10 in flight; over any of
them the answer is 429. The windows slide on the FakeClock, so a frozen clock makes them deterministic. A refused
request does not use up a window: a client that waits (advances the clock) 60 s gets through again.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.quickbooks.faults import FaultFormat

MINUTE = 60.0
SECOND = 1.0


class RealmLimiter:
    def __init__(self, clock: FakeClock, *, per_minute: int, per_second: int, max_concurrent: int) -> None:
        if min(per_minute, per_second, max_concurrent) < 1:
            raise ValueError("limits must be at least 1")
        self._clock = clock
        self.per_minute = per_minute
        self.per_second = per_second
        self.max_concurrent = max_concurrent
        self._lock = threading.Lock()
        self._times: dict[str, deque[float]] = {}
        self._in_flight: dict[str, int] = {}

    def acquire(self, realm: str) -> bool:
        """Count one request for `realm`; False (and nothing counted) when a limit is reached."""
        with self._lock:
            now = self._clock.monotonic()
            times = self._times.setdefault(realm, deque())
            while times and times[0] <= now - MINUTE:
                times.popleft()
            last_second = sum(1 for moment in times if moment > now - SECOND)
            if (
                len(times) >= self.per_minute
                or last_second >= self.per_second
                or self._in_flight.get(realm, 0) >= self.max_concurrent
            ):
                return False
            times.append(now)
            self._in_flight[realm] = self._in_flight.get(realm, 0) + 1
            return True

    def release(self, realm: str) -> None:
        with self._lock:
            self._in_flight[realm] = max(0, self._in_flight.get(realm, 0) - 1)

    def in_flight(self, realm: str) -> int:
        with self._lock:
            return self._in_flight.get(realm, 0)


@dataclass(slots=True)
class PlannedFault:
    """The next `remaining` API requests of a realm answer `status` (in `fmt`) without doing anything, or, with
    `hang_seconds`, are carried out and then held that many real seconds before the answer (a slow server, or a
    client timeout after the write happened)."""

    remaining: int
    status: int | None = None
    fmt: FaultFormat = "json"
    hang_seconds: float = 0.0


class FaultPlan:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._plans: dict[str, deque[PlannedFault]] = {}

    def add(self, realm: str, fault: PlannedFault) -> None:
        if fault.remaining < 1:
            raise ValueError("next must be at least 1")
        with self._lock:
            self._plans.setdefault(realm, deque()).append(fault)

    def take(self, realm: str) -> PlannedFault | None:
        """The fault for this request of `realm`, if one is planned (first planned, first used)."""
        with self._lock:
            plans = self._plans.get(realm)
            if not plans:
                return None
            fault = plans[0]
            fault.remaining -= 1
            if fault.remaining == 0:
                plans.popleft()
            return PlannedFault(1, fault.status, fault.fmt, fault.hang_seconds)

    def pending(self, realm: str) -> int:
        with self._lock:
            return sum(plan.remaining for plan in self._plans.get(realm, ()))

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()
