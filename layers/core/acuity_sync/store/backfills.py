"""Backfills waiting to be released: an appointment or order from before the connection that an operator asked to
sync (`acuity-sync backfill`), one item per ledger, released to the ledger's queue a few at a time by the
maintenance function (operations/backfill.py) so that one tenant's backfill never starves the others.

    pk `TENANT#{t}#{ledger}`  sk `BACKFILL#{kind}#{id}`   request (the SyncRequest's JSON), calls (an estimate
                                                         of the ledger calls it will take), added_at
                              gsi1pk `BACKFILL`  gsi1sk `{t}#{ledger}#{kind}#{id}`: listed by tenant and ledger

A "group" is one tenant and ledger (`{t}#{ledger}`); the maintenance function visits the groups in turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from acuity_sync.domain.message import SyncRequest
from acuity_sync.domain.names import LedgerName
from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.keys import backfill_sk, ledger_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

BACKFILL_LIST = "BACKFILL"
_GROUP_END = "~"  # sorts after every character of a kind or an id: "{group}#~" is past the group's entries


@dataclass(frozen=True, slots=True)
class BackfillEntry:
    request: SyncRequest
    ledger: LedgerName
    calls: int


def group_key(tenant_id: str, ledger: LedgerName) -> str:
    return f"{tenant_id}#{ledger}"


def parse_group(group: str) -> tuple[str, LedgerName]:
    tenant_id, _, ledger = group.rpartition("#")
    return tenant_id, LedgerName(ledger)


class BackfillStore:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table_name = table_name

    def add(self, entry: BackfillEntry, at: datetime | None = None) -> None:
        """Wait for release (again: adding an entry already waiting replaces it)."""
        request = entry.request
        self._call(
            lambda: self._dynamodb.put_item(
                TableName=self._table_name,
                Item={
                    "pk": {"S": ledger_pk(request.tenant_id, entry.ledger)},
                    "sk": {"S": backfill_sk(request.kind, request.object_id)},
                    "gsi1pk": {"S": BACKFILL_LIST},
                    "gsi1sk": {"S": f"{group_key(request.tenant_id, entry.ledger)}#{request.kind}#{request.object_id}"},
                    "request": {"S": request.to_json()},
                    "calls": {"N": str(entry.calls)},
                    "added_at": {"S": (at or datetime.now(UTC)).isoformat(timespec="seconds")},
                },
            )
        )

    def next_group(self, after: str | None) -> str | None:
        """The first group (tenant and ledger) with entries waiting after group `after` (None: the first of all)."""
        values: dict[str, AttributeValueTypeDef] = {":list": {"S": BACKFILL_LIST}}
        condition = "gsi1pk = :list"
        if after is not None:
            condition += " AND gsi1sk > :after"
            values[":after"] = {"S": f"{after}#{_GROUP_END}"}
        response = self._call(
            lambda: self._dynamodb.query(
                TableName=self._table_name,
                IndexName="gsi1",
                KeyConditionExpression=condition,
                ExpressionAttributeValues=values,
                ProjectionExpression="gsi1sk",
                Limit=1,
            )
        )
        items = response.get("Items", [])
        if not items:
            return None
        tenant_id, ledger, _kind, _id = items[0]["gsi1sk"]["S"].rsplit("#", 3)
        return group_key(tenant_id, LedgerName(ledger))

    def entries(self, tenant_id: str, ledger: LedgerName, limit: int) -> list[BackfillEntry]:
        """Up to `limit` of the group's waiting entries (read from the table itself: consistent)."""
        if limit <= 0:
            return []
        response = self._call(
            lambda: self._dynamodb.query(
                TableName=self._table_name,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                ExpressionAttributeValues={
                    ":pk": {"S": ledger_pk(tenant_id, ledger)},
                    ":prefix": {"S": "BACKFILL#"},
                },
                ConsistentRead=True,
                Limit=limit,
            )
        )
        return [_entry(item, ledger) for item in response.get("Items", [])]

    def waiting(self, tenant_id: str, ledger: LedgerName) -> int:
        """How many of the group's entries wait (for `status`)."""
        total = 0
        start: Any = None
        while True:
            arguments: dict[str, Any] = {
                "TableName": self._table_name,
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
                "ExpressionAttributeValues": {
                    ":pk": {"S": ledger_pk(tenant_id, ledger)},
                    ":prefix": {"S": "BACKFILL#"},
                },
                "Select": "COUNT",
            }
            if start is not None:
                arguments["ExclusiveStartKey"] = start
            page = self._call(lambda arguments=arguments: self._dynamodb.query(**arguments))
            total += int(page.get("Count", 0))
            start = page.get("LastEvaluatedKey")
            if start is None:
                return total

    def remove(self, entry: BackfillEntry) -> None:
        request = entry.request
        self._call(
            lambda: self._dynamodb.delete_item(
                TableName=self._table_name,
                Key={
                    "pk": {"S": ledger_pk(request.tenant_id, entry.ledger)},
                    "sk": {"S": backfill_sk(request.kind, request.object_id)},
                },
            )
        )

    @staticmethod
    def _call(operation: Any) -> Any:
        try:
            return operation()
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"backfills unavailable: {type(error).__name__}") from error


def _entry(item: dict[str, Any], ledger: LedgerName) -> BackfillEntry:
    return BackfillEntry(SyncRequest.from_json(item["request"]["S"]), ledger, int(item["calls"]["N"]))
