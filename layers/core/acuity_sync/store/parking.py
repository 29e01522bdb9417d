"""Parked events: an event that cannot be synced now and must not be retried in a loop (needs re-auth, rejected
by the ledger, a daily limit reached) waits here with its reason in words and the condition that resumes it.
The GSI lists them across tenants for the maintenance function (`gsi1pk = PARKED#{condition}`, `gsi1sk` starting
with the resume time, or the parking time when the condition is not a time); `for_ledger` lists one tenant's."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from acuity_sync.domain.message import SyncRequest
from acuity_sync.domain.names import LedgerName
from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.keys import PARKED_PREFIX, ledger_pk, parked_sk

_T = TypeVar("_T")

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, QueryInputTypeDef, QueryOutputTypeDef


class ResumeOn(StrEnum):
    TIME = "time"  # resume_at has come (a daily limit, a long Retry-After)
    RECONNECT = "reconnect"  # the ledger was connected again
    SETTINGS_CHANGE = "settings_change"  # the owner changed a setting (a rejection in the ledger's words)
    ACUITY_CHANGE = "acuity_change"  # Acuity's own data must change (its next webhook for it syncs it again)


@dataclass(frozen=True, slots=True)
class ParkedEvent:
    request: SyncRequest
    ledger: LedgerName
    reason: str  # a named reason: needs_reauth, rejected, daily_limit, currency_mismatch, ...
    detail: str  # in words a business owner understands; a ledger's rejection in its own words
    resume_on: ResumeOn
    resume_at: datetime | None
    parked_at: datetime


GSI_NAME = "gsi1"


def parked_list_key(resume_on: ResumeOn) -> str:
    return f"PARKED#{resume_on}"


class ParkingLot:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table_name = table_name

    def park(self, event: ParkedEvent) -> None:
        request = event.request
        when = event.resume_at.isoformat() if event.resume_at else event.parked_at.isoformat()
        item: dict[str, AttributeValueTypeDef] = {
            "pk": {"S": ledger_pk(request.tenant_id, event.ledger)},
            "sk": {"S": parked_sk(request.kind, request.object_id)},
            "gsi1pk": {"S": parked_list_key(event.resume_on)},
            "gsi1sk": {"S": f"{when}#{request.tenant_id}#{event.ledger}#{request.kind}#{request.object_id}"},
            "request": {"S": request.to_json()},
            "reason": {"S": event.reason},
            "detail": {"S": event.detail},
            "resume_on": {"S": str(event.resume_on)},
            "parked_at": {"S": event.parked_at.isoformat()},
        }
        if event.resume_at is not None:
            item["resume_at"] = {"S": event.resume_at.isoformat()}
        self._call(lambda: self._dynamodb.put_item(TableName=self._table_name, Item=item))

    def get(self, request: SyncRequest, ledger: LedgerName) -> ParkedEvent | None:
        key = self._key(request, ledger)
        response = self._call(lambda: self._dynamodb.get_item(TableName=self._table_name, Key=key, ConsistentRead=True))
        item = response.get("Item")
        return None if item is None else _parked(item)

    def for_ledger(
        self, tenant_id: str, ledger: LedgerName, resume_on: ResumeOn | None = None, limit: int = 100
    ) -> list[ParkedEvent]:
        """One tenant's events parked for one ledger (those waiting for `resume_on` only, when given), oldest
        first by appointment or order id; at most `limit`."""
        events: list[ParkedEvent] = []
        values: dict[str, AttributeValueTypeDef] = {
            ":pk": {"S": ledger_pk(tenant_id, ledger)},
            ":park": {"S": PARKED_PREFIX},
        }
        start: Mapping[str, AttributeValueTypeDef] | None = None
        while len(events) < limit:
            page = self._call(partial(self._page, values, start))
            parked = (_parked(item) for item in page.get("Items", []))
            events.extend(event for event in parked if resume_on is None or event.resume_on is resume_on)
            start = page.get("LastEvaluatedKey")
            if start is None:
                break
        return events[:limit]

    def due(self, resume_on: ResumeOn, before: datetime, limit: int = 100) -> list[ParkedEvent]:
        """Across tenants, the events waiting for `resume_on` whose resume time (or, for a condition that is not a
        time, whose parking time) is before `before`, earliest first; at most `limit` (the GSI's list)."""
        response = self._call(
            lambda: self._dynamodb.query(
                TableName=self._table_name,
                IndexName=GSI_NAME,
                KeyConditionExpression="gsi1pk = :list AND gsi1sk < :before",
                ExpressionAttributeValues={
                    ":list": {"S": parked_list_key(resume_on)},
                    ":before": {"S": before.isoformat()},
                },
                Limit=limit,
            )
        )
        keys = [{"pk": item["pk"], "sk": item["sk"]} for item in response.get("Items", [])]
        # The GSI holds the keys; each event is read again at its item (the index may lag a write).
        events = (self._read(key) for key in keys)
        return [event for event in events if event is not None]

    def waiting(
        self, resume_on: ResumeOn, *, after: str | None = None, limit: int = 100
    ) -> tuple[list[ParkedEvent], str | None]:
        """Across tenants, the events waiting for `resume_on`, in the GSI's order, from just after the position
        `after` (None: from the start); at most `limit`. Also the position to go on from next time, None once the
        list's end was reached: the maintenance function walks a list that may be longer than one run can check.
        Read from the index (eventually consistent); clear_exactly() makes acting on a stale entry harmless."""
        condition = "gsi1pk = :list" + (" AND gsi1sk > :after" if after is not None else "")
        values: dict[str, AttributeValueTypeDef] = {":list": {"S": parked_list_key(resume_on)}}
        if after is not None:
            values[":after"] = {"S": after}
        response = self._call(
            lambda: self._dynamodb.query(
                TableName=self._table_name,
                IndexName=GSI_NAME,
                KeyConditionExpression=condition,
                ExpressionAttributeValues=values,
                Limit=limit,
            )
        )
        items = response.get("Items", [])
        events = [_parked(item) for item in items]
        more = "LastEvaluatedKey" in response and bool(items)
        return events, (items[-1]["gsi1sk"]["S"] if more else None)

    def count_waiting(self, resume_on: ResumeOn, before: str) -> int:
        """How many events wait for `resume_on` whose list position (resume or parking time) is before `before`."""
        total = 0
        start: Mapping[str, AttributeValueTypeDef] | None = None
        for _page in range(100):  # a bound whatever the table holds: 100 pages of up to 1 MB
            query: QueryInputTypeDef = {
                "TableName": self._table_name,
                "IndexName": GSI_NAME,
                "KeyConditionExpression": "gsi1pk = :list AND gsi1sk < :before",
                "ExpressionAttributeValues": {":list": {"S": parked_list_key(resume_on)}, ":before": {"S": before}},
                "Select": "COUNT",
            }
            if start is not None:
                query["ExclusiveStartKey"] = start
            page = self._call(partial(self._dynamodb.query, **query))
            total += page.get("Count", 0)
            start = page.get("LastEvaluatedKey")
            if start is None:
                break
        return total

    def clear_exactly(self, event: ParkedEvent) -> bool:
        """Clears this park only if it is still the one read (same parking time): an event parked again meanwhile
        (after it was re-queued and failed once more) stays parked. False when it was not cleared."""
        key = self._key(event.request, event.ledger)
        try:
            self._dynamodb.delete_item(
                TableName=self._table_name,
                Key=key,
                ConditionExpression="parked_at = :parked_at",
                ExpressionAttributeValues={":parked_at": {"S": event.parked_at.isoformat()}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise StoreUnavailable(f"parked events unavailable: {type(error).__name__}") from error
        except BotoCoreError as error:
            raise StoreUnavailable(f"parked events unavailable: {type(error).__name__}") from error
        return True

    def _page(
        self, values: Mapping[str, AttributeValueTypeDef], start: Mapping[str, AttributeValueTypeDef] | None
    ) -> QueryOutputTypeDef:
        query: QueryInputTypeDef = {
            "TableName": self._table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :park)",
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
        }
        if start is not None:
            query["ExclusiveStartKey"] = start
        return self._dynamodb.query(**query)

    def _read(self, key: dict[str, AttributeValueTypeDef]) -> ParkedEvent | None:
        response = self._call(lambda: self._dynamodb.get_item(TableName=self._table_name, Key=key, ConsistentRead=True))
        item = response.get("Item")
        return None if item is None else _parked(item)

    def clear(self, request: SyncRequest, ledger: LedgerName) -> None:
        key = self._key(request, ledger)
        self._call(lambda: self._dynamodb.delete_item(TableName=self._table_name, Key=key))

    @staticmethod
    def _key(request: SyncRequest, ledger: LedgerName) -> dict[str, AttributeValueTypeDef]:
        return {
            "pk": {"S": ledger_pk(request.tenant_id, ledger)},
            "sk": {"S": parked_sk(request.kind, request.object_id)},
        }

    @staticmethod
    def _call(operation: Callable[[], _T]) -> _T:
        try:
            return operation()
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"parked events unavailable: {type(error).__name__}") from error


def _parked(item: Mapping[str, Any]) -> ParkedEvent:
    resume_at = item.get("resume_at", {}).get("S")
    request = SyncRequest.from_json(item["request"]["S"])
    ledger = LedgerName(item["pk"]["S"].rsplit("#", 1)[-1])
    return ParkedEvent(
        request=request,
        ledger=ledger,
        reason=item["reason"]["S"],
        detail=item["detail"]["S"],
        resume_on=ResumeOn(item["resume_on"]["S"]),
        resume_at=datetime.fromisoformat(resume_at) if resume_at else None,
        parked_at=datetime.fromisoformat(item["parked_at"]["S"]),
    )
