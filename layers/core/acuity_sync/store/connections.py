"""Ledger connections in the table: their tokens stored sealed, every write conditional on the item's version.
The refresh protocol built on these writes (one refreshing process at a time, under a lease) is auth/tokens.py's.

The item (one per tenant and ledger; `pk=TENANT#{t}`, `sk=CONN#{ledger}`):

    tenant_id, ledger, company_id     the realm id (QuickBooks), tenant id (Xero) or account id (FreshBooks)
    status                            connected | needs_reauth
    access_token, refresh_token       KMS ciphertexts (B); encryption context {tenant_id, ledger, purpose}, so a
                                      ciphertext copied to another tenant, ledger or field does not decrypt
    access_expires_at                 epoch seconds (N); refresh_expires_at likewise, absent when it never lapses
    version                           N, +1 on every write of tokens or status: the fence of every write
    lease_owner, lease_until          the refresh lease (present only while a process refreshes this version)
    reauth_reason, reauth_at          why and when a refresh was refused for good
    connected_at                      epoch seconds (N): the first consent for this company; a reconnect keeps it
                                      (the sync starts from it: sync/plan.py's rule booked_before_connection)
    gsi1pk, gsi1sk                    `REFRESH#{ledger}` / `{refresh expiry}#{tenant}` while connected with a
                                      refresh token that lapses (the maintenance function refreshes the ones due);
                                      `REAUTH#{ledger}` / `{reauth_at}#{tenant}` once it needs a reconnect

Why refreshed tokens are fenced by the version alone and not by the lease: a holder whose lease lapsed mid-request
still holds the newest tokens if the version has not moved, and storing them is right (for single-use refresh
tokens, dropping them would lose the connection). A newer version means someone stored newer tokens: the late
holder's write fails and it uses what is stored. Marking `needs_reauth` does require the lease too, so that a
holder refused because a peer used the token up meanwhile does not condemn the connection while that peer's
answer is on its way.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from acuity_sync.domain.grant import TokenGrant
from acuity_sync.domain.names import LedgerName
from acuity_sync.secret import Secret
from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.keys import connection_sk, tenant_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    from acuity_sync.store.kms import SecretBox

logger = logging.getLogger(__name__)

ACCESS_PURPOSE = "oauth_access_token"
REFRESH_PURPOSE = "oauth_refresh_token"
GSI_NAME = "gsi1"
_MAX_STEPS = 64  # no loop below runs forever whatever the table says


def token_context(tenant_id: str, ledger: LedgerName, purpose: str) -> dict[str, str]:
    return {"tenant_id": tenant_id, "ledger": str(ledger), "purpose": purpose}


def reauth_list_key(ledger: LedgerName) -> str:
    return f"REAUTH#{ledger}"


def refresh_list_key(ledger: LedgerName) -> str:
    return f"REFRESH#{ledger}"


class ConnectionStatus(StrEnum):
    CONNECTED = "connected"
    NEEDS_REAUTH = "needs_reauth"


class ConnectionChanged(Exception):
    """A save lost its version check: someone else wrote the connection since it was read."""


# ------------------------------------------------------------------------------------------------ shapes


@dataclass(frozen=True, slots=True)
class Connection:
    """A connection with its tokens in the clear (for the connect flow); `version` 0 is one never stored."""

    tenant_id: str
    ledger: LedgerName
    company_id: str
    access_token: Secret
    refresh_token: Secret
    access_expires_at: datetime
    refresh_expires_at: datetime | None
    status: ConnectionStatus = ConnectionStatus.CONNECTED
    version: int = 0
    reauth_reason: str = ""
    reauth_at: datetime | None = None
    connected_at: datetime | None = None  # None: save() writes the time of the save
    company_name: str = ""  # as the ledger names the company (shown on the settings page)

    @classmethod
    def from_grant(
        cls, tenant_id: str, ledger: LedgerName, company_id: str, grant: TokenGrant, company_name: str = ""
    ) -> Connection:
        return cls(
            tenant_id=tenant_id,
            ledger=ledger,
            company_id=company_id,
            access_token=grant.access_token,
            refresh_token=grant.refresh_token,
            access_expires_at=grant.access_expires_at,
            refresh_expires_at=grant.refresh_expires_at,
            company_name=company_name,
        )


@dataclass(frozen=True, slots=True)
class StoredConnection:
    """The item as read: tokens still sealed (reading it costs no KMS call), the lease visible."""

    tenant_id: str
    ledger: LedgerName
    company_id: str
    status: ConnectionStatus
    access_expires_at: datetime
    refresh_expires_at: datetime | None
    version: int
    sealed_access: bytes = field(repr=False)
    sealed_refresh: bytes = field(repr=False)
    lease_owner: str = ""
    lease_until: datetime | None = None
    reauth_reason: str = ""
    reauth_at: datetime | None = None
    updated_at: datetime | None = None  # the last write of tokens or status (a reconnect, a refresh, a refusal)
    connected_at: datetime | None = None  # None only for a connection stored before it was recorded
    company_name: str = ""

    def lease_live(self, now: datetime) -> bool:
        # The complement of take_lease's condition (lease_until < now), so that the two never disagree.
        return bool(self.lease_owner) and self.lease_until is not None and self.lease_until >= now


@dataclass(frozen=True, slots=True)
class Outcome:
    """A conditional write: `ok`, and the item as written, or as it is now when the condition failed (None when
    the item is gone)."""

    ok: bool
    current: StoredConnection | None


@dataclass(frozen=True, slots=True)
class ReauthEntry:
    tenant_id: str
    reason: str
    at: datetime | None


# ------------------------------------------------------------------------------------------------ store


class ConnectionStore:
    """The connection items. Every read is strongly consistent; every write is conditional on the version.

    Operations: read = 1 GetItem; open_access / open_refresh = 1 KMS Decrypt each; get = read + 2 Decrypt;
    save = 2 KMS Encrypt + 1 PutItem; take_lease, release_lease, mark_needs_reauth = 1 UpdateItem;
    store_refreshed = 2 KMS Encrypt + 1 UpdateItem. A failed condition returns the item as it now is
    (ReturnValuesOnConditionCheckFailure), so no extra read is needed."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str, box: SecretBox) -> None:
        self._dynamodb = dynamodb
        self._table_name = table_name
        self._box = box

    # ------------------------------------------------------------------ reads

    def read(self, tenant_id: str, ledger: LedgerName) -> StoredConnection | None:
        try:
            item = self._dynamodb.get_item(
                TableName=self._table_name, Key=_key(tenant_id, ledger), ConsistentRead=True
            ).get("Item")
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"connection unavailable: {type(error).__name__}") from error
        return _parse(item) if item is not None else None

    def open_access(self, stored: StoredConnection) -> Secret:
        return self._open(stored.sealed_access, token_context(stored.tenant_id, stored.ledger, ACCESS_PURPOSE))

    def open_refresh(self, stored: StoredConnection) -> Secret:
        return self._open(stored.sealed_refresh, token_context(stored.tenant_id, stored.ledger, REFRESH_PURPOSE))

    def get(self, tenant_id: str, ledger: LedgerName) -> Connection | None:
        stored = self.read(tenant_id, ledger)
        if stored is None:
            return None
        return Connection(
            tenant_id=stored.tenant_id,
            ledger=stored.ledger,
            company_id=stored.company_id,
            access_token=self.open_access(stored),
            refresh_token=self.open_refresh(stored),
            access_expires_at=stored.access_expires_at,
            refresh_expires_at=stored.refresh_expires_at,
            status=stored.status,
            version=stored.version,
            reauth_reason=stored.reauth_reason,
            reauth_at=stored.reauth_at,
            connected_at=stored.connected_at,
            company_name=stored.company_name,
        )

    def needing_reauth(self, ledger: LedgerName) -> list[ReauthEntry]:
        """Connections of `ledger` a person must reconnect, oldest first (the GSI is eventually consistent)."""
        entries = []
        for item in self._query_list(reauth_list_key(ledger), None):
            stored = _parse(item)
            entries.append(ReauthEntry(stored.tenant_id, stored.reauth_reason, stored.reauth_at))
        return entries

    def due_for_refresh(self, ledger: LedgerName, before: datetime) -> list[tuple[str, datetime]]:
        """(tenant, refresh expiry) of connected connections whose refresh token lapses before `before`."""
        due = []
        for item in self._query_list(refresh_list_key(ledger), _iso(before)):
            stored = _parse(item)
            if stored.refresh_expires_at is not None:
                due.append((stored.tenant_id, stored.refresh_expires_at))
        return due

    # ------------------------------------------------------------------ writes

    def save(self, connection: Connection, *, now: datetime | None = None) -> Connection:
        """Write a whole connection (a new consent, a reconnect): status, tokens and lists as given, any lease
        gone. Fenced by `connection.version` (0: the item must not exist); raises ConnectionChanged."""
        at = now or datetime.now(UTC)
        version = connection.version + 1
        item: dict[str, AttributeValueTypeDef] = {
            **_key(connection.tenant_id, connection.ledger),
            "tenant_id": {"S": connection.tenant_id},
            "ledger": {"S": str(connection.ledger)},
            "company_id": {"S": connection.company_id},
            "status": {"S": str(connection.status)},
            "access_token": {"B": self._seal(connection.access_token, connection, ACCESS_PURPOSE)},
            "refresh_token": {"B": self._seal(connection.refresh_token, connection, REFRESH_PURPOSE)},
            "access_expires_at": _number(connection.access_expires_at),
            "version": {"N": str(version)},
            "updated_at": _number(at),
            "connected_at": _number(connection.connected_at or at),
        }
        if connection.refresh_expires_at is not None:
            item["refresh_expires_at"] = _number(connection.refresh_expires_at)
        if connection.company_name:
            item["company_name"] = {"S": connection.company_name}
        if connection.status is ConnectionStatus.NEEDS_REAUTH:
            reauth_at = connection.reauth_at or at
            item["reauth_reason"] = {"S": connection.reauth_reason}
            item["reauth_at"] = {"S": _iso(reauth_at)}
            item["gsi1pk"] = {"S": reauth_list_key(connection.ledger)}
            item["gsi1sk"] = {"S": f"{_iso(reauth_at)}#{connection.tenant_id}"}
        elif connection.refresh_expires_at is not None:
            item["gsi1pk"] = {"S": refresh_list_key(connection.ledger)}
            item["gsi1sk"] = {"S": f"{_iso(connection.refresh_expires_at)}#{connection.tenant_id}"}
        try:
            if connection.version == 0:
                self._dynamodb.put_item(
                    TableName=self._table_name, Item=item, ConditionExpression="attribute_not_exists(pk)"
                )
            else:
                self._dynamodb.put_item(
                    TableName=self._table_name,
                    Item=item,
                    ConditionExpression="version = :expected",
                    ExpressionAttributeValues={":expected": {"N": str(connection.version)}},
                )
        except ClientError as error:
            if _condition_failed(error):
                raise ConnectionChanged(
                    f"the {connection.ledger} connection changed since version {connection.version}"
                ) from None
            raise StoreUnavailable(f"connection not saved: {type(error).__name__}") from error
        except BotoCoreError as error:
            raise StoreUnavailable(f"connection not saved: {type(error).__name__}") from error
        return replace(connection, version=version)

    def connect(
        self,
        tenant_id: str,
        ledger: LedgerName,
        company_id: str,
        grant: TokenGrant,
        *,
        now: datetime | None = None,
        company_name: str = "",
    ) -> Connection:
        """Store the tokens of a new consent, over whatever was there (a reconnect ends needs_reauth and any
        lease; a refresh in flight then fails its version check and uses these tokens)."""
        connection = Connection.from_grant(tenant_id, ledger, company_id, grant, company_name)
        for _ in range(_MAX_STEPS):
            current = self.read(tenant_id, ledger)
            # A reconnect to the same company keeps the time of the first consent: the sync started there.
            kept = current.connected_at if current is not None and current.company_id == company_id else None
            try:
                return self.save(
                    replace(connection, version=current.version if current else 0, connected_at=kept), now=now
                )
            except ConnectionChanged:
                continue
        raise StoreUnavailable(f"the {ledger} connection kept changing while it was being saved")

    def remove(self, tenant_id: str, ledger: LedgerName) -> None:
        """The owner disconnected the ledger: the tokens go (the sync records, settings and parked events stay). A
        refresh in flight then fails its version check and finds no connection."""
        try:
            self._dynamodb.delete_item(TableName=self._table_name, Key=_key(tenant_id, ledger))
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"connection not removed: {type(error).__name__}") from error

    def take_lease(self, stored: StoredConnection, owner: str, until: datetime, now: datetime) -> Outcome:
        """The right to refresh `stored.version`: granted when no live lease is held and the version and status
        are as read."""
        return self._update(
            stored,
            update="SET lease_owner = :owner, lease_until = :until",
            condition=(
                "version = :expected AND #status = :connected "
                "AND (attribute_not_exists(lease_until) OR lease_until < :now)"
            ),
            names={"#status": "status"},
            values={
                ":owner": {"S": owner},
                ":until": _number(until),
                ":expected": {"N": str(stored.version)},
                ":connected": {"S": str(ConnectionStatus.CONNECTED)},
                ":now": _number(now),
            },
            written=replace(stored, lease_owner=owner, lease_until=until),
        )

    def store_refreshed(self, stored: StoredConnection, grant: TokenGrant, now: datetime) -> Outcome:
        """The refreshed tokens, over `stored.version` only (see the module's docstring); drops the lease."""
        sets = [
            "access_token = :access",
            "refresh_token = :refresh",
            "access_expires_at = :access_expires",
            "version = :next",
            "updated_at = :now",
        ]
        removes = ["lease_owner", "lease_until"]
        sealed_access = self._seal(grant.access_token, stored, ACCESS_PURPOSE)
        sealed_refresh = self._seal(grant.refresh_token, stored, REFRESH_PURPOSE)
        values: dict[str, AttributeValueTypeDef] = {
            ":access": {"B": sealed_access},
            ":refresh": {"B": sealed_refresh},
            ":access_expires": _number(grant.access_expires_at),
            ":next": {"N": str(stored.version + 1)},
            ":now": _number(now),
            ":expected": {"N": str(stored.version)},
        }
        if grant.refresh_expires_at is not None:
            sets += ["refresh_expires_at = :refresh_expires", "gsi1pk = :list", "gsi1sk = :position"]
            values[":refresh_expires"] = _number(grant.refresh_expires_at)
            values[":list"] = {"S": refresh_list_key(stored.ledger)}
            values[":position"] = {"S": f"{_iso(grant.refresh_expires_at)}#{stored.tenant_id}"}
        else:
            removes += ["refresh_expires_at", "gsi1pk", "gsi1sk"]
        return self._update(
            stored,
            update=f"SET {', '.join(sets)} REMOVE {', '.join(removes)}",
            condition="version = :expected",
            names=None,
            values=values,
            written=replace(
                stored,
                sealed_access=sealed_access,
                sealed_refresh=sealed_refresh,
                access_expires_at=grant.access_expires_at,
                refresh_expires_at=grant.refresh_expires_at,
                version=stored.version + 1,
                lease_owner="",
                lease_until=None,
            ),
        )

    def release_lease(self, stored: StoredConnection, owner: str) -> None:
        """Best effort: a lease that cannot be released lapses by itself."""
        try:
            self._dynamodb.update_item(
                TableName=self._table_name,
                Key=_key(stored.tenant_id, stored.ledger),
                UpdateExpression="REMOVE lease_owner, lease_until",
                ConditionExpression="lease_owner = :owner",
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except ClientError as error:
            if not _condition_failed(error):
                logger.warning("lease on %s connection not released: %s", stored.ledger, type(error).__name__)
        except BotoCoreError as error:
            logger.warning("lease on %s connection not released: %s", stored.ledger, type(error).__name__)

    def mark_needs_reauth(self, stored: StoredConnection, owner: str, reason: str, at: datetime) -> Outcome:
        """The refresh token was refused for good: only by the lease holder, and only at the version refused."""
        return self._update(
            stored,
            update=(
                "SET #status = :needs_reauth, reauth_reason = :reason, reauth_at = :at, gsi1pk = :list, "
                "gsi1sk = :position, version = :next, updated_at = :now REMOVE lease_owner, lease_until"
            ),
            condition="version = :expected AND lease_owner = :owner",
            names={"#status": "status"},
            values={
                ":needs_reauth": {"S": str(ConnectionStatus.NEEDS_REAUTH)},
                ":reason": {"S": reason},
                ":at": {"S": _iso(at)},
                ":list": {"S": reauth_list_key(stored.ledger)},
                ":position": {"S": f"{_iso(at)}#{stored.tenant_id}"},
                ":next": {"N": str(stored.version + 1)},
                ":now": _number(at),
                ":expected": {"N": str(stored.version)},
                ":owner": {"S": owner},
            },
            written=replace(
                stored,
                status=ConnectionStatus.NEEDS_REAUTH,
                reauth_reason=reason,
                reauth_at=at,
                version=stored.version + 1,
                lease_owner="",
                lease_until=None,
            ),
        )

    # ------------------------------------------------------------------ internals

    def _update(
        self,
        stored: StoredConnection,
        *,
        update: str,
        condition: str,
        names: dict[str, str] | None,
        values: Mapping[str, AttributeValueTypeDef],
        written: StoredConnection,
    ) -> Outcome:
        arguments: dict[str, Any] = {
            "TableName": self._table_name,
            "Key": _key(stored.tenant_id, stored.ledger),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": dict(values),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if names:
            arguments["ExpressionAttributeNames"] = names
        try:
            self._dynamodb.update_item(**arguments)
        except ClientError as error:
            if not _condition_failed(error):
                raise StoreUnavailable(f"connection not updated: {type(error).__name__}") from error
            item = error.response.get("Item")  # ALL_OLD: the item as it is now
            if isinstance(item, dict):
                return Outcome(False, _parse(item))
            return Outcome(False, self.read(stored.tenant_id, stored.ledger))
        except BotoCoreError as error:
            raise StoreUnavailable(f"connection not updated: {type(error).__name__}") from error
        return Outcome(True, written)

    def _query_list(self, list_key: str, before: str | None) -> list[dict[str, Any]]:
        arguments: dict[str, Any] = {
            "TableName": self._table_name,
            "IndexName": GSI_NAME,
            "KeyConditionExpression": "gsi1pk = :list" + (" AND gsi1sk < :before" if before else ""),
            "ExpressionAttributeValues": {":list": {"S": list_key}, **({":before": {"S": before}} if before else {})},
        }
        items: list[dict[str, Any]] = []
        try:
            for page in self._dynamodb.get_paginator("query").paginate(**arguments):
                items.extend(page.get("Items", []))
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"connection list unavailable: {type(error).__name__}") from error
        return items

    def _seal(self, secret: Secret, owner: Connection | StoredConnection, purpose: str) -> bytes:
        try:
            return self._box.seal(secret, token_context(owner.tenant_id, owner.ledger, purpose))
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"token not encrypted: {type(error).__name__}") from error

    def _open(self, ciphertext: bytes, context: dict[str, str]) -> Secret:
        try:
            return self._box.open(ciphertext, context)
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"token not decrypted: {type(error).__name__}") from error


