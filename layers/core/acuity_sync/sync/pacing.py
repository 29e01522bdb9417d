"""One message's ledger calls under the tenant's budget for that ledger (store/budgets.py), in as few writes as the
bucket allows.

A sync holds one of the tenant's concurrency slots for the ledger while it calls it. Once the plan says how many
calls it expects, the slot and up to that many tokens are taken in one write (begin()); each call spends one of
them, or past them takes its own; the end gives the slot back with the tokens no call spent, in one more write
(close()). A call made before the plan (the company's settings, a crashed write looked for) takes the slot and
its own token the same way. So a message that writes pays two writes for its pacing however many calls it makes,
while the bucket holds them; when the bucket is nearly empty it takes what there is and the rest call by call,
never waiting for tokens it does not need yet.

A short wait is slept through, a long one raises RateLimited, so the message backs off (or parks) instead of
holding a worker; every slot held is a RateLimited at once (a holder usually finishes within a second)."""

from __future__ import annotations

import time
from collections.abc import Callable

from acuity_sync.domain.budget import Budget
from acuity_sync.domain.errors import RateLimited
from acuity_sync.domain.steps import EnsureCustomer, Step, VoidInvoice
from acuity_sync.store.budgets import DEFAULT_LEASE_SECONDS, BudgetStore, Lease, SlotGranted, Taken, Wait, WaitReason

LONGEST_INLINE_WAIT = 2.0  # seconds a call may wait for its budget in-process
MAX_TRIES = 10
BUSY = "the accounting app already has the most calls in flight for this business"
SPENT = "the request budget for this accounting app is spent"


def expected_calls(steps: tuple[Step, ...]) -> int:
    """The ledger calls a plan's steps take, at most as far as the engine can tell: a customer looked up and
    added (none when it is known: the tokens taken for it are given back), a void that reads the invoice first
    (FreshBooks), one write for every other step."""
    return sum(2 if isinstance(step, EnsureCustomer | VoidInvoice) else 1 for step in steps)


class LedgerPacing:
    """The pacing of one message's calls to one tenant's ledger: the adapter calls it before each request (it is
    the adapter's `Pace`); begin() and close() are the sync's. `budget` already in the time scale
    (Budget.in_time_scale); the longest wait slept through is scaled with it (at 0.1 every function second is a
    tenth as long: an unscaled 2 s would be 20 of them, slept through call after call until the batch times out)."""

    def __init__(
        self,
        budgets: BudgetStore,
        name: str,
        budget: Budget | None,
        *,
        time_scale: float = 1.0,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        hold_slot: bool = True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._budgets = budgets
        self._name = name
        self._budget = budget  # None: calls are not paced
        self._longest = LONGEST_INLINE_WAIT * time_scale
        self._lease_seconds = lease_seconds
        self._hold_slot = hold_slot and budget is not None and budget.max_concurrent is not None
        self._sleep = sleep
        self._lease: Lease | None = None
        self._prepaid = 0  # tokens taken and not yet spent by a call

    def begin(self, calls: int) -> None:
        """Before the plan's writes: the slot, and tokens for up to `calls` calls. Without a slot there is no write
        to give unspent tokens back with, so each call takes its own."""
        if self._hold_slot and calls > self._prepaid:
            self._obtain(calls - self._prepaid)

    def __call__(self) -> None:
        """Before each request: one token, from those taken before or taken now."""
        if self._prepaid == 0:
            self._obtain(1)
        self._prepaid -= 1

    def close(self) -> None:
        """The slot given back, with the tokens no call spent."""
        lease, unused = self._lease, self._prepaid
        self._lease, self._prepaid = None, 0
        if lease is not None:
            self._budgets.release_slot(lease, unused=unused)

    def _obtain(self, calls: int) -> None:
        budget = self._budget
        if budget is None:
            self._prepaid += calls
            return
        for _ in range(MAX_TRIES):
            answer: SlotGranted | Taken | Wait
            if self._hold_slot and self._lease is None:
                answer = self._budgets.acquire_slot(self._name, budget, lease_seconds=self._lease_seconds, tokens=calls)
                if isinstance(answer, SlotGranted):
                    self._lease = answer.lease
                    self._prepaid += answer.tokens
                    return
            else:
                answer = self._budgets.take_up_to(self._name, budget, calls)
                if isinstance(answer, Taken):
                    self._prepaid += answer.count
                    return
            if answer.reason is WaitReason.CONCURRENCY:
                raise RateLimited(answer.seconds, BUSY)
            if answer.seconds > self._longest:
                raise RateLimited(answer.seconds, f"{SPENT} ({answer.reason})")
            self._sleep(answer.seconds)
        raise RateLimited(LONGEST_INLINE_WAIT, "the request budget for this accounting app is contended")
