"""Where each part of the maintenance function stands in a list longer than one run can go through (the tenants it
reconciles, the parked events whose condition it checks, the backfill groups it releases), so that the next run goes
on from there and every item has its turn, whatever the number of tenants.

    pk `MAINTENANCE`  sk `CURSOR#{part}`   position (absent: start from the beginning), updated_at
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.keys import MAINTENANCE_PK

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class Cursors:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table_name = table_name

    def get(self, part: str) -> str | None:
        try:
            item = self._dynamodb.get_item(
                TableName=self._table_name,
                Key={"pk": {"S": MAINTENANCE_PK}, "sk": {"S": f"CURSOR#{part}"}},
                ConsistentRead=True,
            ).get("Item")
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"maintenance cursor unavailable: {type(error).__name__}") from error
        if item is None or "position" not in item:
            return None
        return item["position"]["S"]

    def put(self, part: str, position: str | None) -> None:
        """Go on from `position` next time (None: from the beginning)."""
        item = {
            "pk": {"S": MAINTENANCE_PK},
            "sk": {"S": f"CURSOR#{part}"},
            "updated_at": {"S": datetime.now(UTC).isoformat(timespec="seconds")},
        }
        if position is not None:
            item["position"] = {"S": position}
        try:
            self._dynamodb.put_item(TableName=self._table_name, Item=item)
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"maintenance cursor not saved: {type(error).__name__}") from error
