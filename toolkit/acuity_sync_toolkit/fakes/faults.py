"""Faults a test plans in advance, the same way in every fake (see `FakeService.plan_fault`).

A planned fault makes the next matching API requests of one company (an Acuity account, a QuickBooks realm, a Xero
tenant, a FreshBooks business) fail with an error status, in the fake's own error shape, without doing anything;
or, where the fake can, be carried out and then held before the answer (a slow server, or a client timeout after
the write happened). Faults are used in the order they were planned; each fake says in its `FaultSupport` what it
can answer.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

FaultFormat = Literal["json", "xml"]


@dataclass(frozen=True, slots=True)
class PlannedFault:
    status: int | None  # None: the request is carried out, then held `hang_seconds`
    hang_seconds: float = 0.0  # real seconds (a stopping fake ends the wait)
    retry_after: int | None = None  # a Retry-After header on the answer, where the fake sends one
    body_format: FaultFormat = "json"
    path_contains: str = ""  # only requests whose path contains this


@dataclass(frozen=True, slots=True)
class FaultSupport:
    """What one fake can answer: its error statuses (None: any from 400 to 599), body formats, whether it sends
    Retry-After and whether it can hold a request. The default is what most services do: any error status in JSON,
    with Retry-After when asked for."""

    statuses: tuple[int, ...] | None = None
    formats: tuple[FaultFormat, ...] = ("json",)
    retry_after: bool = True
    hangs: bool = False

    def check(self, fault: PlannedFault) -> None:
        """ValueError, in words a caller (or an admin endpoint) can show, unless this fake can answer `fault`."""
        if fault.status is None:
            if not self.hangs:
                raise ValueError("give a status")
            if fault.hang_seconds <= 0:
                raise ValueError("give a status or hang_seconds")
        elif self.statuses is not None and fault.status not in self.statuses:
            raise ValueError(f"status must be one of {self.statuses}")
        elif self.statuses is None and not 400 <= fault.status <= 599:
            raise ValueError("status must be an error status (400 to 599)")
        if fault.hang_seconds < 0:
            raise ValueError("hang_seconds must not be negative")
        if fault.hang_seconds > 0 and not self.hangs:
            raise ValueError("this fake cannot hold a request: leave hang_seconds at 0")
        if fault.body_format not in self.formats:
            raise ValueError(f"format must be one of {self.formats}")
        if fault.retry_after is not None and not self.retry_after:
            raise ValueError("this fake sends no Retry-After: leave retry_after out")
        if fault.retry_after is not None and fault.retry_after < 0:
            raise ValueError("retry_after must not be negative")


@dataclass(slots=True)
class _Planned:
    fault: PlannedFault
    left: int  # requests it still answers


class FaultPlan:
    """The planned faults of each company, in the order planned; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._plans: dict[str, list[_Planned]] = {}

    def add(self, company_id: str, fault: PlannedFault, count: int) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._plans.setdefault(company_id, []).append(_Planned(fault, count))

    def take(self, company_id: str, path: str) -> PlannedFault | None:
        """The fault for this request of `company_id` to `path`: the first planned one that matches, used up once."""
        with self._lock:
            plans = self._plans.get(company_id, [])
            for index, planned in enumerate(plans):
                if planned.fault.path_contains in path:
                    planned.left -= 1
                    if planned.left == 0:
                        del plans[index]
                    return planned.fault
            return None

    def pending(self, company_id: str) -> int:
        """Requests of `company_id` that a planned fault still waits for."""
        with self._lock:
            return sum(planned.left for planned in self._plans.get(company_id, []))

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()
