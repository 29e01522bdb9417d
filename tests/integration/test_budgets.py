"""Rate budgets in the template's table (moto): bucket refill, daily cap, concurrency leases, races, exact ops."""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from acuity_sync.acuity.client import ACUITY_BUDGET
from acuity_sync.domain.budget import Budget
from acuity_sync.domain.names import LedgerName
from acuity_sync.ledgers.quickbooks import QUICKBOOKS_BUDGET
from acuity_sync.ledgers.registry import LEDGERS
from acuity_sync.ledgers.xero import XERO_BUDGET, XERO_STARTER_BUDGET
from acuity_sync.store.budgets import (
    ACUITY_BUDGET_NAME,
    BUCKET_SK,
    BudgetStore,
    Granted,
    SlotGranted,
    Taken,
    Wait,
    WaitReason,
    budget_pk,
    ledger_budget_name,
)
from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack

START = datetime(2025, 4, 24, 18, 0, tzinfo=UTC).timestamp()  # six hours before midnight UTC


class ManualClock:
    """Epoch seconds that move only when told to (thread-safe: the race tests move it while others read)."""

    def __init__(self, now: float = START) -> None:
        self._now = now
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def set(self, now: float) -> None:
        with self._lock:
            self._now = now


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def new_store(stack: ProvisionedStack, clock: Callable[[], float], **kwargs: Any) -> tuple[BudgetStore, Counter[str]]:
    """A store with its own client, and a count of the DynamoDB operations it makes."""
    client = boto3.client("dynamodb", region_name=stack.region)
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls.update([model.name])

    client.meta.events.register("before-call.dynamodb.*", count)
    return BudgetStore(client, stack.table_name, clock=clock, **kwargs), calls


@pytest.fixture
def store(stack: ProvisionedStack, clock: ManualClock) -> BudgetStore:
    return new_store(stack, clock)[0]


def raw_item(stack: ProvisionedStack, name: str, sk: str) -> dict[str, Any]:
    client = boto3.client("dynamodb", region_name=stack.region)
    return dict(
        client.get_item(TableName=stack.table_name, Key={"pk": {"S": budget_pk(name)}, "sk": {"S": sk}})["Item"]
    )


# ----------------------------------------------------------------------------------------------- the chosen budgets


def most_in_any_window(budget: Budget, seconds: float) -> float:
    """What a bucket grants at most in any window of `seconds`: a full burst plus the refill."""
    return budget.burst + budget.rate_per_second * seconds


def test_the_budgets_keep_under_the_published_limits() -> None:
    assert most_in_any_window(ACUITY_BUDGET, 1) < 10  # 10 a second per IP, with a margin
    assert ACUITY_BUDGET.max_concurrent == 20
    assert most_in_any_window(QUICKBOOKS_BUDGET, 1) < 10
    assert most_in_any_window(QUICKBOOKS_BUDGET, 60) < 500
    assert QUICKBOOKS_BUDGET.max_concurrent == 10
    assert most_in_any_window(XERO_BUDGET, 60) < 60
    assert (XERO_BUDGET.daily_cap, XERO_STARTER_BUDGET.daily_cap, XERO_BUDGET.max_concurrent) == (5000, 1000, 5)
    assert {declaration.name for declaration in LEDGERS} == set(LedgerName)  # each declares its budget
    assert ledger_budget_name("t" * 32, LedgerName.XERO) == f"{'t' * 32}#xero"
    assert budget_pk(ACUITY_BUDGET_NAME) == "BUDGET#acuity"


