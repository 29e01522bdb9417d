"""One message's pacing of its ledger calls (sync/pacing.py): the slot and the plan's tokens in one write, the
unspent ones given back with the slot; a short wait slept through, a long one RateLimited, a full set of slots
RateLimited at once; in the local stack's time scale, "long" is scaled with the budget and the timeouts. (The table's
part is store/budgets.py's, tested against DynamoDB in tests/integration/test_budgets.py.)"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

import pytest

from acuity_sync.domain.budget import Budget
from acuity_sync.domain.documents import InvoiceLine
from acuity_sync.domain.errors import RateLimited
from acuity_sync.domain.steps import CreateInvoice, EnsureCustomer, SendInvoice, VoidInvoice
from acuity_sync.store.budgets import BudgetStore, Lease, SlotGranted, Taken, Wait, WaitReason
from acuity_sync.sync.pacing import BUSY, LONGEST_INLINE_WAIT, LedgerPacing, expected_calls

BUDGET = Budget(rate_per_second=1.0, burst=5.0, max_concurrent=2)
LEASE = Lease("t#xero", "lease-1", 60.0)


class Answers:
    """A budget store that answers each acquire_slot/take_up_to with the next of `answers` (granting up to the
    tokens asked, at most `grant`) and records what was asked of it."""

    def __init__(self, *answers: Wait | int) -> None:
        self._answers = list(answers)
        self.asked: list[tuple[str, Any]] = []

    def acquire_slot(self, name: str, budget: Budget, *, lease_seconds: float, tokens: int) -> SlotGranted | Wait:  # noqa: ARG002
        self.asked.append(("slot", tokens))
        answer = self._answers.pop(0)
        return answer if isinstance(answer, Wait) else SlotGranted(LEASE, 1, min(tokens, answer))

    def take_up_to(self, name: str, budget: Budget, most: int) -> Taken | Wait:  # noqa: ARG002
        self.asked.append(("take", most))
        answer = self._answers.pop(0)
        return answer if isinstance(answer, Wait) else Taken(min(most, answer), 0.0)

    def release_slot(self, lease: Lease, *, unused: int = 0) -> bool:  # noqa: ARG002
        self.asked.append(("release", unused))
        return True


def pacing(store: Answers, budget: Budget = BUDGET, **options: Any) -> LedgerPacing:
    return LedgerPacing(cast(BudgetStore, store), "t#xero", budget, **options)


def test_the_slot_and_the_plans_tokens_are_one_write_and_the_unspent_go_back_with_the_slot() -> None:
    store = Answers(5)
    pace = pacing(store)
    pace.begin(4)
    for _ in range(3):
        pace()
    pace.close()
    assert store.asked == [("slot", 4), ("release", 1)]


def test_past_the_tokens_taken_each_call_takes_its_own() -> None:
    store = Answers(2, 1, 1)  # the bucket held two when the plan's four were asked for
    pace = pacing(store)
    pace.begin(4)
    for _ in range(4):
        pace()
    pace.close()
    assert store.asked == [("slot", 4), ("take", 1), ("take", 1), ("release", 0)]


def test_a_call_before_the_plan_holds_the_slot_and_the_plan_tops_it_up() -> None:
    store = Answers(1, 5)
    pace = pacing(store)
    pace()  # the company's settings, read before the plan
    pace.begin(3)
    for _ in range(3):
        pace()
    pace.close()
    assert store.asked == [("slot", 1), ("take", 3), ("release", 0)]


def test_every_slot_held_is_rate_limited_at_once_and_nothing_is_released() -> None:
    slept: list[float] = []
    store = Answers(Wait(1.0, WaitReason.CONCURRENCY))
    pace = pacing(store, sleep=slept.append)
    with pytest.raises(RateLimited) as raised:
        pace.begin(2)
    pace.close()
    assert raised.value.message == BUSY
    assert slept == []
    assert store.asked == [("slot", 2)]


def test_a_short_wait_is_slept_through() -> None:
    slept: list[float] = []
    store = Answers(Wait(1.5, WaitReason.RATE), 3)
    pacing(store, sleep=slept.append).begin(3)
    assert slept == [1.5]
    assert store.asked == [("slot", 3), ("slot", 3)]


def test_a_long_wait_becomes_rate_limited() -> None:
    store = Answers(Wait(LONGEST_INLINE_WAIT + 1, WaitReason.RATE))
    with pytest.raises(RateLimited):
        pacing(store, sleep=lambda _: None)()


def test_in_a_time_scale_the_longest_wait_slept_through_is_scaled_too() -> None:
    """At 0.1 the function's timeout is a tenth as long: a 1.5 s wait is 15 of its seconds, not slept through."""
    slept: list[float] = []
    scaled = BUDGET.in_time_scale(0.1)
    with pytest.raises(RateLimited) as raised:
        pacing(Answers(Wait(1.5, WaitReason.RATE)), scaled, sleep=slept.append, time_scale=0.1)()
    assert slept == []
    assert raised.value.retry_after == 1.5
    pacing(Answers(Wait(0.15, WaitReason.RATE), 1), scaled, sleep=slept.append, time_scale=0.1)()
    assert slept == [0.15]


def test_without_a_slot_the_calls_are_paced_alone() -> None:
    """The connect flow's consent calls, and a budget with no concurrency limit: nothing is taken ahead, since
    there is no slot to give the unspent tokens back with."""
    store = Answers(1, 1)
    pace = pacing(store, hold_slot=False)
    pace.begin(3)
    pace()
    pace()
    pace.close()
    assert store.asked == [("take", 1), ("take", 1)]


def test_a_plan_expects_two_calls_for_a_customer_and_a_void_and_one_for_any_other_step() -> None:
    line = InvoiceLine(description="Massage", amount=Decimal("80.00"))
    assert expected_calls((EnsureCustomer(), CreateInvoice((line,), None), SendInvoice("a@example.com"))) == 4
    assert expected_calls((VoidInvoice(),)) == 2
    assert expected_calls(()) == 0
