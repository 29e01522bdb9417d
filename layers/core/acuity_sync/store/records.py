"""Sync records in the table: one item per tenant, ledger and appointment or order, versioned. An intent (the
step about to be written) is saved before each ledger write; the result and its audit entry are saved
together, in one transaction, conditional on the version read."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from acuity_sync.domain.names import EventKind, LedgerName
from acuity_sync.domain.record import SyncRecord
from acuity_sync.domain.steps import Step
from acuity_sync.store.audit import AuditEntry, audit_item
from acuity_sync.store.codec import record_from_document, record_to_document, step_from_document, step_to_document
from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.keys import LAST_SYNC, ledger_pk, record_sk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        PutTypeDef,
        TransactWriteItemTypeDef,
    )


class RecordConflict(RuntimeError):
    """Another writer changed the record since it was read: read it again (FIFO makes this rare)."""


@dataclass(frozen=True, slots=True)
class RecordKey:
    tenant_id: str
    ledger: LedgerName
    kind: EventKind
    object_id: int

    def item_key(self) -> dict[str, AttributeValueTypeDef]:
        return {"pk": {"S": ledger_pk(self.tenant_id, self.ledger)}, "sk": {"S": record_sk(self.kind, self.object_id)}}


@dataclass(frozen=True, slots=True)
class StoredRecord:
    record: SyncRecord
    pending: Step | None  # a write that was started and whose result was never saved


@dataclass(frozen=True, slots=True)
class LastSync:
    """The latest outcome saved for one tenant and ledger (the settings page's "last sync")."""

    at: datetime
    kind: str
    object_id: int
    decision: str
    detail: str


def _last_sync_item(entry: AuditEntry, moment: datetime) -> dict[str, AttributeValueTypeDef]:
    return {
        "pk": {"S": ledger_pk(entry.tenant_id, entry.ledger)},
        "sk": {"S": LAST_SYNC},
        "at": {"S": moment.isoformat(timespec="milliseconds")},
        "kind": {"S": str(entry.kind or "unknown")},
        "object_id": {"N": str(entry.object_id)},
        "decision": {"S": entry.decision},
        "detail": {"S": entry.detail},
    }


def stored_record(item: Mapping[str, Any]) -> StoredRecord:
    version = int(item["version"]["N"])
    record = record_from_document(json.loads(item["record"]["S"]), version)
    pending = item.get("pending", {}).get("S")
    return StoredRecord(record, step_from_document(json.loads(pending)) if pending else None)


class RecordStore:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table_name = table_name

    def last_sync(self, tenant_id: str, ledger: LedgerName) -> LastSync | None:
        try:
            item = self._dynamodb.get_item(
                TableName=self._table_name, Key={"pk": {"S": ledger_pk(tenant_id, ledger)}, "sk": {"S": LAST_SYNC}}
            ).get("Item")
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"last sync unavailable: {type(error).__name__}") from error
        if item is None:
            return None
        return LastSync(
            at=datetime.fromisoformat(item["at"]["S"]),
            kind=item["kind"]["S"],
            object_id=int(item["object_id"]["N"]),
            decision=item["decision"]["S"],
            detail=item["detail"]["S"],
        )

    def load(self, key: RecordKey) -> StoredRecord:
        try:
            item = self._dynamodb.get_item(TableName=self._table_name, Key=key.item_key(), ConsistentRead=True).get(
                "Item"
            )
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"sync record unavailable: {type(error).__name__}") from error
        if item is None:
            return StoredRecord(SyncRecord(), None)
        return stored_record(item)

    def begin(self, key: RecordKey, record: SyncRecord, step: Step) -> SyncRecord:
        """Save the intent to write `step`; returns the record at its new version."""
        return self._write(key, record, step, None)

    def commit(
        self,
        key: RecordKey,
        record: SyncRecord,
        entry: AuditEntry | None,
        *,
        last_sync: bool = True,
        earlier: Sequence[tuple[AuditEntry, datetime]] = (),
    ) -> SyncRecord:
        """Save what was written, clear the intent, and add the audit entry: all or nothing. `last_sync`: the entry
        is also the tenant's "last sync" (False for a step that another step follows in the same message: each
        item in a transaction costs two write units, and only the message's last step is shown). `earlier`: audit
        entries of steps saved with this one (a customer step, which keeps no intent of its own), with their time."""
        return self._write(key, record, None, entry, last_sync=last_sync, earlier=earlier)

    def _write(
        self,
        key: RecordKey,
        record: SyncRecord,
        pending: Step | None,
        entry: AuditEntry | None,
        *,
        last_sync: bool = True,
        earlier: Sequence[tuple[AuditEntry, datetime]] = (),
    ) -> SyncRecord:
        now = datetime.now(UTC)
        item: dict[str, AttributeValueTypeDef] = {
            **key.item_key(),
            "record": {"S": json.dumps(record_to_document(record), separators=(",", ":"))},
            "version": {"N": str(record.version + 1)},
            "updated_at": {"S": now.isoformat(timespec="milliseconds")},
        }
        if pending is not None:
            item["pending"] = {"S": json.dumps(step_to_document(pending), separators=(",", ":"))}
        put: TransactWriteItemTypeDef = {
            "Put": {
                "TableName": self._table_name,
                "Item": item,
                "ConditionExpression": "attribute_not_exists(pk) OR version = :read",
                "ExpressionAttributeValues": {":read": {"N": str(record.version)}},
            }
        }
        if entry is None:
            # An intent alone is one item: a conditional PutItem (1 write unit), not a transaction of one (2).
            self._put_alone(key, put["Put"])
            return replace(record, version=record.version + 1)
        writes = [put]
        if entry is not None:
            for earlier_entry, moment in earlier:
                writes.append({"Put": {"TableName": self._table_name, "Item": audit_item(earlier_entry, moment)}})
            writes.append({"Put": {"TableName": self._table_name, "Item": audit_item(entry, now)}})
            # The settings page's "last sync", in the same call (one more item in the transaction, no more requests).
            if last_sync:
                writes.append({"Put": {"TableName": self._table_name, "Item": _last_sync_item(entry, now)}})
        try:
            self._dynamodb.transact_write_items(TransactItems=writes)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                reasons = error.response.get("CancellationReasons", [])
                if any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons):
                    raise RecordConflict(f"the sync record of {key.kind} {key.object_id} changed meanwhile") from error
            raise StoreUnavailable(f"sync record not saved: {type(error).__name__}") from error
        except BotoCoreError as error:
            raise StoreUnavailable(f"sync record not saved: {type(error).__name__}") from error
        return replace(record, version=record.version + 1)

    def _put_alone(self, key: RecordKey, put: PutTypeDef) -> None:
        try:
            self._dynamodb.put_item(
                TableName=put["TableName"],
                Item=put["Item"],
                ConditionExpression=put["ConditionExpression"],
                ExpressionAttributeValues=put["ExpressionAttributeValues"],
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise RecordConflict(f"the sync record of {key.kind} {key.object_id} changed meanwhile") from error
            raise StoreUnavailable(f"sync record not saved: {type(error).__name__}") from error
        except BotoCoreError as error:
            raise StoreUnavailable(f"sync record not saved: {type(error).__name__}") from error
