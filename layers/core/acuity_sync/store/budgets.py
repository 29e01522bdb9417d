"""Rate budgets in the table: a token bucket (with an optional daily cap) and a concurrency count per budget.

Budgets (DESIGN.md, "The ledger interface"): one global bucket for Acuity (its limit is per egress IP, shared by
every tenant) and one per tenant and ledger. Nothing here sleeps: each call answers `Granted` or `Wait(seconds)`
and the caller decides to sleep, to back off with the SQS visibility timeout, or to park (a daily cap).

Items (pk/sk strings, TTL attribute `expires_at`):

    pk `BUDGET#{name}`  sk `BUCKET`       tokens, updated_at (epoch s), day (UTC date), day_count, v, expires_at;
                                          waiting, waiting_at (take_in_line's line); holders (map lease id ->
                                          lease expiry, epoch s: the concurrency slots)

The slots live in the bucket's item, so that a sync takes its slot and its first ledger calls' tokens in one
write (acquire_slot(tokens=)) and gives back the slot and the tokens it did not spend in another (release_slot).

`name` is `acuity` (global), `acuity#{tenant}` (a tenant's share of it, taken from first) or `{tenant}#{ledger}`.

Optimistic concurrency: read the item, compute in Python, write it back with a condition on the version `v` that
was read (`attribute_not_exists(pk)` for a first write). A write that loses the race fails its condition and
returns the item as it now is (ReturnValuesOnConditionCheckFailure=ALL_OLD), so the next attempt recomputes
from it without another read. After `max_attempts` lost races the answer is a short `Wait(CONTENTION)`.

The store keeps, per item, the last state it read or wrote (for KEEP_SEEN_SECONDS): the next take() in the same
container computes from it and writes at once, conditional on its version, instead of reading first. A state some
other container has moved on from fails the condition and answers with the item as it now is (as a lost race),
so what was kept is only ever a guess that the condition checks. A refusal is never answered from a kept state:
the item is read first (a peer's release_slot() may have freed a slot, and a kept state may be old).

DynamoDB operations, exactly (every read is strongly consistent; items are far below 1 KB):

    take(), take_up_to() granted,      1 UpdateItem when this store wrote or read the   (1 WCU)
    no contention                       item in the last KEEP_SEEN_SECONDS, else
                                        1 GetItem + 1 UpdateItem                         (1 RCU + 1 WCU)
    take() refused (rate or daily cap)  1 GetItem                                        (1 RCU)
    take_in_line() refused              1 GetItem + 1 UpdateItem (the line's count)      (1 RCU + 1 WCU)
    each lost race                      + 1 UpdateItem that fails its condition          (+1 WCU: failed
                                        conditional writes are billed), no extra read
    acquire_slot(tokens=n)              as take(), slot and up to n tokens together: 1 UpdateItem when granted
                                        from a kept state (else + 1 GetItem), 1 GetItem when refused; + 1
                                        UpdateItem per lost race
    release_slot(unused=n)              1 UpdateItem (no read), the unspent tokens given back with the slot
    bucket()/slots() (inspection)       1 GetItem

A budget itself is numbers (domain/budget.py, which says how they are sized): each ledger declares its own
(ledgers/<ledger>/__init__.py), Acuity's is acuity/client.py's ACUITY_BUDGET.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from acuity_sync.domain.budget import Budget
from acuity_sync.domain.names import LedgerName
from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.keys import TTL_ATTRIBUTE

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

Clock = Callable[[], float]  # seconds since the epoch, like time.time

BUCKET_SK = "BUCKET"
ACUITY_BUDGET_NAME = "acuity"

DEFAULT_MAX_ATTEMPTS = 5
CONTENTION_WAIT = 0.05  # seconds: long enough for the winner's write to land, short enough not to matter
SLOT_POLL = 1.0  # seconds: a full concurrency count is re-tried this soon (a holder usually releases early)
DEFAULT_LEASE_SECONDS = 60.0  # longer than any one HTTP call (timeouts are 10-30 s)
BUCKET_TTL = timedelta(days=2)  # an idle bucket is full again long before; its day count is stale by then
SLOTS_TTL_MARGIN = 3600.0  # the concurrency item outlives its latest lease by an hour
KEEP_SEEN_SECONDS = 60.0  # a state older than this is read again rather than guessed (a failed write costs more)
_EPSILON = 1e-9  # tokens: 0.9/s for 10/9 s is one token, not 0.9999999999999999


def budget_pk(name: str) -> str:
    return f"BUDGET#{name}"


def ledger_budget_name(tenant_id: str, ledger: LedgerName) -> str:
    return f"{tenant_id}#{ledger}"


def acuity_share_name(tenant_id: str) -> str:
    """A tenant's share of the global Acuity bucket: one tenant's flood waits on it, not on everyone's."""
    return f"{ACUITY_BUDGET_NAME}#{tenant_id}"


