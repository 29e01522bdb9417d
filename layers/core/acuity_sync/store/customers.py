"""The customer cache: a ledger's customer id by the client's e-mail (hashed, lower-cased: no e-mail in keys),
so that a returning client costs one GetItem instead of a lookup in the ledger."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from acuity_sync.domain.names import LedgerName
from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.keys import ledger_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef


def customer_sk(email: str) -> str:
    return "CUST#" + hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


class CustomerCache:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str, tenant_id: str, ledger: LedgerName) -> None:
        self._dynamodb = dynamodb
        self._table_name = table_name
        self._pk = ledger_pk(tenant_id, ledger)

    def _key(self, email: str) -> dict[str, AttributeValueTypeDef]:
        return {"pk": {"S": self._pk}, "sk": {"S": customer_sk(email)}}

    def get(self, email: str) -> str | None:
        try:
            item = self._dynamodb.get_item(TableName=self._table_name, Key=self._key(email)).get("Item")
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"customer cache unavailable: {type(error).__name__}") from error
        return None if item is None else item["customer_id"]["S"]

    def put(self, email: str, customer_id: str) -> None:
        try:
            self._dynamodb.put_item(
                TableName=self._table_name, Item={**self._key(email), "customer_id": {"S": customer_id}}
            )
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"customer cache not saved: {type(error).__name__}") from error
