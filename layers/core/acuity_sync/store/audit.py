"""The audit trail: one item per decision, so `explain` can tell a business owner what happened to an
appointment and why. Entries expire (TTL) after AUDIT_RETENTION."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from acuity_sync.domain.names import EventKind, LedgerName
from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.keys import TTL_ATTRIBUTE, audit_sk, ledger_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

AUDIT_RETENTION = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    tenant_id: str
    ledger: LedgerName | None  # None: decided at the webhook, before any ledger
    kind: EventKind | None  # None: an action we do not know
    object_id: int
    event: str  # what arrived, e.g. "webhook changed"
    decision: str  # what we did, e.g. "ignored", "queued", "synced"
    rule: str  # the named rule behind the decision
    detail: str  # in words a business owner understands
    request_id: str


class AuditTrail:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table_name = table_name

    def record(self, entry: AuditEntry, now: datetime | None = None) -> None:
        try:
            self._dynamodb.put_item(TableName=self._table_name, Item=audit_item(entry, now or datetime.now(UTC)))
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"audit trail unavailable: {type(error).__name__}") from error

    def entries(
        self, tenant_id: str, ledger: LedgerName | None, kind: EventKind | None, object_id: int
    ) -> list[dict[str, str]]:
        """Every entry for one appointment or order, oldest first."""
        response = self._dynamodb.query(
            TableName=self._table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": ledger_pk(tenant_id, ledger)},
                ":prefix": {"S": f"LOG#{kind or 'unknown'}#{object_id}#"},
            },
        )
        return [
            {name: value["S"] for name, value in item.items() if "S" in value} for item in response.get("Items", [])
        ]


def audit_item(entry: AuditEntry, moment: datetime) -> dict[str, AttributeValueTypeDef]:
    """The item of one audit entry; it expires AUDIT_RETENTION after `moment`."""
    timestamp = moment.isoformat(timespec="microseconds")
    return {
        "pk": {"S": ledger_pk(entry.tenant_id, entry.ledger)},
        "sk": {"S": audit_sk(entry.kind, entry.object_id, timestamp, entry.request_id)},
        "at": {"S": timestamp},
        "event": {"S": entry.event},
        "decision": {"S": entry.decision},
        "rule": {"S": entry.rule},
        "detail": {"S": entry.detail},
        "request_id": {"S": entry.request_id},
        TTL_ATTRIBUTE: {"N": str(int((moment + AUDIT_RETENTION).timestamp()))},
    }