def _key(tenant_id: str, ledger: LedgerName) -> dict[str, AttributeValueTypeDef]:
    return {"pk": {"S": tenant_pk(tenant_id)}, "sk": {"S": connection_sk(ledger)}}


def _condition_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _number(moment: datetime) -> AttributeValueTypeDef:
    return {"N": f"{moment.timestamp():.3f}"}


def _moment(value: Mapping[str, Any] | None) -> datetime | None:
    return datetime.fromtimestamp(float(value["N"]), UTC) if value is not None else None


def _iso(moment: datetime) -> str:
    # Fixed width and one time zone, so that the GSI's sort key orders by time.
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _parse(item: Mapping[str, Any]) -> StoredConnection:
    reauth_at = item.get("reauth_at", {}).get("S")
    access_expires_at = _moment(item["access_expires_at"])
    assert access_expires_at is not None
    return StoredConnection(
        tenant_id=item["tenant_id"]["S"],
        ledger=LedgerName(item["ledger"]["S"]),
        company_id=item["company_id"]["S"],
        status=ConnectionStatus(item["status"]["S"]),
        access_expires_at=access_expires_at,
        refresh_expires_at=_moment(item.get("refresh_expires_at")),
        version=int(item["version"]["N"]),
        sealed_access=bytes(item["access_token"]["B"]),
        sealed_refresh=bytes(item["refresh_token"]["B"]),
        lease_owner=item.get("lease_owner", {}).get("S", ""),
        lease_until=_moment(item.get("lease_until")),
        reauth_reason=item.get("reauth_reason", {}).get("S", ""),
        reauth_at=datetime.fromisoformat(reauth_at) if reauth_at else None,
        updated_at=_moment(item.get("updated_at")),
        connected_at=_moment(item.get("connected_at")),
        company_name=item.get("company_name", {}).get("S", ""),
    )
