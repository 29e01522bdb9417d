"""Parked events: an event that cannot be synced now and must not be retried in a loop (needs re-auth, rejected
by the ledger, a daily limit reached) waits here with its reason in words and the condition that resumes it.
The GSI lists them across tenants for the maintenance function (`gsi1pk = PARKED#{condition}`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from acuity_sync.domain.message import SyncRequest
from acuity_sync.domain.names import LedgerName
from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.keys import ledger_pk, parked_sk

_T = TypeVar("_T")

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef


class ResumeOn(StrEnum):
    TIME = "time"  # resume_at has come (a daily limit, a long Retry-After)
    RECONNECT = "reconnect"  # the ledger was connected again
    SETTINGS_CHANGE = "settings_change"  # the owner changed a setting (a rejection in the ledger's words)


@dataclass(frozen=True, slots=True)
class ParkedEvent:
    request: SyncRequest
    ledger: LedgerName
    reason: str  # a named reason: needs_reauth, rejected, daily_limit, currency_mismatch, ...
    detail: str  # in words a business owner understands; a ledger's rejection in its own words
    resume_on: ResumeOn
    resume_at: datetime | None
    parked_at: datetime


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
            "gsi1pk": {"S": f"PARKED#{event.resume_on}"},
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
        if item is None:
            return None
        resume_at = item.get("resume_at", {}).get("S")
        return ParkedEvent(
            request=SyncRequest.from_json(item["request"]["S"]),
            ledger=ledger,
            reason=item["reason"]["S"],
            detail=item["detail"]["S"],
            resume_on=ResumeOn(item["resume_on"]["S"]),
            resume_at=datetime.fromisoformat(resume_at) if resume_at else None,
            parked_at=datetime.fromisoformat(item["parked_at"]["S"]),
        )

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
