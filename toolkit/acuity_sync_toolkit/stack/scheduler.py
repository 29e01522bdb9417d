"""EventBridge's schedules, here: a function with a `Schedule` event in the template is invoked every `rate_seconds x
time_scale` seconds, one invocation at a time, with the Scheduled Event EventBridge sends it.

The event's `time` is the scheduler's clock: a FakeClock that follows real time until a test advances it. An advance
is time EventBridge would have seen pass, so the schedule fires at once (once: EventBridge does not catch up runs a
rule missed), and the function reads "now" from the event (acuity_sync.wiring.maintenance.run_time): a test moves a
day ahead and the maintenance function sees the next day's schedule, while everything else keeps real time.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.stack.functions import ScheduleSource
from acuity_sync_toolkit.stack.lambda_runtime import LOCAL_ACCOUNT_ID, FunctionError, FunctionPool

log = logging.getLogger(__name__)


def scheduled_event(rule_name: str, at: datetime, *, region: str, account_id: str = LOCAL_ACCOUNT_ID) -> dict[str, Any]:
    """The event an EventBridge schedule rule sends its target (AWS's "Scheduled Event" shape)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account_id}:rule/{rule_name}"],
        "detail": {},
    }


@dataclass(frozen=True, slots=True)
class ScheduledRun:
    number: int  # 1, 2, ... in order
    at: datetime  # the event's time
    result: Any  # what the function returned; None when it failed
    error: str | None  # the failure as Lambda reports it


class ScheduleRunner:
    """Invokes `pool` on `schedule` until stopped. Thread-safe readers: `runs`, `wait_for_run`."""

    def __init__(
        self,
        pool: FunctionPool,
        schedule: ScheduleSource,
        *,
        clock: FakeClock,
        time_scale: float = 1.0,
        region: str,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self._pool = pool
        self._schedule = schedule
        self._clock = clock
        self._period = schedule.rate_seconds * time_scale
        self._rule = f"{pool.spec.logical_id}{schedule.name}"
        self._region = region
        self._condition = threading.Condition()
        self._stopping = False
        self._advanced = False
        self._disabled = False
        self._enabled_again = False
        self._runs: list[ScheduledRun] = []
        self._thread = threading.Thread(target=self._loop, name=f"schedule-{self._rule}", daemon=True)
        self._unsubscribe = clock.on_advance(self._wake)

    @property
    def function(self) -> str:
        """The scheduled function's logical id."""
        return self._pool.spec.logical_id

    @property
    def period_seconds(self) -> float:
        """Real seconds between runs (the rate at the time scale)."""
        return self._period

    def start(self) -> Self:
        if self._schedule.enabled:
            self._thread.start()
        return self

    def disable(self) -> None:
        """As EventBridge's DisableRule: no run starts until enable() (one in progress finishes)."""
        with self._condition:
            self._disabled = True

    def enable(self) -> None:
        """As EnableRule: the schedule goes on, its next run one period from now."""
        with self._condition:
            self._disabled = False
            self._enabled_again = True
            self._condition.notify_all()

    def runs(self) -> list[ScheduledRun]:
        with self._condition:
            return list(self._runs)

    def wait_for_run(self, after: int, timeout: float) -> ScheduledRun:
        """The first run numbered above `after` once it has finished; TimeoutError when none does in time."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while len(self._runs) <= after:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no run of {self._rule} after run {after} within {timeout:g} s")
                self._condition.wait(left)
            return self._runs[after]

    def stop(self) -> None:
        self._unsubscribe()
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        if self._thread.is_alive():
            self._thread.join(self._pool.timeout_seconds + 5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _wake(self) -> None:
        with self._condition:
            if self._disabled:
                return  # a disabled rule does not fire, however much time passes
            self._advanced = True
            self._condition.notify_all()

    def _loop(self) -> None:
        # EventBridge fires a new rate rule one period after it was created, then every period.
        due = time.monotonic() + self._period
        while True:
            with self._condition:
                while not self._stopping and (
                    self._disabled or (not self._advanced and time.monotonic() < due and not self._enabled_again)
                ):
                    self._condition.wait(None if self._disabled else max(0.0, due - time.monotonic()))
                if self._stopping:
                    return
                if self._enabled_again and not self._advanced:
                    self._enabled_again = False
                    due = time.monotonic() + self._period
                    continue
                self._advanced = self._enabled_again = False
            self._run_once()
            due = time.monotonic() + self._period

    def _run_once(self) -> None:
        at = self._clock.now()
        event = scheduled_event(self._rule, at, region=self._region)
        result: Any = None
        error: str | None = None
        try:
            result = self._pool.invoke(event)
        except FunctionError as failure:
            error = str(failure)
            log.warning("scheduled run of %s failed: %s", self._rule, failure)
        with self._condition:
            self._runs.append(ScheduledRun(len(self._runs) + 1, at, result, error))
            self._condition.notify_all()
