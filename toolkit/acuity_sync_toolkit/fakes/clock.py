"""A clock that tests can move, shared by the fakes (rate windows, retry delays, timestamps).

By default it follows real time plus an offset that `advance()` grows, so a fake behaves normally until a test
jumps ahead. `frozen=True` stops it from following real time: it moves only when advanced, which makes windows
such as "10 requests a second" deterministic in tests however slow the machine is. A frozen clock's `monotonic()`
also starts at 0.0, not at the machine's monotonic time: its readings are then exact sums of the advances, so
arithmetic on them (a window's end minus now) does not depend on how long the machine has been up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class FakeClock:
    def __init__(self, start: datetime | None = None, *, frozen: bool = False) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._lock = threading.Lock()
        self._frozen = frozen
        self._offset = 0.0  # seconds added to real time by advance()
        self._real_wall = datetime.now(UTC)
        # Unfrozen, monotonic() continues the machine's clock; frozen, it counts from zero (see the module's doc).
        self._real_mono = 0.0 if frozen else time.monotonic()
        self._start = (start or self._real_wall).astimezone(UTC)
        self._listeners: list[Callable[[], None]] = []

    @property
    def frozen(self) -> bool:
        return self._frozen

    def _elapsed(self) -> float:
        """Seconds since construction: real ones unless frozen, plus every advance."""
        real = 0.0 if self._frozen else time.monotonic() - self._real_mono
        with self._lock:
            return real + self._offset

    def now(self) -> datetime:
        """The current time, UTC and aware."""
        return self._start + timedelta(seconds=self._elapsed())

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back; only differences are meaningful."""
        return self._real_mono + self._elapsed()

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock cannot go back")
        with self._lock:
            self._offset += seconds
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def on_advance(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` after each advance (e.g. to wake a scheduler); returns a function that unsubscribes."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe
