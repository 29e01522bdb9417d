"""Spending the global Acuity budget from background work (reconciliation, backfill) without starving webhooks:
each Acuity request takes a token with a reserve (store/budgets.py `take(reserve=)`), so the background stops a
token short of where a webhook's sync would, and waits (briefly, while its run has time) rather than compete."""

from __future__ import annotations

import time
from collections.abc import Callable

from acuity_sync.domain.budget import Budget
from acuity_sync.store.budgets import ACUITY_BUDGET_NAME, BudgetStore, Wait

# Tokens of the global Acuity bucket (burst 2) that background work leaves: it takes only when the bucket is full.
ACUITY_RESERVE = 1
LONGEST_SLEEP = 1.0  # seconds between looks at the bucket while it is busy


class AcuityPacer:
    """Call before each Acuity request: True once a token is taken, False when the run must stop (time is up)."""

    def __init__(
        self,
        budgets: BudgetStore,
        budget: Budget,
        *,
        keep_going: Callable[[], bool],
        reserve: int = ACUITY_RESERVE,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._budgets = budgets
        self._budget = budget
        self._keep_going = keep_going
        self._reserve = reserve
        self._sleep = sleep
        self.requests = 0  # tokens taken: Acuity requests made under this pacer

    def __call__(self) -> bool:
        while self._keep_going():
            answer = self._budgets.take(ACUITY_BUDGET_NAME, self._budget, reserve=self._reserve)
            if not isinstance(answer, Wait):
                self.requests += 1
                return True
            self._sleep(min(answer.seconds, LONGEST_SLEEP))
        return False
