"""Acuity snapshots: the first sync function to read an appointment or order stores what it read, and another
ledger's function reuses it when it was fetched after its own webhook arrived (Acuity's API budget is small and
shared by every tenant). Snapshots expire after SNAPSHOT_TTL.

The three ledgers' functions get the same webhook at the same moment, so "the first" is decided by a claim on the
snapshot's item (`claim_owner`, `claim_since`, `claim_until`): one claims and fetches, the others wait for its
snapshot instead of spending Acuity tokens of their own. A claim serves every message that arrived before it was
taken (`claim_since`); a newer message, or anyone once the claim lapses (its holder died), may take it over. A
snapshot can also say that Acuity has no such appointment or order (`missing`), so that the other ledgers skip it
without asking again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
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
MISSING = "missing"  # the key of a snapshot of absence: {"missing": Acuity's 404 in words}


@dataclass(frozen=True, slots=True)
class Snapshot:
    # Acuity's own JSON: {"appointment": ..., "payments": [...]} or {"order": ...}; or {"missing": "..."}
    document: dict[str, Any]
    fetched_at: datetime


@dataclass(frozen=True, slots=True)
class Claim:
    """A claim attempt: `granted` (fetch, then put), or not: then `snapshot` is one a peer stored meanwhile (use
    it), or None while a peer's live claim will serve this message (wait for it)."""

    granted: bool
    snapshot: Snapshot | None = None


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
        return _fresh(item, not_before) if item is not None else None

    def claim(
        self,
        tenant_id: str,
        kind: EventKind,
        object_id: int,
        owner: str,
        *,
        since: datetime,
        now: datetime,
        until: datetime,
    ) -> Claim:
        """The right to fetch for every message that arrived by `now`, for a message that arrived at `since`:
        granted unless a snapshot fetched since `since` is stored (then the refusal carries it: no read is needed
        before a claim), or a live claim taken since `since` is held."""
        try:
            self._dynamodb.update_item(
                TableName=self._table_name,
                Key={"pk": {"S": tenant_pk(tenant_id)}, "sk": {"S": snapshot_sk(kind, object_id)}},
                UpdateExpression=(
                    f"SET claim_owner = :owner, claim_since = :now, claim_until = :until, "
                    f"{TTL_ATTRIBUTE} = if_not_exists({TTL_ATTRIBUTE}, :expires)"
                ),
                ConditionExpression=(
                    "(attribute_not_exists(fetched_at) OR fetched_at < :since) AND "
                    "(attribute_not_exists(claim_until) OR claim_until < :now_number OR claim_since < :since)"
                ),
                ExpressionAttributeValues={
                    ":owner": {"S": owner},
                    ":now": {"S": now.isoformat()},
                    ":now_number": {"N": f"{now.timestamp():.3f}"},
                    ":until": {"N": f"{until.timestamp():.3f}"},
                    ":since": {"S": since.isoformat()},
                    ":expires": {"N": str(int((now + SNAPSHOT_TTL).timestamp()))},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise StoreUnavailable(f"snapshot unavailable: {type(error).__name__}") from error
            item = error.response.get("Item")
            if not isinstance(item, dict):  # not every DynamoDB answers ALL_OLD on a failed condition: read it
                return Claim(False, self.fresh(tenant_id, kind, object_id, since))
            return Claim(False, _fresh(item, since) if "fetched_at" in item else None)
        except BotoCoreError as error:
            raise StoreUnavailable(f"snapshot unavailable: {type(error).__name__}") from error
        return Claim(True)

    def release(self, tenant_id: str, kind: EventKind, object_id: int, owner: str) -> None:
        """Give a claim back (the fetch failed), so that the peers waiting for it fetch themselves. Best effort: a
        claim that is not released lapses by itself."""
        try:
            self._dynamodb.update_item(
                TableName=self._table_name,
                Key={"pk": {"S": tenant_pk(tenant_id)}, "sk": {"S": snapshot_sk(kind, object_id)}},
                UpdateExpression="REMOVE claim_owner, claim_since, claim_until",
                ConditionExpression="claim_owner = :owner",
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except (BotoCoreError, ClientError):
            return

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
                # A newer snapshot stored by a peer is kept; an item holding only a claim is replaced (and so is
                # the claim: the snapshot is what its waiters wait for).
                ConditionExpression="attribute_not_exists(fetched_at) OR fetched_at < :fetched_at",
                ExpressionAttributeValues={":fetched_at": {"S": snapshot.fetched_at.isoformat()}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise StoreUnavailable(f"snapshot not saved: {type(error).__name__}") from error
        except BotoCoreError as error:
            raise StoreUnavailable(f"snapshot not saved: {type(error).__name__}") from error


def _fresh(item: Mapping[str, Any], not_before: datetime) -> Snapshot | None:
    if "fetched_at" not in item:
        return None  # a claim only: the snapshot is being fetched
    fetched_at = datetime.fromisoformat(item["fetched_at"]["S"])
    if fetched_at < not_before:
        return None
    return Snapshot(json.loads(item["document"]["S"]), fetched_at)
