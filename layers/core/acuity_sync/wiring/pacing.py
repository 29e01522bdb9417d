"""Pacing a ledger's calls under the tenant's budget for that ledger (store/budgets.py): a short wait is slept
through, a long one becomes RateLimited, so the message backs off (or parks) instead of holding a worker. The
adapters call the `Pace` this returns before each request (ledgers/transport.py)."""

from __future__ import annotations

import time
from collections.abc import Callable

from acuity_sync.domain.budget import Budget
from acuity_sync.domain.errors import RateLimited
from acuity_sync.ledgers.base import Pace
from acuity_sync.store.budgets import BudgetStore, Wait

LONGEST_INLINE_WAIT = 2.0  # seconds a call may wait for its budget in-process
MAX_TRIES = 10


def pacer(
    budgets: BudgetStore,
    name: str,
    budget: Budget,
    sleep: Callable[[float], None] = time.sleep,
    *,
    time_scale: float = 1.0,
) -> Pace:
    """`budget` already in the time scale (Budget.in_time_scale); the longest wait slept through in-process is
    scaled with it (the local stack's 0.1 makes every wait a tenth as long, and the function's timeout too: an
    unscaled 2 s would be 20 of the function's seconds, slept through call after call until the batch times out)."""
    longest = LONGEST_INLINE_WAIT * time_scale

    def pace() -> None:
        for _ in range(MAX_TRIES):
            answer = budgets.take(name, budget)
            if not isinstance(answer, Wait):
                return
            if answer.seconds > longest:
                raise RateLimited(
                    answer.seconds, f"the request budget for this accounting app is spent ({answer.reason})"
                )
            sleep(answer.seconds)
        raise RateLimited(LONGEST_INLINE_WAIT, "the request budget for this accounting app is contended")

    return pace
