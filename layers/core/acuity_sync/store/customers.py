"""The customer cache: a ledger's customer id by client (e-mail, or name and phone; hashed, lower-cased: no e-mail
in keys), so that a returning client costs one GetItem instead of a lookup in the ledger; and the claim that
makes concurrent syncs of one new client add it once (sync/customers.py has the protocol).

The item (`pk=TENANT#{t}#{ledger}`, `sk=CUST#{sha256 of the key}`): `customer_id` once known; while a sync adds
the client, `claim_owner` and `claim_until` (epoch seconds) instead.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from acuity_sync.domain.names import LedgerName
from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.keys import ledger_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef


@dataclass(frozen=True, slots=True)
class ClaimAnswer:
    """A claim's outcome: granted; or not, with the customer id already published, or the claim's lapse time."""

    granted: bool
    customer_id: str | None = None
    held_until: datetime | None = None


def customer_sk(key: str) -> str:
    """`key` is the client's e-mail (any case) or sync/drafts.py's name-and-phone key."""
    return "CUST#" + hashlib.sha256(key.strip().lower().encode("utf-8")).hexdigest()


class CustomerCache:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str, tenant_id: str, ledger: LedgerName) -> None:
        self._dynamodb = dynamodb
        self._table_name = table_name
        self._pk = ledger_pk(tenant_id, ledger)

    def _key(self, key: str) -> dict[str, AttributeValueTypeDef]:
        return {"pk": {"S": self._pk}, "sk": {"S": customer_sk(key)}}

    def get(self, key: str) -> str | None:
        try:
            item = self._dynamodb.get_item(TableName=self._table_name, Key=self._key(key), ConsistentRead=True).get(
                "Item"
            )
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"customer cache unavailable: {type(error).__name__}") from error
        return _customer_id(item)

    def put(self, key: str, customer_id: str) -> None:
        """The id, over any claim."""
        try:
            self._dynamodb.put_item(
                TableName=self._table_name, Item={**self._key(key), "customer_id": {"S": customer_id}}
            )
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"customer cache not saved: {type(error).__name__}") from error

    def claim(self, key: str, owner: str, until: datetime, now: datetime) -> ClaimAnswer:
        """One UpdateItem: granted when no id is kept and no claim is live; otherwise the item as it is (an id, or
        the live claim's lapse time)."""
        try:
            self._dynamodb.update_item(
                TableName=self._table_name,
                Key=self._key(key),
                UpdateExpression="SET claim_owner = :owner, claim_until = :until",
                ConditionExpression="attribute_not_exists(customer_id) AND "
                "(attribute_not_exists(claim_until) OR claim_until < :now)",
                ExpressionAttributeValues={
                    ":owner": {"S": owner},
                    ":until": {"N": f"{until.timestamp():.3f}"},
                    ":now": {"N": f"{now.timestamp():.3f}"},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise StoreUnavailable(f"customer claim not taken: {type(error).__name__}") from error
            item = error.response.get("Item")
            if not isinstance(item, dict):
                item = None  # not every DynamoDB answers ALL_OLD on a failed condition: read the item
            return _refused(item if item is not None else self._read(key))
        except BotoCoreError as error:
            raise StoreUnavailable(f"customer claim not taken: {type(error).__name__}") from error
        return ClaimAnswer(granted=True)

    def release(self, key: str, owner: str) -> None:
        # Best effort: a claim that cannot be released (or is no longer ours) lapses by itself.
        with contextlib.suppress(BotoCoreError, ClientError):
            self._dynamodb.update_item(
                TableName=self._table_name,
                Key=self._key(key),
                UpdateExpression="REMOVE claim_owner, claim_until",
                ConditionExpression="claim_owner = :owner",
                ExpressionAttributeValues={":owner": {"S": owner}},
            )

    def _read(self, key: str) -> dict[str, Any] | None:
        try:
            item: dict[str, Any] | None = self._dynamodb.get_item(
                TableName=self._table_name, Key=self._key(key), ConsistentRead=True
            ).get("Item")
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"customer cache unavailable: {type(error).__name__}") from error
        return item


def _customer_id(item: dict[str, Any] | None) -> str | None:
    if item is None or "customer_id" not in item:
        return None
    return str(item["customer_id"]["S"])


def _refused(item: dict[str, Any] | None) -> ClaimAnswer:
    if item is None:  # gone meanwhile (a released claim): the caller claims again
        return ClaimAnswer(granted=False, held_until=datetime.now(UTC))
    until = item.get("claim_until")
    held_until = datetime.fromtimestamp(float(until["N"]), UTC) if until is not None else None
    return ClaimAnswer(granted=False, customer_id=_customer_id(item), held_until=held_until)
