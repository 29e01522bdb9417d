"""A consent's tokens while the owner chooses which of its companies to connect (Xero organisations, FreshBooks
businesses): sealed as a connection's are (same encryption context, so only the connect function's rights open
them), bound to the session that started the consent, gone after minutes or once taken."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from acuity_sync.domain.grant import TokenGrant
from acuity_sync.domain.names import LedgerName
from acuity_sync.ledgers.base import Company
from acuity_sync.store.connections import ACCESS_PURPOSE, REFRESH_PURPOSE, token_context
from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.keys import TTL_ATTRIBUTE, pending_grant_sk, tenant_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    from acuity_sync.store.kms import SecretBox

PENDING_LIFETIME = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class PendingGrant:
    grant: TokenGrant
    companies: tuple[Company, ...]


class PendingGrants:
    def __init__(
        self,
        dynamodb: DynamoDBClient,
        table_name: str,
        box: SecretBox,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._dynamodb = dynamodb
        self._table_name = table_name
        self._box = box
        self._clock = clock

    def put(
        self, tenant_id: str, ledger: LedgerName, session_id: str, grant: TokenGrant, companies: Sequence[Company]
    ) -> None:
        expires = self._clock() + PENDING_LIFETIME
        item: dict[str, AttributeValueTypeDef] = {
            "pk": {"S": tenant_pk(tenant_id)},
            "sk": {"S": pending_grant_sk(ledger)},
            "session": {"S": session_id},
            "access_token": {"B": self._box.seal(grant.access_token, token_context(tenant_id, ledger, ACCESS_PURPOSE))},
            "refresh_token": {
                "B": self._box.seal(grant.refresh_token, token_context(tenant_id, ledger, REFRESH_PURPOSE))
            },
            "access_expires_at": {"S": grant.access_expires_at.isoformat()},
            "companies": {"S": json.dumps([[company.company_id, company.name] for company in companies])},
            "valid_until": {"S": expires.isoformat()},
            TTL_ATTRIBUTE: {"N": str(int(expires.timestamp()))},
        }
        if grant.refresh_expires_at is not None:
            item["refresh_expires_at"] = {"S": grant.refresh_expires_at.isoformat()}
        try:
            self._dynamodb.put_item(TableName=self._table_name, Item=item)
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"consent not kept: {type(error).__name__}") from error

    def companies(self, tenant_id: str, ledger: LedgerName, session_id: str) -> tuple[Company, ...] | None:
        """The companies waiting for this session's choice (no token is opened); None when there is no choice."""
        try:
            item = self._dynamodb.get_item(
                TableName=self._table_name,
                Key={"pk": {"S": tenant_pk(tenant_id)}, "sk": {"S": pending_grant_sk(ledger)}},
                ConsistentRead=True,
            ).get("Item")
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"consent unavailable: {type(error).__name__}") from error
        if item is None or item["session"]["S"] != session_id:
            return None
        if datetime.fromisoformat(item["valid_until"]["S"]) <= self._clock():
            return None
        return tuple(Company(str(cid), str(name)) for cid, name in json.loads(item["companies"]["S"]))

    def take(self, tenant_id: str, ledger: LedgerName, session_id: str) -> PendingGrant | None:
        """The grant, once, and only for the session that started the consent; None otherwise or once expired."""
        try:
            old = self._dynamodb.delete_item(
                TableName=self._table_name,
                Key={"pk": {"S": tenant_pk(tenant_id)}, "sk": {"S": pending_grant_sk(ledger)}},
                ConditionExpression="#session = :session",
                ExpressionAttributeNames={"#session": "session"},
                ExpressionAttributeValues={":session": {"S": session_id}},
                ReturnValues="ALL_OLD",
            ).get("Attributes")
            if not old or datetime.fromisoformat(old["valid_until"]["S"]) <= self._clock():
                return None
            access = self._box.open(old["access_token"]["B"], token_context(tenant_id, ledger, ACCESS_PURPOSE))
            refresh = self._box.open(old["refresh_token"]["B"], token_context(tenant_id, ledger, REFRESH_PURPOSE))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise StoreUnavailable(f"consent unavailable: {type(error).__name__}") from error
        except BotoCoreError as error:
            raise StoreUnavailable(f"consent unavailable: {type(error).__name__}") from error
        refresh_expires = old.get("refresh_expires_at", {}).get("S")
        grant = TokenGrant(
            access_token=access,
            refresh_token=refresh,
            access_expires_at=datetime.fromisoformat(old["access_expires_at"]["S"]),
            refresh_expires_at=datetime.fromisoformat(refresh_expires) if refresh_expires else None,
        )
        companies = tuple(Company(str(cid), str(name)) for cid, name in json.loads(old["companies"]["S"]))
        return PendingGrant(grant, companies)
