"""Values that are good once and for minutes: the OAuth `state` of a consent, the nonce of an admin link. The item is
keyed by a SHA-256 of the value (a table read cannot replay one), expires by DynamoDB's TTL and, since TTL deletes
lazily, by the time it holds; it is taken with one conditional DeleteItem, so of two requests racing with the same
value exactly one gets it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.keys import ONE_TIME, TTL_ATTRIBUTE, one_time_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef


class OneTimeKind(StrEnum):
    OAUTH_STATE = "oauth_state"
    ADMIN_LINK = "admin_link"


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class OneTimeValues:
    def __init__(
        self, dynamodb: DynamoDBClient, table_name: str, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._dynamodb = dynamodb
        self._table_name = table_name
        self._clock = clock

    def put(self, kind: OneTimeKind, value: str, fields: Mapping[str, str], lifetime: timedelta) -> None:
        """Remember `value` (never stored itself) with `fields` for `lifetime`."""
        expires = self._clock() + lifetime
        item: dict[str, AttributeValueTypeDef] = {
            "pk": {"S": one_time_pk(kind, digest(value))},
            "sk": {"S": ONE_TIME},
            "fields": {"M": {name: {"S": text} for name, text in fields.items()}},
            TTL_ATTRIBUTE: {"N": str(int(expires.timestamp()))},
            "valid_until": {"S": expires.isoformat()},
        }
        try:
            self._dynamodb.put_item(
                TableName=self._table_name, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"one-time value not stored: {type(error).__name__}") from error

    def take(self, kind: OneTimeKind, value: str) -> dict[str, str] | None:
        """The fields stored with `value`, once: None when it is unknown, already taken or expired."""
        try:
            old = self._dynamodb.delete_item(
                TableName=self._table_name,
                Key={"pk": {"S": one_time_pk(kind, digest(value))}, "sk": {"S": ONE_TIME}},
                ConditionExpression="attribute_exists(pk)",
                ReturnValues="ALL_OLD",
            ).get("Attributes")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise StoreUnavailable(f"one-time value unavailable: {type(error).__name__}") from error
        except BotoCoreError as error:
            raise StoreUnavailable(f"one-time value unavailable: {type(error).__name__}") from error
        if not old or datetime.fromisoformat(old["valid_until"]["S"]) <= self._clock():
            return None
        return {name: attribute["S"] for name, attribute in old.get("fields", {}).get("M", {}).items()}
