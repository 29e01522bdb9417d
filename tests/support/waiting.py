"""Waiting for something to happen, never for a fixed time: for processes to exit, on the kernel's word (a pidfd
becomes readable when its process ends: no polling), or for a condition, checked again and again until a deadline.
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable, Iterable
from types import TracebackType


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, *, first_pause: float = 0.02, longest_pause: float = 0.3
) -> None:
    """Returns as soon as `condition()` holds, checking it at once and then after pauses that grow from
    `first_pause` to `longest_pause`; fails naming `what` if it still does not hold at the deadline."""
    deadline = time.monotonic() + timeout
    pause = first_pause
    while not condition():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(min(pause, remaining))
        pause = min(pause * 2, longest_pause)


class ProcessExits:
    """Watches processes that need not be our children (a worker's parent may be another process) for their exit.

        with ProcessExits(pids) as exits:   # opened while they run: a pid reused later is not confused with them
            ...                             # stop them
            assert exits.wait(10) == set()  # the pids still running after 10 s (none)

    A process that is already gone when the watch opens counts as exited. A zombie (exited, not yet reaped by its
    parent) has exited."""

    def __init__(self, pids: Iterable[int]) -> None:
        self._pid_of: dict[int, int] = {}
        for pid in set(pids):
            try:
                self._pid_of[os.pidfd_open(pid)] = pid
            except ProcessLookupError:
                continue
        self._running = set(self._pid_of)
        self._poller = select.poll()
        for descriptor in self._running:
            self._poller.register(descriptor, select.POLLIN)

    def wait(self, timeout: float) -> set[int]:
        """Blocks until every watched process has exited or `timeout` seconds have passed: the pids still running."""
        deadline = time.monotonic() + timeout
        while self._running:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            for descriptor, _events in self._poller.poll(remaining * 1000):
                self._poller.unregister(descriptor)
                self._running.discard(descriptor)
        return {self._pid_of[descriptor] for descriptor in self._running}

    def close(self) -> None:
        for descriptor in self._pid_of:
            os.close(descriptor)
        self._pid_of.clear()
        self._running.clear()

    def __enter__(self) -> ProcessExits:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
