"""What one message's sync reads of the table before it plans, in one BatchGetItem (strongly consistent): the
tenant's settings for the ledger, the sync record, whether the appointment or order is parked for the ledger, and
the Acuity state its last finished sync read (so that the same state is not marked again).

Items read (each store says what it writes):

    pk `TENANT#{t}`            sk `SETTINGS#{ledger}`   store/settings.py
    pk `TENANT#{t}#{ledger}`   sk `APPT#{id}`/`ORDER#…` store/records.py
    pk `TENANT#{t}#{ledger}`   sk `PARK#{kind}#{id}`    store/parking.py
    pk `TENANT#{t}#{ledger}`   sk `SEEN#{kind}#{id}`    store/seen.py
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from acuity_sync.domain.record import SyncRecord
from acuity_sync.store.batch import batch_get_all
from acuity_sync.store.keys import parked_sk, seen_sk
from acuity_sync.store.records import RecordKey, StoredRecord, stored_record
from acuity_sync.store.settings import VersionedSettings, settings_from_item, settings_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, KeysAndAttributesTypeDef


@dataclass(frozen=True, slots=True)
class SyncState:
    settings: VersionedSettings
    stored: StoredRecord
    parked: bool  # waiting in the parking lot for this ledger
    # The fingerprint the last finished sync marked (store/seen.py); None when there is none, or when
    # reconciliation has queued it for another state since (the next mark must replace that).
    seen: str | None


class SyncStateReader:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table_name = table_name

    def read(self, key: RecordKey) -> SyncState:
        record_key = key.item_key()
        pk = record_key["pk"]
        keys: list[dict[str, AttributeValueTypeDef]] = [
            settings_key(key.tenant_id, key.ledger),
            record_key,
            {"pk": pk, "sk": {"S": parked_sk(key.kind, key.object_id)}},
            {"pk": pk, "sk": {"S": seen_sk(key.kind, key.object_id)}},
        ]
        request: dict[str, KeysAndAttributesTypeDef] = {self._table_name: {"Keys": keys, "ConsistentRead": True}}
        found: dict[tuple[str, str], dict[str, Any]] = {
            (item["pk"]["S"], item["sk"]["S"]): item
            for item in batch_get_all(self._dynamodb, self._table_name, request, "sync state")
        }
        settings, record, park, seen = (found.get((item["pk"]["S"], item["sk"]["S"])) for item in keys)
        fingerprint = None
        if seen is not None and "queued_fingerprint" not in seen:
            fingerprint = seen.get("fingerprint", {}).get("S")
        return SyncState(
            settings=settings_from_item(key.tenant_id, key.ledger, settings),
            stored=stored_record(record) if record is not None else StoredRecord(SyncRecord(), None),
            parked=park is not None,
            seen=fingerprint,
        )
