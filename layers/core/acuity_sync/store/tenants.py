"""Tenant profiles: who the business is in Acuity, its API key (KMS-encrypted), and its connected ledgers."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from acuity_sync.domain.names import LedgerName
from acuity_sync.secret import Secret
from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.keys import PROFILE, TENANT_LIST, is_well_formed_tenant_id, tenant_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    from acuity_sync.store.kms import SecretBox

DEFAULT_ACUITY_BASE_URL = "https://acuityscheduling.com"


def new_tenant_id() -> str:
    return secrets.token_hex(16)


def api_key_context(tenant_id: str) -> dict[str, str]:
    return {"tenant_id": tenant_id, "purpose": "acuity_api_key"}


@dataclass(frozen=True, slots=True)
class TenantProfile:
    tenant_id: str
    name: str
    acuity_user_id: str
    acuity_api_key: Secret
    acuity_base_url: str = DEFAULT_ACUITY_BASE_URL
    currency: str = ""
    timezone: str = ""
    ledgers: tuple[LedgerName, ...] = field(default=())
    created_at: str = ""


class TenantStore:
    """Reads a profile with one GetItem and one Decrypt; writes it with the key sealed."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str, box: SecretBox) -> None:
        self._dynamodb = dynamodb
        self._table_name = table_name
        self._box = box

    def get(self, tenant_id: str) -> TenantProfile | None:
        """The profile, None for an unknown tenant; StoreUnavailable when DynamoDB or KMS fail."""
        if not is_well_formed_tenant_id(tenant_id):
            return None
        try:
            item = self._dynamodb.get_item(
                TableName=self._table_name,
                Key={"pk": {"S": tenant_pk(tenant_id)}, "sk": {"S": PROFILE}},
                ConsistentRead=True,
            ).get("Item")
            if item is None:
                return None
            api_key = self._box.open(item["acuity_api_key"]["B"], api_key_context(tenant_id))
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"tenant profile unavailable: {type(error).__name__}") from error
        return TenantProfile(
            tenant_id=tenant_id,
            name=item["name"]["S"],
            acuity_user_id=item["acuity_user_id"]["S"],
            acuity_api_key=api_key,
            acuity_base_url=item.get("acuity_base_url", {}).get("S", DEFAULT_ACUITY_BASE_URL),
            currency=item.get("currency", {}).get("S", ""),
            timezone=item.get("timezone", {}).get("S", ""),
            ledgers=tuple(LedgerName(value["S"]) for value in item.get("ledgers", {}).get("L", [])),
            created_at=item.get("created_at", {}).get("S", ""),
        )

    def create(self, profile: TenantProfile) -> TenantProfile:
        """Write a new profile; never overwrites an existing tenant."""
        created = profile.created_at or datetime.now(UTC).isoformat(timespec="seconds")
        self._dynamodb.put_item(
            TableName=self._table_name,
            Item={
                "pk": {"S": tenant_pk(profile.tenant_id)},
                "sk": {"S": PROFILE},
                "name": {"S": profile.name},
                "acuity_user_id": {"S": profile.acuity_user_id},
                "acuity_api_key": {"B": self._box.seal(profile.acuity_api_key, api_key_context(profile.tenant_id))},
                "acuity_base_url": {"S": profile.acuity_base_url},
                "currency": {"S": profile.currency},
                "timezone": {"S": profile.timezone},
                "ledgers": {"L": [{"S": str(ledger)} for ledger in profile.ledgers]},
                "created_at": {"S": created},
                # Listed across tenants (the maintenance function visits every tenant in turn).
                "gsi1pk": {"S": TENANT_LIST},
                "gsi1sk": {"S": profile.tenant_id},
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
        return replace(profile, created_at=created)

    def tenant_ids(self, *, after: str | None = None, limit: int = 100) -> tuple[list[str], str | None]:
        """Tenant ids in order, from just after `after` (None: the first); at most `limit`. Also where to go on
        from, None once the end was reached. No key is decrypted: read each profile with get()."""
        condition = "gsi1pk = :list" + (" AND gsi1sk > :after" if after is not None else "")
        values: dict[str, AttributeValueTypeDef] = {":list": {"S": TENANT_LIST}}
        if after is not None:
            values[":after"] = {"S": after}
        try:
            response = self._dynamodb.query(
                TableName=self._table_name,
                IndexName="gsi1",
                KeyConditionExpression=condition,
                ExpressionAttributeValues=values,
                ProjectionExpression="gsi1sk",
                Limit=limit,
            )
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"tenant list unavailable: {type(error).__name__}") from error
        ids = [item["gsi1sk"]["S"] for item in response.get("Items", [])]
        more = "LastEvaluatedKey" in response and bool(ids)
        return ids, (ids[-1] if more else None)

    def set_api_key(self, tenant_id: str, api_key: Secret) -> None:
        """The owner rotated the Acuity API key (webhooks are signed with the new one from then on)."""
        self._dynamodb.update_item(
            TableName=self._table_name,
            Key={"pk": {"S": tenant_pk(tenant_id)}, "sk": {"S": PROFILE}},
            UpdateExpression="SET acuity_api_key = :key",
            ExpressionAttributeValues={":key": {"B": self._box.seal(api_key, api_key_context(tenant_id))}},
            ConditionExpression="attribute_exists(pk)",
        )

    def set_currency(self, tenant_id: str, currency: str) -> None:
        """The account's currency as Acuity's GET /me says it, for a profile stored without one."""
        try:
            self._dynamodb.update_item(
                TableName=self._table_name,
                Key={"pk": {"S": tenant_pk(tenant_id)}, "sk": {"S": PROFILE}},
                UpdateExpression="SET currency = :currency",
                ExpressionAttributeValues={":currency": {"S": currency}},
                ConditionExpression="attribute_exists(pk)",
            )
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"tenant currency not saved: {type(error).__name__}") from error

    def set_ledgers(self, tenant_id: str, ledgers: tuple[LedgerName, ...]) -> None:
        """The ledgers whose queues receive this tenant's webhooks (the connect flow maintains it)."""
        self._dynamodb.update_item(
            TableName=self._table_name,
            Key={"pk": {"S": tenant_pk(tenant_id)}, "sk": {"S": PROFILE}},
            UpdateExpression="SET ledgers = :ledgers",
            ExpressionAttributeValues={":ledgers": {"L": [{"S": str(ledger)} for ledger in ledgers]}},
            ConditionExpression="attribute_exists(pk)",
        )

    def set_acuity_account(
        self, tenant_id: str, user_id: str, api_key: Secret, *, currency: str, timezone: str
    ) -> None:
        """The owner gave (other) Acuity credentials, checked against Acuity: the account's user id, API key
        (sealed), currency and time zone, together."""
        self._dynamodb.update_item(
            TableName=self._table_name,
            Key={"pk": {"S": tenant_pk(tenant_id)}, "sk": {"S": PROFILE}},
            UpdateExpression=(
                "SET acuity_user_id = :user, acuity_api_key = :key, currency = :currency, #timezone = :timezone"
            ),
            ExpressionAttributeNames={"#timezone": "timezone"},  # a DynamoDB reserved word
            ExpressionAttributeValues={
                ":user": {"S": user_id},
                ":key": {"B": self._box.seal(api_key, api_key_context(tenant_id))},
                ":currency": {"S": currency},
                ":timezone": {"S": timezone},
            },
            ConditionExpression="attribute_exists(pk)",
        )
