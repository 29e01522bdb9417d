"""Rate budgets in the table: a token bucket (with an optional daily cap) and a concurrency count per budget.

Budgets (DESIGN.md, "The ledger interface"): one global bucket for Acuity (its limit is per egress IP, shared by
every tenant) and one per tenant and ledger. Nothing here sleeps: each call answers `Granted` or `Wait(seconds)`
and the caller decides to sleep, to back off with the SQS visibility timeout, or to park (a daily cap).

Items (pk/sk strings, TTL attribute `expires_at`):

    pk `BUDGET#{name}`  sk `BUCKET`       tokens, updated_at (epoch s), day (UTC date), day_count, v, expires_at
    pk `BUDGET#{name}`  sk `CONCURRENCY`  holders (map lease id -> lease expiry, epoch s), v, expires_at

`name` is `acuity` (global) or `{tenant}#{ledger}`.

Optimistic concurrency: read the item, compute in Python, write it back with a condition on the version `v` that
was read (`attribute_not_exists(pk)` for a first write). A write that loses the race fails its condition and
returns the item as it now is (ReturnValuesOnConditionCheckFailure=ALL_OLD), so the next attempt recomputes
from it without another read. After `max_attempts` lost races the answer is a short `Wait(CONTENTION)`.

DynamoDB operations, exactly (every read is strongly consistent; items are far below 1 KB):

    take() granted, no contention      1 GetItem + 1 UpdateItem                       (1 RCU + 1 WCU)
    take() refused (rate or daily cap)  1 GetItem                                      (1 RCU)
    each lost race                      + 1 UpdateItem that fails its condition        (+1 WCU: failed
                                        conditional writes are billed), no extra read
    acquire_slot()                      as take(): 1 GetItem (+ 1 UpdateItem when granted, + 1 per lost race)
    release_slot()                      1 UpdateItem (no read)
    bucket()/slots() (inspection)       1 GetItem

A budget itself is numbers (domain/budget.py, which says how they are sized): each ledger declares its own
(ledgers/<ledger>/__init__.py), Acuity's is acuity/client.py's ACUITY_BUDGET.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
CONCURRENCY_SK = "CONCURRENCY"
ACUITY_BUDGET_NAME = "acuity"

DEFAULT_MAX_ATTEMPTS = 5
CONTENTION_WAIT = 0.05  # seconds: long enough for the winner's write to land, short enough not to matter
SLOT_POLL = 1.0  # seconds: a full concurrency count is re-tried this soon (a holder usually releases early)
DEFAULT_LEASE_SECONDS = 60.0  # longer than any one HTTP call (timeouts are 10-30 s)
BUCKET_TTL = timedelta(days=2)  # an idle bucket is full again long before; its day count is stale by then
SLOTS_TTL_MARGIN = 3600.0  # the concurrency item outlives its latest lease by an hour
_EPSILON = 1e-9  # tokens: 0.9/s for 10/9 s is one token, not 0.9999999999999999


def budget_pk(name: str) -> str:
    return f"BUDGET#{name}"


def ledger_budget_name(tenant_id: str, ledger: LedgerName) -> str:
    return f"{tenant_id}#{ledger}"


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
class Lease:
    """A held concurrency slot; give it back with release_slot(). It lapses by itself at `expires_at`."""

    name: str
    lease_id: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class SlotGranted:
    lease: Lease
    in_use: int  # slots held after this one was taken, this one included


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


@dataclass(slots=True)
class _Slots:
    holders: dict[str, float] = field(default_factory=dict)
    version: int | None = None


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
        key = _key(name, BUCKET_SK)
        item = self._get(key)
        for _attempt in range(self._max_attempts):
            now = self._clock()
            bucket = _refilled(_read_bucket(item, budget, now), budget, now)
            if budget.daily_cap is not None and bucket.day_count + tokens > budget.daily_cap:
                return Wait(_seconds_to_next_utc_day(now), WaitReason.DAILY_CAP)
            if bucket.tokens + _EPSILON < tokens + reserve:
                return Wait((tokens + reserve - bucket.tokens) / budget.rate_per_second, WaitReason.RATE)
            remaining = max(0.0, bucket.tokens - tokens)
            written, item = self._write(
                key,
                bucket.version,
                {
                    "tokens": _number(remaining),
                    "updated_at": _number(bucket.updated_at),
                    "day": {"S": bucket.day},
                    "day_count": _number(bucket.day_count + tokens),
                    TTL_ATTRIBUTE: _number(math.ceil(now + BUCKET_TTL.total_seconds())),
                },
            )
            if written:
                return Granted(remaining)
        return Wait(CONTENTION_WAIT, WaitReason.CONTENTION)

    def bucket(self, name: str, budget: Budget) -> BucketState:
        """The bucket now, refill included; a missing bucket is full."""
        now = self._clock()
        bucket = _refilled(_read_bucket(self._get(_key(name, BUCKET_SK)), budget, now), budget, now)
        return BucketState(bucket.tokens, bucket.day, bucket.day_count, now)

    # -------------------------------------------------------------------------------------------- concurrency

    def acquire_slot(
        self, name: str, budget: Budget, *, lease_seconds: float = DEFAULT_LEASE_SECONDS
    ) -> SlotGranted | Wait:
        """Hold one of `budget.max_concurrent` slots until release_slot() or, if the holder dies, the lease's end."""
        if budget.max_concurrent is None:
            raise ValueError("this budget has no concurrency limit")
        if not lease_seconds > 0:
            raise ValueError("lease_seconds must be positive")
        key = _key(name, CONCURRENCY_SK)
        item = self._get(key)
        lease_id = uuid.uuid4().hex
        for _attempt in range(self._max_attempts):
            now = self._clock()
            slots = _read_slots(item)
            live = {holder: until for holder, until in slots.holders.items() if until > now}
            if len(live) >= budget.max_concurrent:
                # A slot frees when its holder releases (any moment) or at the latest at the earliest expiry.
                return Wait(min(SLOT_POLL, min(live.values()) - now), WaitReason.CONCURRENCY)
            expires_at = now + lease_seconds
            live[lease_id] = expires_at
            written, item = self._write(
                key,
                slots.version,
                {
                    "holders": {"M": {holder: _number(until) for holder, until in live.items()}},
                    TTL_ATTRIBUTE: _number(math.ceil(max(live.values()) + SLOTS_TTL_MARGIN)),
                },
            )
            if written:
                return SlotGranted(Lease(name, lease_id, expires_at), len(live))
        return Wait(CONTENTION_WAIT, WaitReason.CONTENTION)

    def release_slot(self, lease: Lease) -> bool:
        """Give the slot back; False when it had already lapsed and been reclaimed (harmless)."""
        try:
            self._dynamodb.update_item(
                TableName=self._table_name,
                Key=_key(lease.name, CONCURRENCY_SK),
                # The version moves too, so that an acquirer that read the map before this release cannot
                # write the released lease back.
                UpdateExpression="REMOVE holders.#lease ADD v :one",
                ConditionExpression="attribute_exists(holders.#lease)",
                ExpressionAttributeNames={"#lease": lease.lease_id},
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise StoreUnavailable(f"budget unavailable: {_error_code(error)}") from error
        except BotoCoreError as error:
            raise StoreUnavailable(f"budget unavailable: {type(error).__name__}") from error
        return True

    def slots(self, name: str) -> dict[str, float]:
        """Live leases (id -> expiry) now."""
        now = self._clock()
        holders = _read_slots(self._get(_key(name, CONCURRENCY_SK))).holders
        return {holder: until for holder, until in holders.items() if until > now}

    # -------------------------------------------------------------------------------------------- DynamoDB

    def _get(self, key: dict[str, AttributeValueTypeDef]) -> dict[str, Any] | None:
        try:
            answer = self._dynamodb.get_item(TableName=self._table_name, Key=key, ConsistentRead=True)
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"budget unavailable: {type(error).__name__}") from error
        item = answer.get("Item")
        return dict(item) if item is not None else None

    def _write(
        self, key: dict[str, AttributeValueTypeDef], version: int | None, values: dict[str, AttributeValueTypeDef]
    ) -> tuple[bool, dict[str, Any] | None]:
        """Write `values` if the item is still at `version`: (True, None), or (False, the item as it is now)."""
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
                return False, dict(current) if isinstance(current, dict) and current else None
            raise StoreUnavailable(f"budget unavailable: {_error_code(error)}") from error
        except BotoCoreError as error:
            raise StoreUnavailable(f"budget unavailable: {type(error).__name__}") from error
        return True, None


# ------------------------------------------------------------------------------------------------ the arithmetic


def _read_bucket(item: Mapping[str, Any] | None, budget: Budget, now: float) -> _Bucket:
    if item is None:
        return _Bucket(budget.burst, now, _utc_day(now), 0, None)
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


def _read_slots(item: Mapping[str, Any] | None) -> _Slots:
    if item is None:
        return _Slots()
    holders = {holder: float(value["N"]) for holder, value in item.get("holders", {}).get("M", {}).items()}
    return _Slots(holders, int(item["v"]["N"]))


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


def _key(name: str, sk: str) -> dict[str, AttributeValueTypeDef]:
    if not name:
        raise ValueError("a budget needs a name")
    return {"pk": {"S": budget_pk(name)}, "sk": {"S": sk}}


def _is_condition_failure(error: ClientError) -> bool:
    return _error_code(error) == "ConditionalCheckFailedException"


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", type(error).__name__))
