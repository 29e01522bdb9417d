"""When a tenant connected a ledger (issue 9, item 3): the connection keeps the time of its first consent, which
the sync starts from (rule booked_before_connection); a reconnect to the same company keeps it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3

from acuity_sync.domain.grant import TokenGrant
from acuity_sync.domain.names import LedgerName
from acuity_sync.secret import Secret
from acuity_sync.store.connections import ConnectionStore
from acuity_sync.store.kms import SecretBox
from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack

TENANT = "0123456789abcdef0123456789abcdef"
FIRST = datetime(2026, 11, 20, 15, 30, 12, 500_000, tzinfo=UTC)


def grant(now: datetime) -> TokenGrant:
    return TokenGrant(Secret("access"), Secret("refresh"), now + timedelta(hours=1), now + timedelta(days=100))


def test_the_first_consent_is_kept_through_reconnects_and_refreshes(stack: ProvisionedStack) -> None:
    box = SecretBox(boto3.client("kms", region_name=stack.region), stack.kms_key_arn)
    store = ConnectionStore(boto3.client("dynamodb", region_name=stack.region), stack.table_name, box)
    store.connect(TENANT, LedgerName.XERO, "org-1", grant(FIRST), now=FIRST)
    stored = store.read(TENANT, LedgerName.XERO)
    assert stored is not None
    assert stored.connected_at == FIRST
    later = FIRST + timedelta(days=30)
    store.store_refreshed(stored, grant(later), later)
    store.connect(TENANT, LedgerName.XERO, "org-1", grant(later), now=later)  # reconnected after needs_reauth
    connection = store.get(TENANT, LedgerName.XERO)
    assert connection is not None
    assert connection.connected_at == FIRST
    store.connect(TENANT, LedgerName.XERO, "org-2", grant(later), now=later)  # another organisation altogether
    moved = store.read(TENANT, LedgerName.XERO)
    assert moved is not None
    assert moved.connected_at == later