# ------------------------------------------------------------------------------------------------ answers


class WaitReason(StrEnum):
    RATE = "rate"  # the bucket is empty: `seconds` until enough tokens
    DAILY_CAP = "daily_cap"  # the day's calls are spent: `seconds` until the next UTC day (park it)
    CONCURRENCY = "concurrency"  # every slot is held: retry in `seconds` (a slot frees on release or expiry)
    CONTENTION = "contention"  # lost the optimistic race `max_attempts` times: retry very soon


@dataclass(frozen=True, slots=True)
class Wait:
    seconds: float
    reason: WaitReason


@dataclass(frozen=True, slots=True)
class Granted:
    """Tokens taken; `remaining` is what the bucket held after the take (for metrics and tests)."""

    remaining: float


@dataclass(frozen=True, slots=True)
class Taken:
    """take_up_to()'s grant: `count` tokens (at least one), `remaining` what the bucket held after."""

    count: int
    remaining: float


@dataclass(frozen=True, slots=True)
class Lease:
    """A held concurrency slot; give it back with release_slot(). It lapses by itself at `expires_at`."""

    name: str
    lease_id: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class SlotGranted:
    lease: Lease
    in_use: int  # slots held after this one was taken, this one included
    tokens: int = 0  # tokens taken with the slot (acquire_slot(tokens=n): between 1 and n)


@dataclass(frozen=True, slots=True)
class BucketState:
    """The bucket as of `at`, refill included (nothing is written)."""

    tokens: float
    day: str
    day_count: int
    at: float


# ------------------------------------------------------------------------------------------------ the store


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated_at: float
    day: str
    day_count: int
    version: int | None  # None: no item yet


