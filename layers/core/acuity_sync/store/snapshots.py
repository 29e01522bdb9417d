"""Acuity snapshots: the first sync function to read an appointment or order stores what it read, and another
ledger's function reuses it when it was fetched after its own webhook arrived (Acuity's API budget is small and
shared by every tenant). Snapshots expire after SNAPSHOT_TTL."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from acuity_sync.domain.names import EventKind
from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.keys import TTL_ATTRIBUTE, snapshot_sk, tenant_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SNAPSHOT_TTL = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Snapshot:
    document: dict[str, Any]  # Acuity's own JSON: {"appointment": ..., "payments": [...]} or {"order": ...}
    fetched_at: datetime


class SnapshotStore:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table_name = table_name

    def fresh(self, tenant_id: str, kind: EventKind, object_id: int, not_before: datetime) -> Snapshot | None:
        """The stored snapshot if it was fetched at or after `not_before` (when the webhook arrived)."""
        try:
            item = self._dynamodb.get_item(
                TableName=self._table_name,
                Key={"pk": {"S": tenant_pk(tenant_id)}, "sk": {"S": snapshot_sk(kind, object_id)}},
                ConsistentRead=True,
            ).get("Item")
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"snapshot unavailable: {type(error).__name__}") from error
        if item is None:
            return None
        fetched_at = datetime.fromisoformat(item["fetched_at"]["S"])
        if fetched_at < not_before:
            return None
        return Snapshot(json.loads(item["document"]["S"]), fetched_at)

    def put(self, tenant_id: str, kind: EventKind, object_id: int, snapshot: Snapshot) -> None:
        try:
            self._dynamodb.put_item(
                TableName=self._table_name,
                Item={
                    "pk": {"S": tenant_pk(tenant_id)},
                    "sk": {"S": snapshot_sk(kind, object_id)},
                    "document": {"S": json.dumps(snapshot.document, separators=(",", ":"))},
                    "fetched_at": {"S": snapshot.fetched_at.isoformat()},
                    TTL_ATTRIBUTE: {"N": str(int((snapshot.fetched_at + SNAPSHOT_TTL).timestamp()))},
                },
                # A newer snapshot stored by a peer is kept.
                ConditionExpression="attribute_not_exists(pk) OR fetched_at < :fetched_at",
                ExpressionAttributeValues={":fetched_at": {"S": snapshot.fetched_at.isoformat()}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise StoreUnavailable(f"snapshot not saved: {type(error).__name__}") from error
        except BotoCoreError as error:
            raise StoreUnavailable(f"snapshot not saved: {type(error).__name__}") from error
