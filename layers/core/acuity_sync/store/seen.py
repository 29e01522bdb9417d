"""What the sync knows of an appointment or order, for reconciliation and backfill: the fingerprint of the Acuity
state its last finished sync read (written by the sync service once a message is synced or skipped by a rule, and
not again while it is unchanged: store/sync_state.py reads it with the record; acuity/fingerprint.py says what it
covers), whether it is parked, and whether its sync record names a document.

Items (beside the sync record, under the tenant and ledger):

    pk `TENANT#{t}#{ledger}`  sk `SEEN#{kind}#{id}`   fingerprint, at (ISO), expires_at (SEEN_TTL); and, once
                                                      reconciliation queued it, queued_fingerprint, queued_at (the
                                                      sync's next write replaces the item, so they go with it)

`states` reads the three items of each object (SEEN, PARK, APPT/ORDER) with BatchGetItem: one call per 33 objects,
whatever the table holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from acuity_sync.domain.names import EventKind, LedgerName
from acuity_sync.store.batch import batch_get_all
from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.keys import TTL_ATTRIBUTE, ledger_pk, parked_sk, record_sk, seen_sk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, KeysAndAttributesTypeDef

# Longer than any reconciliation window looks back; an appointment whose marker lapsed is queued once more.
SEEN_TTL = timedelta(days=400)
_BATCH_KEYS = 99  # BatchGetItem takes 100 keys; three per object

ObjectRef = tuple[EventKind, int]


@dataclass(frozen=True, slots=True)
class KnownState:
    fingerprint: str | None  # the Acuity state the last finished sync read; None: never synced nor skipped
    parked: bool  # waiting in the parking lot for its condition
    has_documents: bool  # the sync record names a customer or an invoice in the ledger
    queued_fingerprint: str | None = None  # the state reconciliation queued it for, not synced yet
    queued_at: datetime | None = None


UNKNOWN = KnownState(None, False, False)


class SeenStore:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table_name = table_name

    def mark(
        self,
        tenant_id: str,
        ledger: LedgerName,
        kind: EventKind,
        object_id: int,
        fingerprint: str,
        at: datetime | None = None,
    ) -> None:
        moment = at or datetime.now(UTC)
        try:
            self._dynamodb.put_item(
                TableName=self._table_name,
                Item={
                    "pk": {"S": ledger_pk(tenant_id, ledger)},
                    "sk": {"S": seen_sk(kind, object_id)},
                    "fingerprint": {"S": fingerprint},
                    "at": {"S": moment.isoformat(timespec="milliseconds")},
                    TTL_ATTRIBUTE: {"N": str(int((moment + SEEN_TTL).timestamp()))},
                },
            )
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"sync state not saved: {type(error).__name__}") from error

    def mark_queued(
        self, tenant_id: str, ledger: LedgerName, kind: EventKind, object_id: int, fingerprint: str, at: datetime
    ) -> None:
        """Reconciliation queued it for this state: the next runs leave it to its message for a while (a message
        waiting behind a backoff is not queued again every run)."""
        try:
            self._dynamodb.update_item(
                TableName=self._table_name,
                Key={"pk": {"S": ledger_pk(tenant_id, ledger)}, "sk": {"S": seen_sk(kind, object_id)}},
                UpdateExpression="SET queued_fingerprint = :fingerprint, queued_at = :at, #ttl = :ttl",
                ExpressionAttributeNames={"#ttl": TTL_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":fingerprint": {"S": fingerprint},
                    ":at": {"S": at.isoformat(timespec="milliseconds")},
                    ":ttl": {"N": str(int((at + SEEN_TTL).timestamp()))},
                },
            )
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"sync state not saved: {type(error).__name__}") from error

    def states(self, tenant_id: str, ledger: LedgerName, objects: Sequence[ObjectRef]) -> dict[ObjectRef, KnownState]:
        """What is known of each object (UNKNOWN for one the table has nothing of)."""
        pk = ledger_pk(tenant_id, ledger)
        wanted: dict[str, tuple[ObjectRef, str]] = {}
        for kind, object_id in objects:
            for part, sk in (
                ("seen", seen_sk(kind, object_id)),
                ("park", parked_sk(kind, object_id)),
                ("record", record_sk(kind, object_id)),
            ):
                wanted[sk] = ((kind, object_id), part)
        found: dict[ObjectRef, dict[str, Mapping[str, Any]]] = {}
        for item in self._batch_get(pk, list(wanted)):
            reference, part = wanted[item["sk"]["S"]]
            found.setdefault(reference, {})[part] = item
        return {reference: _state(found.get(reference, {})) for reference in dict.fromkeys(objects)}

    def _batch_get(self, pk: str, sort_keys: list[str]) -> Iterable[Mapping[str, Any]]:
        items: list[Mapping[str, Any]] = []
        for start in range(0, len(sort_keys), _BATCH_KEYS):
            keys: list[Mapping[str, AttributeValueTypeDef]] = [
                {"pk": {"S": pk}, "sk": {"S": sk}} for sk in sort_keys[start : start + _BATCH_KEYS]
            ]
            request: dict[str, KeysAndAttributesTypeDef] = {
                self._table_name: {
                    "Keys": keys,
                    "ConsistentRead": True,
                    "ProjectionExpression": "sk, fingerprint, queued_fingerprint, queued_at, #record",
                    "ExpressionAttributeNames": {"#record": "record"},
                }
            }
            items.extend(batch_get_all(self._dynamodb, self._table_name, request, "sync state"))
        return items


def _state(parts: Mapping[str, Mapping[str, Any]]) -> KnownState:
    seen = parts.get("seen")
    record = parts.get("record")
    has_documents = False
    if record is not None and "record" in record:
        document = json.loads(record["record"]["S"])
        has_documents = bool(document.get("customer_id") or document.get("invoice"))
    seen = seen or {}
    queued_at = seen.get("queued_at", {}).get("S")
    return KnownState(
        fingerprint=seen.get("fingerprint", {}).get("S"),
        parked="park" in parts,
        has_documents=has_documents,
        queued_fingerprint=seen.get("queued_fingerprint", {}).get("S"),
        queued_at=datetime.fromisoformat(queued_at) if queued_at else None,
    )