class BudgetStore:
    def __init__(
        self,
        dynamodb: DynamoDBClient,
        table_name: str,
        *,
        clock: Clock | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._dynamodb = dynamodb
        self._table_name = table_name
        self._clock: Clock = clock if clock is not None else time.time
        self._max_attempts = max_attempts
        # pk#sk -> (the item as this store last read or wrote it, None for no item; monotonic time of that)
        self._seen: dict[str, tuple[dict[str, Any] | None, float]] = {}

    # -------------------------------------------------------------------------------------------- token bucket

    def take(self, name: str, budget: Budget, tokens: int = 1, *, reserve: int = 0) -> Granted | Wait:
        """Take `tokens` from the bucket `name` if it holds them (and the day's cap allows).

        `reserve` is for background work (reconciliation, backfill) sharing a bucket with live traffic: take only
        while at least `reserve` tokens would remain, so that the background never spends the last of a budget a
        webhook's sync needs. The wait it answers is until the bucket holds `tokens + reserve`."""
        if tokens < 1 or tokens > budget.burst:
            raise ValueError(f"tokens must be between 1 and the burst ({budget.burst:g})")
        if reserve < 0 or tokens + reserve > budget.burst:
            raise ValueError(f"tokens + reserve must be at most the burst ({budget.burst:g})")
        if budget.daily_cap is not None and tokens > budget.daily_cap:
            raise ValueError("tokens exceed the daily cap")
        answer = self._take(name, budget, tokens, tokens, reserve)
        return answer if isinstance(answer, Wait) else Granted(answer.remaining)

    def take_up_to(self, name: str, budget: Budget, most: int) -> Taken | Wait:
        """As take(), but as many of `most` tokens as the bucket holds, at least one: a sync that expects several
        calls pays for them in one write while the bucket has them, and for one at a time when it is nearly
        empty (so that it never waits for tokens it does not need yet)."""
        if most < 1:
            raise ValueError("most must be at least 1")
        return self._take(name, budget, 1, most, 0)

    def _take(self, name: str, budget: Budget, least: int, most: int, reserve: int) -> Taken | Wait:
        """Between `least` and `most` tokens (as many as the bucket and the day's cap allow), keeping `reserve`."""
        most = max(least, min(most, math.floor(budget.burst - reserve + _EPSILON)))
        key = _key(name, BUCKET_SK)
        item, kept = self._recall(key)
        for _attempt in range(self._max_attempts):
            now = self._clock()
            bucket = _refilled(_read_bucket(item, budget, now), budget, now)
            count = _affordable(bucket, budget, least, most, reserve, now)
            if isinstance(count, Wait) and kept:  # never refuse on a guess: read the item, and decide again
                item = self._get(key)
                now = self._clock()
                bucket = _refilled(_read_bucket(item, budget, now), budget, now)
                count = _affordable(bucket, budget, least, most, reserve, now)
            kept = False
            if isinstance(count, Wait):
                return count
            remaining = max(0.0, bucket.tokens - count)
            written, item = self._write(key, bucket.version, _bucket_values(bucket, remaining, count, now), item)
            if written:
                return Taken(count, remaining)
        return Wait(CONTENTION_WAIT, WaitReason.CONTENTION)

    def take_in_line(self, name: str, budget: Budget) -> Granted | Wait:
        """One token, as take(); but a caller turned away is counted in a line (attributes `waiting`,
        `waiting_at`: a count that drains at the budget's rate, as the bucket serves the line) and told to come
        back when the callers ahead of it have been served: the line's length at the budget's rate. A flood's
        retries then come back at the pace its budget serves them, not all at once, and a queue's other messages
        are not buried under them (a tenant's share of Acuity's budget, sync/service.py)."""
        key = _key(name, BUCKET_SK)
        item, kept = self._recall(key)
        for _attempt in range(self._max_attempts):
            now = self._clock()
            bucket = _refilled(_read_bucket(item, budget, now), budget, now)
            if bucket.tokens + _EPSILON < 1 and kept:  # never refuse on a guess: read the item first
                item, kept = self._get(key), False
                now = self._clock()
                bucket = _refilled(_read_bucket(item, budget, now), budget, now)
            kept = False
            if bucket.tokens + _EPSILON >= 1:
                remaining = max(0.0, bucket.tokens - 1)
                written, item = self._write(key, bucket.version, _bucket_values(bucket, remaining, 1, now), item)
                if written:
                    return Granted(remaining)
                continue
            line = _line(item, budget, now) + 1  # this caller included
            written, item = self._write(
                key, bucket.version, {"waiting": _number(line), "waiting_at": _number(now)}, item
            )
            if written:
                due = (1 - bucket.tokens) / budget.rate_per_second
                return Wait(max(due, line / budget.rate_per_second), WaitReason.RATE)
        return Wait(CONTENTION_WAIT, WaitReason.CONTENTION)

    def bucket(self, name: str, budget: Budget) -> BucketState:
        """The bucket now, refill included; a missing bucket is full."""
        now = self._clock()
        bucket = _refilled(_read_bucket(self._get(_key(name, BUCKET_SK)), budget, now), budget, now)
        return BucketState(bucket.tokens, bucket.day, bucket.day_count, now)

    # -------------------------------------------------------------------------------------------- concurrency

    def acquire_slot(
        self, name: str, budget: Budget, *, lease_seconds: float = DEFAULT_LEASE_SECONDS, tokens: int = 0
    ) -> SlotGranted | Wait:
        """Hold one of `budget.max_concurrent` slots until release_slot() or, if the holder dies, the lease's end;
        with `tokens`, take up to that many of the bucket's tokens (at least one) in the same write."""
        if budget.max_concurrent is None:
            raise ValueError("this budget has no concurrency limit")
        if not lease_seconds > 0:
            raise ValueError("lease_seconds must be positive")
        if tokens < 0:
            raise ValueError("tokens must not be negative")
        most = min(tokens, math.floor(budget.burst + _EPSILON))
        key = _key(name, BUCKET_SK)
        item, kept = self._recall(key)
        lease_id = uuid.uuid4().hex
        for _attempt in range(self._max_attempts):
            now = self._clock()
            refusal, live, bucket, count = _slot_answer(item, budget, budget.max_concurrent, now, most)
            if refusal is not None and kept:  # a peer may have released one: read, never guess
                item = self._get(key)
                now = self._clock()
                refusal, live, bucket, count = _slot_answer(item, budget, budget.max_concurrent, now, most)
            kept = False
            if refusal is not None:
                return refusal
            expires_at = now + lease_seconds
            live[lease_id] = expires_at
            values: dict[str, AttributeValueTypeDef] = {
                "holders": {"M": {holder: _number(until) for holder, until in live.items()}}
            }
            if count:
                values.update(_bucket_values(bucket, max(0.0, bucket.tokens - count), count, now))
            # The item outlives its latest lease by SLOTS_TTL_MARGIN, and an idle bucket by BUCKET_TTL.
            ttl = max(max(live.values()) + SLOTS_TTL_MARGIN, now + BUCKET_TTL.total_seconds())
            values[TTL_ATTRIBUTE] = _number(math.ceil(ttl))
            written, item = self._write(key, bucket.version, values, item)
            if written:
                return SlotGranted(Lease(name, lease_id, expires_at), len(live), count)
        return Wait(CONTENTION_WAIT, WaitReason.CONTENTION)

    def release_slot(self, lease: Lease, *, unused: int = 0) -> bool:
        """Give the slot back, and the `unused` tokens taken with it that no call spent; False when the slot had
        already lapsed and been reclaimed (harmless: its unused tokens are then left spent)."""
        if unused < 0:
            raise ValueError("unused must not be negative")
        refund = ", tokens :unused, day_count :spent" if unused else ""
        values: dict[str, AttributeValueTypeDef] = {":one": {"N": "1"}}
        if unused:
            values.update({":unused": _number(unused), ":spent": _number(-unused)})
        try:
            self._dynamodb.update_item(
                TableName=self._table_name,
                Key=_key(lease.name, BUCKET_SK),
                # The version moves too, so that an acquirer that read the map before this release cannot
                # write the released lease back.
                UpdateExpression=f"REMOVE holders.#lease ADD v :one{refund}",
                ConditionExpression="attribute_exists(holders.#lease)",
                ExpressionAttributeNames={"#lease": lease.lease_id},
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise StoreUnavailable(f"budget unavailable: {_error_code(error)}") from error
        except BotoCoreError as error:
            raise StoreUnavailable(f"budget unavailable: {type(error).__name__}") from error
        self._forget_lease(lease, unused)
        return True

    def slots(self, name: str) -> dict[str, float]:
        """Live leases (id -> expiry) now."""
        now = self._clock()
        holders = _read_slots(self._get(_key(name, BUCKET_SK)))
        return {holder: until for holder, until in holders.items() if until > now}

    # -------------------------------------------------------------------------------------------- DynamoDB

    def _get(self, key: dict[str, AttributeValueTypeDef]) -> dict[str, Any] | None:
        try:
            answer = self._dynamodb.get_item(TableName=self._table_name, Key=key, ConsistentRead=True)
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"budget unavailable: {type(error).__name__}") from error
        item = answer.get("Item")
        found = dict(item) if item is not None else None
        self._remember(key, found)
        return found

    def _recall(self, key: dict[str, AttributeValueTypeDef]) -> tuple[dict[str, Any] | None, bool]:
        """The item as last seen here, if seen recently (True: a guess the write's condition will check); else
        as read now (False)."""
        seen = self._seen.get(_seen_key(key))
        if seen is not None and time.monotonic() - seen[1] < KEEP_SEEN_SECONDS:
            return (dict(seen[0]) if seen[0] is not None else None), True
        return self._get(key), False

    def _remember(self, key: dict[str, AttributeValueTypeDef], item: dict[str, Any] | None) -> None:
        self._seen[_seen_key(key)] = (item, time.monotonic())

    def _forget_lease(self, lease: Lease, unused: int) -> None:
        """After a release: the kept item without the lease and with the unused tokens back, at the version the
        release moved to."""
        key = _key(lease.name, BUCKET_SK)
        seen = self._seen.get(_seen_key(key))
        if seen is None or seen[0] is None or "v" not in seen[0]:
            return
        item = dict(seen[0])
        holders = dict(item.get("holders", {}).get("M", {}))
        holders.pop(lease.lease_id, None)
        item["holders"] = {"M": holders}
        item["v"] = _number(int(item["v"]["N"]) + 1)
        if unused and "tokens" in item:
            item["tokens"] = _number(float(item["tokens"]["N"]) + unused)
            item["day_count"] = _number(int(item["day_count"]["N"]) - unused)
        self._remember(key, item)

    def _write(
        self,
        key: dict[str, AttributeValueTypeDef],
        version: int | None,
        values: dict[str, AttributeValueTypeDef],
        base: dict[str, Any] | None = None,
    ) -> tuple[bool, dict[str, Any] | None]:
        """Write `values` if the item is still at `version`: (True, None), or (False, the item as it is now).
        `base` is the item the values were computed from: with them, it is what this store now knows."""
        names = {f"#a{index}": attribute for index, attribute in enumerate(values)}
        attribute_values: dict[str, AttributeValueTypeDef] = {
            f":a{index}": value for index, value in enumerate(values.values())
        }
        attribute_values[":next"] = _number((version or 0) + 1)
        assignments = ", ".join(f"#a{index} = :a{index}" for index in range(len(values)))
        if version is None:
            condition = "attribute_not_exists(pk)"
        else:
            condition = "v = :seen"
            attribute_values[":seen"] = _number(version)
        try:
            self._dynamodb.update_item(
                TableName=self._table_name,
                Key=key,
                UpdateExpression=f"SET {assignments}, v = :next",
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=attribute_values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if _is_condition_failure(error):
                # The winner's item, to recompute from; absent when it was deleted (TTL) in between.
                current: object = error.response.get("Item")
                now_item = dict(current) if isinstance(current, dict) and current else None
                self._remember(key, now_item)
                return False, now_item
            self._seen.pop(_seen_key(key), None)
            raise StoreUnavailable(f"budget unavailable: {_error_code(error)}") from error
        except BotoCoreError as error:
            self._seen.pop(_seen_key(key), None)  # the write may or may not have landed
            raise StoreUnavailable(f"budget unavailable: {type(error).__name__}") from error
        self._remember(key, {**(base or {}), **key, **values, "v": attribute_values[":next"]})
        return True, None


# ------------------------------------------------------------------------------------------------ the arithmetic


def _read_bucket(item: Mapping[str, Any] | None, budget: Budget, now: float) -> _Bucket:
    if item is None:
        return _Bucket(budget.burst, now, _utc_day(now), 0, None)
    if "tokens" not in item:  # an item only slots have been held in: a full bucket
        return _Bucket(budget.burst, now, _utc_day(now), 0, int(item["v"]["N"]))
    return _Bucket(
        tokens=float(item["tokens"]["N"]),
        updated_at=float(item["updated_at"]["N"]),
        day=item["day"]["S"],
        day_count=int(item["day_count"]["N"]),
        version=int(item["v"]["N"]),
    )


def _refilled(bucket: _Bucket, budget: Budget, now: float) -> _Bucket:
    """Tokens earned since the last write, up to the burst. A clock behind the stored time earns nothing and does
    not move the stored time back (else a peer would be credited the same seconds twice)."""
    elapsed = max(0.0, now - bucket.updated_at)
    tokens = min(budget.burst, bucket.tokens + elapsed * budget.rate_per_second)
    today = _utc_day(now)
    day, day_count = (bucket.day, bucket.day_count) if bucket.day >= today else (today, 0)
    return _Bucket(tokens, max(now, bucket.updated_at), day, day_count, bucket.version)


def _affordable(bucket: _Bucket, budget: Budget, least: int, most: int, reserve: int, now: float) -> int | Wait:
    """How many tokens, between `least` and `most`, the bucket and the day's cap allow now; else how long to wait
    for `least`."""
    if budget.daily_cap is not None:
        if bucket.day_count + least > budget.daily_cap:
            return Wait(_seconds_to_next_utc_day(now), WaitReason.DAILY_CAP)
        most = min(most, budget.daily_cap - bucket.day_count)
    if bucket.tokens + _EPSILON < least + reserve:
        return Wait((least + reserve - bucket.tokens) / budget.rate_per_second, WaitReason.RATE)
    return max(least, min(most, math.floor(bucket.tokens - reserve + _EPSILON)))


def _bucket_values(bucket: _Bucket, remaining: float, taken: int, now: float) -> dict[str, AttributeValueTypeDef]:
    """The bucket's attributes after `taken` tokens were taken from it."""
    return {
        "tokens": _number(remaining),
        "updated_at": _number(bucket.updated_at),
        "day": {"S": bucket.day},
        "day_count": _number(bucket.day_count + taken),
        TTL_ATTRIBUTE: _number(math.ceil(now + BUCKET_TTL.total_seconds())),
    }


def _slot_answer(
    item: Mapping[str, Any] | None, budget: Budget, max_concurrent: int, now: float, most: int
) -> tuple[Wait | None, dict[str, float], _Bucket, int]:
    """(the refusal or None, the live holders, the bucket now, the tokens to take with the slot)."""
    live = {holder: until for holder, until in _read_slots(item).items() if until > now}
    bucket = _refilled(_read_bucket(item, budget, now), budget, now)
    if len(live) >= max_concurrent:
        # A slot frees when its holder releases (any moment) or at the latest at the earliest expiry.
        return Wait(min(SLOT_POLL, min(live.values()) - now), WaitReason.CONCURRENCY), live, bucket, 0
    if most == 0:
        return None, live, bucket, 0
    count = _affordable(bucket, budget, 1, most, 0, now)
    if isinstance(count, Wait):
        return count, live, bucket, 0
    return None, live, bucket, count


def _line(item: Mapping[str, Any] | None, budget: Budget, now: float) -> float:
    """Callers still waiting in a bucket's line: the count recorded, less what the budget has served since."""
    if item is None or "waiting" not in item:
        return 0.0
    served = max(0.0, now - float(item["waiting_at"]["N"])) * budget.rate_per_second
    return max(0.0, float(item["waiting"]["N"]) - served)


def _read_slots(item: Mapping[str, Any] | None) -> dict[str, float]:
    """The slots' holders: lease id -> expiry (epoch s)."""
    if item is None:
        return {}
    return {holder: float(value["N"]) for holder, value in item.get("holders", {}).get("M", {}).items()}


def _utc_day(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).date().isoformat()


def _seconds_to_next_utc_day(now: float) -> float:
    today = datetime.fromtimestamp(now, UTC).date()
    midnight = datetime(today.year, today.month, today.day, tzinfo=UTC) + timedelta(days=1)
    return max(0.0, midnight.timestamp() - now)


def _number(value: float) -> AttributeValueTypeDef:
    # repr() of a float is the shortest text that reads back as the same float, so the stored state is exact;
    # Decimal spells it without an exponent.
    return {"N": f"{Decimal(repr(value)):f}" if isinstance(value, float) else str(value)}


def _seen_key(key: Mapping[str, Any]) -> str:
    return f"{key['pk']['S']}\n{key['sk']['S']}"


def _key(name: str, sk: str) -> dict[str, AttributeValueTypeDef]:
    if not name:
        raise ValueError("a budget needs a name")
    return {"pk": {"S": budget_pk(name)}, "sk": {"S": sk}}


def _is_condition_failure(error: ClientError) -> bool:
    return _error_code(error) == "ConditionalCheckFailedException"


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", type(error).__name__))