@pytest.mark.parametrize(
    "arguments",
    [
        {"rate_per_second": 0, "burst": 1},
        {"rate_per_second": 1, "burst": 0.5},
        {"rate_per_second": math.inf, "burst": 1},
        {"rate_per_second": 1, "burst": 1, "daily_cap": 0},
        {"rate_per_second": 1, "burst": 1, "max_concurrent": 0},
    ],
)
def test_nonsense_budgets_are_refused(arguments: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        Budget(**arguments)


# ----------------------------------------------------------------------------------------------- token bucket


def test_a_new_bucket_is_full_then_refills_at_the_rate_up_to_the_burst(
    store: BudgetStore, clock: ManualClock, stack: ProvisionedStack
) -> None:
    budget = Budget(rate_per_second=2.0, burst=4.0)
    assert [store.take("t#x", budget) for _ in range(4)] == [Granted(3.0), Granted(2.0), Granted(1.0), Granted(0.0)]
    assert store.take("t#x", budget) == Wait(0.5, WaitReason.RATE)
    clock.advance(0.25)
    assert store.take("t#x", budget) == Wait(0.25, WaitReason.RATE)
    clock.advance(0.25)
    assert store.take("t#x", budget) == Granted(0.0)
    clock.advance(60)
    assert store.bucket("t#x", budget).tokens == 4.0  # capped at the burst, not 120
    assert store.take("t#x", budget, tokens=3) == Granted(1.0)
    assert store.take("t#x", budget, tokens=2) == Wait(0.5, WaitReason.RATE)  # a refusal takes nothing
    assert store.take("t#x", budget) == Granted(0.0)
    item = raw_item(stack, "t#x", BUCKET_SK)
    assert item["v"] == {"N": "7"}  # one write per grant
    assert float(item["updated_at"]["N"]) == clock()
    assert int(item["expires_at"]["N"]) == math.ceil(clock() + 2 * 86400)


def test_a_budget_in_a_time_scale_waits_that_much_less_and_keeps_its_limits(store: BudgetStore) -> None:
    scaled = XERO_BUDGET.in_time_scale(0.05)  # the local stack's end-to-end scale
    assert scaled.rate_per_second == pytest.approx(18.0)
    assert scaled.burst == XERO_BUDGET.burst
    assert (scaled.daily_cap, scaled.max_concurrent) == (XERO_BUDGET.daily_cap, XERO_BUDGET.max_concurrent)
    for _ in range(5):
        store.take("t#scaled", scaled)
    wait = store.take("t#scaled", scaled)
    assert isinstance(wait, Wait)
    assert wait.seconds == pytest.approx((1 / 0.9) * 0.05)  # Xero's 1.1 s between calls, at 0.05


def test_fractional_rates_grant_whole_tokens_on_time(store: BudgetStore, clock: ManualClock) -> None:
    budget = Budget(rate_per_second=0.9, burst=1.0)
    assert isinstance(store.take("slow", budget), Granted)
    wait = store.take("slow", budget)
    assert isinstance(wait, Wait)
    assert wait.seconds == pytest.approx(1 / 0.9)
    clock.advance(10 / 9)  # exactly one token, although 0.9 * (10 / 9) is 0.9999999999999999 in floats
    assert isinstance(store.take("slow", budget), Granted)


def test_buckets_are_independent(store: BudgetStore) -> None:
    budget = Budget(rate_per_second=1.0, burst=1.0)
    assert isinstance(store.take(ledger_budget_name("tenant-a" * 3, LedgerName.XERO), budget), Granted)
    assert isinstance(store.take(ledger_budget_name("tenant-a" * 3, LedgerName.QUICKBOOKS), budget), Granted)
    assert isinstance(store.take(ledger_budget_name("tenant-b" * 3, LedgerName.XERO), budget), Granted)
    assert isinstance(store.take(ledger_budget_name("tenant-a" * 3, LedgerName.XERO), budget), Wait)


def test_a_clock_behind_the_stored_time_earns_nothing(
    store: BudgetStore, clock: ManualClock, stack: ProvisionedStack
) -> None:
    budget = Budget(rate_per_second=1.0, burst=2.0)
    store.take("skew", budget)
    store.take("skew", budget)
    written_at = clock()
    clock.set(written_at - 5)  # another Lambda whose clock is behind
    assert store.take("skew", budget) == Wait(1.0, WaitReason.RATE)
    clock.set(written_at + 1)
    assert store.take("skew", budget) == Granted(0.0)
    assert float(raw_item(stack, "skew", BUCKET_SK)["updated_at"]["N"]) == written_at + 1


def test_taking_more_than_the_burst_is_a_programming_error(store: BudgetStore) -> None:
    with pytest.raises(ValueError, match="burst"):
        store.take("x", Budget(rate_per_second=1.0, burst=2.0), tokens=3)
    with pytest.raises(ValueError, match="burst"):
        store.take("x", Budget(rate_per_second=1.0, burst=2.0), tokens=0)


def test_background_work_takes_only_while_its_reserve_would_remain(store: BudgetStore, clock: ManualClock) -> None:
    """Reconciliation and backfill spend the global Acuity bucket with a reserve: they stop a token short of where
    a webhook's sync would, so a sync finds a token the background left (issue 11, wave-2 plan agreement 2)."""
    budget = Budget(rate_per_second=2.0, burst=3.0)
    assert store.take("shared", budget, reserve=1) == Granted(2.0)
    assert store.take("shared", budget, reserve=1) == Granted(1.0)
    assert store.take("shared", budget, reserve=1) == Wait(0.5, WaitReason.RATE)  # would leave none: refused
    assert store.take("shared", budget) == Granted(0.0)  # the live caller still gets the token left
    assert store.take("shared", budget, reserve=1) == Wait(1.0, WaitReason.RATE)  # until 2 tokens are in
    clock.advance(1.0)
    assert store.take("shared", budget, reserve=1) == Granted(1.0)
    with pytest.raises(ValueError, match="reserve"):
        store.take("shared", budget, tokens=2, reserve=2)  # 4 > the burst: it could never be granted
    with pytest.raises(ValueError, match="reserve"):
        store.take("shared", budget, reserve=-1)


def test_the_daily_cap_waits_for_the_next_utc_day(store: BudgetStore, clock: ManualClock) -> None:
    budget = Budget(rate_per_second=100.0, burst=10.0, daily_cap=5)
    assert all(isinstance(store.take("capped", budget), Granted) for _ in range(5))
    assert store.take("capped", budget) == Wait(6 * 3600.0, WaitReason.DAILY_CAP)
    clock.advance(3600)
    assert store.take("capped", budget) == Wait(5 * 3600.0, WaitReason.DAILY_CAP)
    assert store.bucket("capped", budget).day_count == 5
    clock.advance(5 * 3600)  # midnight UTC
    assert isinstance(store.take("capped", budget), Granted)
    state = store.bucket("capped", budget)
    assert (state.day, state.day_count) == ("2025-04-25", 1)


def test_the_daily_cap_counts_tokens_not_calls(store: BudgetStore) -> None:
    budget = Budget(rate_per_second=100.0, burst=10.0, daily_cap=5)
    assert isinstance(store.take("batch", budget, tokens=3), Granted)
    assert store.take("batch", budget, tokens=3) == Wait(6 * 3600.0, WaitReason.DAILY_CAP)
    assert isinstance(store.take("batch", budget, tokens=2), Granted)


# ----------------------------------------------------------------------------------------------- concurrency


def test_slots_are_acquired_up_to_the_limit_and_released(
    store: BudgetStore, clock: ManualClock, stack: ProvisionedStack
) -> None:
    budget = Budget(rate_per_second=1.0, burst=1.0, max_concurrent=2)
    first = store.acquire_slot("conc", budget, lease_seconds=30)
    second = store.acquire_slot("conc", budget, lease_seconds=30)
    assert isinstance(first, SlotGranted)
    assert isinstance(second, SlotGranted)
    assert (first.in_use, second.in_use) == (1, 2)
    assert first.lease.lease_id != second.lease.lease_id
    assert first.lease.expires_at == clock() + 30
    assert store.acquire_slot("conc", budget) == Wait(1.0, WaitReason.CONCURRENCY)
    assert store.release_slot(first.lease) is True
    assert store.release_slot(first.lease) is False  # twice is harmless
    third = store.acquire_slot("conc", budget)
    assert isinstance(third, SlotGranted)
    assert set(store.slots("conc")) == {second.lease.lease_id, third.lease.lease_id}
    item = raw_item(stack, "conc", BUCKET_SK)
    assert int(item["expires_at"]["N"]) >= third.lease.expires_at + 3600


def test_a_crashed_holders_slot_lapses_with_its_lease(store: BudgetStore, clock: ManualClock) -> None:
    budget = Budget(rate_per_second=1.0, burst=1.0, max_concurrent=2)
    crashed = store.acquire_slot("lapse", budget, lease_seconds=30)
    clock.advance(10)
    alive = store.acquire_slot("lapse", budget, lease_seconds=30)
    assert isinstance(crashed, SlotGranted)
    assert isinstance(alive, SlotGranted)
    clock.advance(19.6)
    waiting = store.acquire_slot("lapse", budget)
    assert isinstance(waiting, Wait)
    assert waiting.reason is WaitReason.CONCURRENCY
    assert waiting.seconds == pytest.approx(0.4)  # the crashed holder's lease ends before the poll interval
    clock.advance(0.4)  # the crashed holder's lease ends; it never released
    taken = store.acquire_slot("lapse", budget)
    assert isinstance(taken, SlotGranted)
    assert taken.in_use == 2
    assert set(store.slots("lapse")) == {alive.lease.lease_id, taken.lease.lease_id}
    assert store.release_slot(crashed.lease) is False  # reclaimed already


def test_a_release_between_read_and_write_is_not_undone(stack: ProvisionedStack, clock: ManualClock) -> None:
    """An acquirer that read the holders before a release must not write the released lease back."""
    budget = Budget(rate_per_second=1.0, burst=1.0, max_concurrent=3)
    store, _ = new_store(stack, clock)
    held = store.acquire_slot("undo", budget)
    assert isinstance(held, SlotGranted)
    released = False

    def clock_that_releases_first() -> float:
        nonlocal released
        if not released:  # called after the acquirer's read, before its write
            released = True
            assert store.release_slot(held.lease)
        return clock()

    racer, calls = new_store(stack, clock_that_releases_first)
    granted = racer.acquire_slot("undo", budget)
    assert isinstance(granted, SlotGranted)
    assert set(store.slots("undo")) == {granted.lease.lease_id}
    assert calls == Counter({"GetItem": 1, "UpdateItem": 2})


def test_a_slot_and_up_to_n_tokens_are_taken_in_one_write_and_the_unspent_given_back_with_it(
    stack: ProvisionedStack, clock: ManualClock
) -> None:
    budget = Budget(rate_per_second=1.0, burst=5.0, daily_cap=100, max_concurrent=2)
    store, calls = new_store(stack, clock)
    first = store.acquire_slot("both", budget, tokens=3)
    assert isinstance(first, SlotGranted)
    assert first.tokens == 3
    calls.clear()
    second = store.acquire_slot("both", budget, tokens=4)  # the bucket holds 2: it takes them, not waits for 4
    assert isinstance(second, SlotGranted)
    assert second.tokens == 2
    assert calls == Counter({"UpdateItem": 1})
    assert store.bucket("both", budget).tokens == pytest.approx(0.0)
    assert store.acquire_slot("both", budget, tokens=1) == Wait(1.0, WaitReason.CONCURRENCY)
    assert store.release_slot(first.lease, unused=2) is True  # two of its three calls were not made
    state = store.bucket("both", budget)
    assert state.tokens == pytest.approx(2.0)
    assert state.day_count == 3
    assert set(store.slots("both")) == {second.lease.lease_id}
    item = raw_item(stack, "both", BUCKET_SK)
    assert int(item["expires_at"]["N"]) >= second.lease.expires_at + 3600
    # Empty, the bucket refuses the slot as it would refuse the token: no slot is held for a call that must wait.
    assert store.take_up_to("both", budget, 5) == Taken(2, 0.0)
    assert store.acquire_slot("both", budget, tokens=2) == Wait(1.0, WaitReason.RATE)
    assert set(store.slots("both")) == {second.lease.lease_id}
    assert store.release_slot(second.lease, unused=1) is True
    assert store.release_slot(second.lease, unused=1) is False  # twice gives nothing back twice
    assert store.bucket("both", budget).tokens == pytest.approx(1.0)


def test_take_up_to_takes_what_the_bucket_and_the_day_allow(store: BudgetStore, clock: ManualClock) -> None:
    budget = Budget(rate_per_second=1.0, burst=4.0, daily_cap=6)
    assert store.take_up_to("upto", budget, 10) == Taken(4, 0.0)  # the burst
    assert store.take_up_to("upto", budget, 1) == Wait(1.0, WaitReason.RATE)
    clock.advance(3)
    assert store.take_up_to("upto", budget, 3) == Taken(2, 1.0)  # the day's cap leaves two
    clock.advance(1)
    answer = store.take_up_to("upto", budget, 1)
    assert isinstance(answer, Wait)
    assert answer.reason is WaitReason.DAILY_CAP


def test_a_budget_without_a_concurrency_limit_has_no_slots(store: BudgetStore) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        store.acquire_slot("none", Budget(rate_per_second=1.0, burst=1.0))


# ----------------------------------------------------------------------------------------------- exact operations


def test_the_documented_dynamodb_operations_per_call(stack: ProvisionedStack, clock: ManualClock) -> None:
    budget = Budget(rate_per_second=1.0, burst=1.0, daily_cap=2, max_concurrent=1)
    store, calls = new_store(stack, clock)

    def ops(action: Callable[[], object]) -> Counter[str]:
        calls.clear()
        action()
        return Counter(calls)

    assert ops(lambda: store.take("ops", budget)) == Counter({"GetItem": 1, "UpdateItem": 1})  # granted, first
    assert ops(lambda: store.take("ops", budget)) == Counter({"GetItem": 1})  # refused: rate (read, not guessed)
    clock.advance(1)
    assert ops(lambda: store.take("ops", budget)) == Counter({"UpdateItem": 1})  # granted from the kept state
    clock.advance(1)
    assert ops(lambda: store.take("ops", budget)) == Counter({"GetItem": 1})  # refused: daily cap
    assert ops(lambda: store.acquire_slot("slots", budget)) == Counter({"GetItem": 1, "UpdateItem": 1})  # first
    slot = store.acquire_slot("slots", SLOT_BUDGET_OF_TWO)
    assert isinstance(slot, SlotGranted)
    assert ops(lambda: store.acquire_slot("slots", budget)) == Counter({"GetItem": 1})  # refused: full
    assert ops(lambda: store.release_slot(slot.lease)) == Counter({"UpdateItem": 1})
    assert ops(lambda: store.acquire_slot("slots", SLOT_BUDGET_OF_TWO)) == Counter({"UpdateItem": 1})  # kept state
    # The slot lives in the bucket's item: the slot and tokens are one write, their release with a refund another.
    clock.advance(86400)
    held = store.acquire_slot("ops", SLOT_BUDGET_OF_TWO, tokens=1)
    assert isinstance(held, SlotGranted)
    assert ops(lambda: store.release_slot(held.lease, unused=1)) == Counter({"UpdateItem": 1})
    assert ops(lambda: store.take_up_to("ops", SLOT_BUDGET_OF_TWO, 1)) == Counter({"UpdateItem": 1})  # kept state


SLOT_BUDGET_OF_TWO = Budget(rate_per_second=1.0, burst=1.0, max_concurrent=2)


def test_a_kept_state_is_only_a_guess_the_condition_checks(stack: ProvisionedStack, clock: ManualClock) -> None:
    """A store's kept state that a peer has moved on from costs one failed write and is recomputed from the item
    the failure returns: no token is taken twice, and none granted that the bucket does not hold."""
    budget = Budget(rate_per_second=1.0, burst=3.0)
    ours, calls = new_store(stack, clock)
    peer, _ = new_store(stack, clock)
    assert ours.take("kept", budget) == Granted(2.0)  # GetItem + UpdateItem; the state is kept
    assert peer.take("kept", budget) == Granted(1.0)
    calls.clear()
    assert ours.take("kept", budget) == Granted(0.0)  # the kept state said 2: its write failed, then 1 - 1
    assert calls == Counter({"UpdateItem": 2})
    calls.clear()
    assert ours.take("kept", budget) == Wait(1.0, WaitReason.RATE)
    assert calls == Counter({"GetItem": 1})  # a refusal reads the item: it never answers from a guess
    assert peer.bucket("kept", budget).tokens == 0.0


def test_a_slot_a_peer_released_is_granted_although_the_kept_state_is_full(
    stack: ProvisionedStack, clock: ManualClock
) -> None:
    budget = Budget(rate_per_second=1.0, burst=1.0, max_concurrent=1)
    ours, calls = new_store(stack, clock)
    peer, _ = new_store(stack, clock)
    held = ours.acquire_slot("freed", budget)
    assert isinstance(held, SlotGranted)
    assert isinstance(ours.acquire_slot("freed", budget), Wait)  # the kept state now says full
    assert peer.release_slot(held.lease)  # released by a peer: our kept state does not know
    calls.clear()
    assert isinstance(ours.acquire_slot("freed", budget), SlotGranted)
    assert calls == Counter({"GetItem": 1, "UpdateItem": 1})


def test_a_lost_race_costs_one_more_update_and_no_read(stack: ProvisionedStack, clock: ManualClock) -> None:
    budget = Budget(rate_per_second=1.0, burst=3.0)
    rival, _ = new_store(stack, clock)
    rival.take("race", budget)  # the item exists: the loser's condition is on its version
    interfered = False

    def clock_with_a_rival() -> float:
        nonlocal interfered
        if not interfered:  # called after the loser's read, before its write
            interfered = True
            assert isinstance(rival.take("race", budget), Granted)
        return clock()

    loser, calls = new_store(stack, clock_with_a_rival)
    assert loser.take("race", budget) == Granted(0.0)  # recomputed from the rival's item: 3 - 1 - 1 - 1
    assert calls == Counter({"GetItem": 1, "UpdateItem": 2})


def test_endless_contention_ends_in_a_short_wait(stack: ProvisionedStack, clock: ManualClock) -> None:
    budget = Budget(rate_per_second=1.0, burst=10.0)
    rival, _ = new_store(stack, clock)
    rival.take("busy", budget)

    def clock_with_a_rival_every_time() -> float:
        rival.take("busy", budget)
        return clock()

    loser, calls = new_store(stack, clock_with_a_rival_every_time, max_attempts=3)
    assert loser.take("busy", budget) == Wait(0.05, WaitReason.CONTENTION)
    assert calls == Counter({"GetItem": 1, "UpdateItem": 3})
    assert rival.bucket("busy", budget).tokens == 6.0  # the loser took nothing


# ----------------------------------------------------------------------------------------------- races


def run_threads(count: int, work: Callable[[int], None]) -> None:
    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            start.wait()
            work(index)
        except BaseException as error:  # surfaced below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors


@pytest.mark.usefixtures("atomic_moto")
def test_eight_threads_never_take_more_than_the_burst_and_the_refill(stack: ProvisionedStack) -> None:
    clock = ManualClock()
    budget = Budget(rate_per_second=5.0, burst=10.0, daily_cap=1000)
    stores = [new_store(stack, clock)[0] for _ in range(8)]
    granted: Counter[int] = Counter()
    outcomes: Counter[WaitReason] = Counter()

    def drain(index: int) -> None:
        """Take until the bucket says it is empty (a lost race is simply tried again)."""
        while True:
            answer = stores[index].take("shared", budget)
            if isinstance(answer, Granted):
                granted[index] += 1
            elif answer.reason is WaitReason.RATE:
                return
            else:
                outcomes[answer.reason] += 1

    run_threads(8, drain)
    assert sum(granted.values()) == 10  # the burst, exactly: not one more
    clock.advance(2.0)
    run_threads(8, drain)
    assert sum(granted.values()) == 20  # + 2 s at 5 a second
    # The day's count is written with each grant: a lost update would show as a count below the grants.
    assert stores[0].bucket("shared", budget).day_count == 20
    assert set(outcomes) <= {WaitReason.CONTENTION}


@pytest.mark.usefixtures("atomic_moto")
def test_threads_racing_a_moving_clock_stay_within_burst_plus_refill(stack: ProvisionedStack) -> None:
    clock = ManualClock()
    budget = Budget(rate_per_second=20.0, burst=5.0)
    stores = [new_store(stack, clock)[0] for _ in range(8)]
    grants: list[int] = []
    takes = [0] * 8  # takes each taker (1 to 7) has finished
    progress = threading.Condition()
    stop = threading.Event()

    def takers_on_the_clock_since(before: list[int]) -> int:
        """Takers that finished two takes since `before`: the second began after it, on the clock as it is now."""
        return sum(1 for now, then in zip(takes[1:], before[1:], strict=True) if now - then >= 2)

    def wait_for_takers(count: int) -> None:
        with progress:
            before = list(takes)
            assert progress.wait_for(lambda: takers_on_the_clock_since(before) >= count, timeout=60), takes

    def work(index: int) -> None:
        if index == 0:  # the clock: 1.5 s in steps of 10 ms, each seen by a taker before the next
            try:
                for _ in range(150):
                    clock.advance(0.01)
                    wait_for_takers(1)
                wait_for_takers(7)  # the last refill was offered to every taker
            finally:
                stop.set()
            return
        while not stop.is_set():
            if isinstance(stores[index].take("moving", budget), Granted):
                with progress:
                    grants.append(index)
            with progress:
                takes[index] += 1
                progress.notify_all()

    run_threads(8, work)
    elapsed = clock() - START
    assert elapsed == pytest.approx(1.5)
    assert len(grants) <= math.floor(budget.burst + budget.rate_per_second * elapsed + 1e-9)
    assert len(grants) > budget.burst  # the refill was handed out too, not only the burst
    assert stores[1].bucket("moving", budget).day_count == len(grants)


@pytest.mark.usefixtures("atomic_moto")
def test_eight_threads_share_three_slots(stack: ProvisionedStack) -> None:
    clock = ManualClock()
    budget = Budget(rate_per_second=1.0, burst=1.0, max_concurrent=3)
    stores = [new_store(stack, clock)[0] for _ in range(8)]
    holders: list[SlotGranted] = []
    lock = threading.Lock()

    def grab(index: int) -> None:
        while True:
            answer = stores[index].acquire_slot("slots", budget)
            if isinstance(answer, SlotGranted):
                with lock:
                    holders.append(answer)
                return
            if answer.reason is WaitReason.CONCURRENCY:
                return

    run_threads(8, grab)
    assert len(holders) == 3
    assert set(stores[0].slots("slots")) == {holder.lease.lease_id for holder in holders}
    assert sorted(holder.in_use for holder in holders) == [1, 2, 3]


def test_a_caller_turned_away_waits_in_line_behind_those_turned_away_before(
    store: BudgetStore, clock: ManualClock
) -> None:
    """take_in_line (a tenant's share of Acuity's budget): each refusal joins the line, and is told to come back when
    the line ahead of it has been served at the budget's rate, so a flood's retries come back at that pace."""
    share = Budget(rate_per_second=2.0, burst=1)
    assert isinstance(store.take_in_line("acuity#flooder", share), Granted)
    waits = [store.take_in_line("acuity#flooder", share) for _ in range(4)]
    assert [wait.seconds for wait in waits if isinstance(wait, Wait)] == pytest.approx([0.5, 1.0, 1.5, 2.0])
    # A second later the budget has served two of the line (and earned two tokens: one is taken now).
    clock.advance(1.0)
    assert isinstance(store.take_in_line("acuity#flooder", share), Granted)
    later = store.take_in_line("acuity#flooder", share)
    assert isinstance(later, Wait)
    assert later.seconds == pytest.approx(1.5)  # two still in line ahead of it, then its own turn
    # The line is the flooder's alone: another tenant's share is untouched.
    assert isinstance(store.take_in_line("acuity#other", share), Granted)
    # Long after, the line has drained: a refusal waits only for the next token.
    clock.advance(3600)
    assert isinstance(store.take_in_line("acuity#flooder", share), Granted)
    assert store.take_in_line("acuity#flooder", share) == Wait(0.5, WaitReason.RATE)
