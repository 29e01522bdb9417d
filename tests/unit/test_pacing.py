"""The pacer of a ledger's calls (wiring/pacing.py): a short wait for the tenant's budget is slept through, a long
one becomes RateLimited; in the local stack's time scale, "long" is scaled with the budget and the timeouts."""

from __future__ import annotations

from typing import cast

import pytest

from acuity_sync.domain.budget import Budget
from acuity_sync.domain.errors import RateLimited
from acuity_sync.store.budgets import BudgetStore, Granted, Wait, WaitReason
from acuity_sync.wiring.pacing import LONGEST_INLINE_WAIT, pacer

BUDGET = Budget(rate_per_second=1.0, burst=1.0)


class Answers:
    """A budget store that answers each take with the next of `answers` (the table's part is store/budgets.py's,
    tested against DynamoDB in tests/integration/test_budgets.py)."""

    def __init__(self, *answers: Wait | Granted) -> None:
        self._answers = list(answers)

    def take(self, name: str, budget: Budget) -> Wait | Granted:  # noqa: ARG002 - the store's signature
        return self._answers.pop(0)


def granted() -> Granted:
    return Granted(remaining=0.0)


def test_a_short_wait_is_slept_through() -> None:
    slept: list[float] = []
    store = Answers(Wait(1.5, WaitReason.RATE), granted())
    pacer(cast(BudgetStore, store), "b", BUDGET, slept.append)()
    assert slept == [1.5]


def test_a_long_wait_becomes_rate_limited() -> None:
    store = Answers(Wait(LONGEST_INLINE_WAIT + 1, WaitReason.RATE))
    with pytest.raises(RateLimited):
        pacer(cast(BudgetStore, store), "b", BUDGET, lambda _: None)()


def test_in_a_time_scale_the_longest_wait_slept_through_is_scaled_too() -> None:
    """At 0.1 the function's timeout is a tenth as long: a 1.5 s wait is 15 of its seconds, not slept through."""
    slept: list[float] = []
    store = Answers(Wait(1.5, WaitReason.RATE))
    with pytest.raises(RateLimited) as raised:
        pacer(cast(BudgetStore, store), "b", BUDGET.in_time_scale(0.1), slept.append, time_scale=0.1)()
    assert slept == []
    assert raised.value.retry_after == 1.5
    short = Answers(Wait(0.15, WaitReason.RATE), granted())
    pacer(cast(BudgetStore, short), "b", BUDGET.in_time_scale(0.1), slept.append, time_scale=0.1)()
    assert slept == [0.15]
