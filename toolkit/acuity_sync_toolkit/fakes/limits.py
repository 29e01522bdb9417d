"""The one rate limiter of the fakes: request windows and a cap on requests in flight, per key, on the FakeClock.

Each fake describes its service's limits with it (a key is what the service limits by: a client IP for Acuity, a
realm for QuickBooks, a tenant for Xero):

    RateLimiter(clock, (Window("minute", 500, 60), Window("second", 10, 1)), max_concurrent=10)

A window is sliding (at most `limit` requests in any stretch of `seconds`) or fixed (it starts at the key's first
request and restarts once `seconds` have passed since it started). A window with `per_key=False` counts every key
together (an app-wide limit). `acquire` checks the concurrency cap first, then the windows in the order given; the
first one that is full refuses the request, and a refused request counts nothing, so a refused caller that waits
gets through. Every allowed request must be `release`d. With a frozen FakeClock every answer is deterministic.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from acuity_sync_toolkit.fakes.clock import FakeClock

CONCURRENT = "concurrent"  # what `Decision.refused_by` says when the cap on requests in flight refused


@dataclass(frozen=True, slots=True)
class Window:
    name: str  # says which limit refused ("minute", "day" ...)
    limit: int
    seconds: float
    fixed: bool = False  # False: sliding
    per_key: bool = True  # False: one window for all keys together

    def __post_init__(self) -> None:
        if self.limit < 1 or self.seconds <= 0:
            raise ValueError("limits must be at least 1")


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    remaining: Mapping[str, int]  # window name -> requests left in it, this one counted when allowed
    refused_by: str | None = None  # the full window's name, or CONCURRENT
    retry_after: float | None = None  # seconds until the full window has room again (None for CONCURRENT)


@dataclass(slots=True)
class _Count:
    """What one window has counted for one key: the times of the requests (sliding) or a start and a total (fixed)."""

    window: Window
    times: deque[float] = field(default_factory=deque)
    start: float = 0.0
    used: int = 0

    def roll(self, now: float) -> None:
        if self.window.fixed:
            if now >= self.start + self.window.seconds:
                self.start, self.used = now, 0
        else:
            while self.times and self.times[0] <= now - self.window.seconds:
                self.times.popleft()
            self.used = len(self.times)

    def full(self) -> bool:
        return self.used >= self.window.limit

    def count(self, now: float) -> None:
        self.used += 1
        if not self.window.fixed:
            self.times.append(now)

    def retry_after(self, now: float) -> float:
        ends = self.start if self.window.fixed else self.times[0]
        return ends + self.window.seconds - now

    def remaining(self) -> int:
        return max(0, self.window.limit - self.used)


class RateLimiter:
    def __init__(self, clock: FakeClock, windows: Sequence[Window], *, max_concurrent: int) -> None:
        if max_concurrent < 1:
            raise ValueError("limits must be at least 1")
        self._clock = clock
        self.windows = tuple(windows)
        self.max_concurrent = max_concurrent
        self._lock = threading.Lock()
        self._counts: dict[tuple[str | None, str], _Count] = {}  # (key, or None for all keys; window name)
        self._in_flight: dict[str, int] = {}

    def acquire(self, key: str) -> Decision:
        """Count one request of `key`, or refuse it and count nothing."""
        with self._lock:
            now = self._clock.monotonic()  # read under the lock so that each window stays in order
            counts = [self._count(key, window, now) for window in self.windows]
            for count in counts:
                count.roll(now)
            refused_by, retry_after = None, None
            if self._in_flight.get(key, 0) >= self.max_concurrent:
                refused_by = CONCURRENT
            else:
                full = next((count for count in counts if count.full()), None)
                if full is not None:
                    refused_by, retry_after = full.window.name, full.retry_after(now)
            if refused_by is None:
                for count in counts:
                    count.count(now)
                self._in_flight[key] = self._in_flight.get(key, 0) + 1
            remaining = {count.window.name: count.remaining() for count in counts}
            return Decision(refused_by is None, remaining, refused_by, retry_after)

    def release(self, key: str) -> None:
        with self._lock:
            self._in_flight[key] = max(0, self._in_flight.get(key, 0) - 1)

    def in_flight(self, key: str) -> int:
        with self._lock:
            return self._in_flight.get(key, 0)

    def _count(self, key: str, window: Window, now: float) -> _Count:
        owner = key if window.per_key else None
        count = self._counts.get((owner, window.name))
        if count is None:
            # A fixed window starts at its first request.
            count = self._counts[(owner, window.name)] = _Count(window, start=now)
        return count
