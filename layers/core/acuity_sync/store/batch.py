"""BatchGetItem until DynamoDB has answered every key (it may leave some unprocessed under load)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from acuity_sync.store.errors import StoreUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import KeysAndAttributesTypeDef

MAX_UNPROCESSED_ROUNDS = 8


def batch_get_all(
    dynamodb: DynamoDBClient, table_name: str, request: dict[str, KeysAndAttributesTypeDef], what: str
) -> list[dict[str, Any]]:
    """Every item the request names that exists, asking again for the keys DynamoDB left unprocessed; `what` names
    the data in StoreUnavailable's words."""
    items: list[dict[str, Any]] = []
    for _round in range(MAX_UNPROCESSED_ROUNDS):
        try:
            answer = dynamodb.batch_get_item(RequestItems=request)
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"{what} unavailable: {type(error).__name__}") from error
        items.extend(answer.get("Responses", {}).get(table_name, []))
        unprocessed = answer.get("UnprocessedKeys") or {}
        if not unprocessed:
            return items
        request = {table: {**keys} for table, keys in unprocessed.items()}
    raise StoreUnavailable(f"{what} unavailable: DynamoDB kept keys unprocessed")
