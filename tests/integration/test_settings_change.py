"""The one settings change (acuity_sync.connect.settings), used by `acuity-sync settings set` and the settings page:
a valid change is saved over the version read and puts the tenant's events parked until a settings change back on
the queue, as resumes, with fresh deduplication ids; those parked for another reason, another ledger or another
tenant stay; a refused change saves nothing and re-queues nothing. And the store's one-time values: taken once,
never after their lifetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from acuity_sync.connect.settings import Resume, change_settings
from acuity_sync.domain.names import LedgerName
from acuity_sync.secret import Secret
from acuity_sync.store.kms import SecretBox
from acuity_sync.store.one_time import OneTimeKind, OneTimeValues
from acuity_sync.store.parking import ParkingLot, ResumeOn
from acuity_sync.store.settings import SettingsStore
from acuity_sync.store.tenants import TenantProfile, TenantStore
from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack
from tests.integration.test_requeue import OTHER, TENANT, parked, queued, requeuer


@pytest.fixture
def tenant(stack: ProvisionedStack) -> str:
    box = SecretBox(boto3.client("kms", region_name=stack.region), stack.kms_key_arn)
    TenantStore(boto3.client("dynamodb", region_name=stack.region), stack.table_name, box).create(
        TenantProfile(TENANT, "Studio", "1", Secret("key"))
    )
    return TENANT


def test_a_saved_change_requeues_the_events_parked_until_a_settings_change(
    stack: ProvisionedStack, tenant: str
) -> None:
    dynamodb = boto3.client("dynamodb", region_name=stack.region)
    lot = ParkingLot(dynamodb, stack.table_name)
    waiting = parked(1001, resume_on=ResumeOn.SETTINGS_CHANGE)
    for event in (
        waiting,
        parked(1002, resume_on=ResumeOn.RECONNECT),
        parked(1003, resume_on=ResumeOn.SETTINGS_CHANGE, ledger=LedgerName.XERO),
        parked(1004, resume_on=ResumeOn.SETTINGS_CHANGE, tenant=OTHER),
    ):
        lot.park(event)
    store = SettingsStore(dynamodb, stack.table_name)
    current = store.get(tenant, LedgerName.QUICKBOOKS)
    change = change_settings(
        store,
        tenant,
        LedgerName.QUICKBOOKS,
        {"mode": "send"},
        based_on=current.settings,
        version=current.version,
        open_ledger=lambda: None,
        resume=Resume(lot, requeuer(stack, lot)),
    )
    assert (change.version, change.requeued, change.problems) == (1, 1, ())
    assert store.get(tenant, LedgerName.QUICKBOOKS).settings.mode == "send"
    (message,) = queued(stack, LedgerName.QUICKBOOKS)
    assert (message["object_id"], message["origin"], message["dedup"]) == (1001, "resume", "resume-a1")
    assert lot.get(waiting.request, LedgerName.QUICKBOOKS) is None
    assert [e.request.object_id for e in lot.for_ledger(tenant, LedgerName.QUICKBOOKS)] == [1002]
    assert len(lot.for_ledger(tenant, LedgerName.XERO)) == 1
    assert len(lot.for_ledger(OTHER, LedgerName.QUICKBOOKS)) == 1


def test_a_refused_change_saves_nothing_and_requeues_nothing(stack: ProvisionedStack, tenant: str) -> None:
    dynamodb = boto3.client("dynamodb", region_name=stack.region)
    lot = ParkingLot(dynamodb, stack.table_name)
    lot.park(parked(1001, resume_on=ResumeOn.SETTINGS_CHANGE))
    store = SettingsStore(dynamodb, stack.table_name)
    current = store.get(tenant, LedgerName.QUICKBOOKS)
    change = change_settings(
        store,
        tenant,
        LedgerName.QUICKBOOKS,
        {"mode": "sometimes"},
        based_on=current.settings,
        version=current.version,
        open_ledger=lambda: None,
        resume=Resume(lot, requeuer(stack, lot)),
    )
    assert change.version is None
    assert change.problems == ("mode: must be one of customer_only, draft, send (got 'sometimes')",)
    assert store.get(tenant, LedgerName.QUICKBOOKS).version == 0
    assert queued(stack, LedgerName.QUICKBOOKS) == []
    assert len(lot.for_ledger(tenant, LedgerName.QUICKBOOKS)) == 1


def test_a_one_time_value_is_taken_once_and_never_after_its_lifetime(stack: ProvisionedStack) -> None:
    dynamodb = boto3.client("dynamodb", region_name=stack.region)
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    clock = [now]
    values = OneTimeValues(dynamodb, stack.table_name, clock=lambda: clock[0])
    values.put(OneTimeKind.OAUTH_STATE, "state-1", {"tenant_id": TENANT}, timedelta(minutes=10))
    values.put(OneTimeKind.OAUTH_STATE, "state-2", {"tenant_id": TENANT}, timedelta(minutes=10))
    assert values.take(OneTimeKind.ADMIN_LINK, "state-1") is None  # another kind: another key
    assert values.take(OneTimeKind.OAUTH_STATE, "state-1") == {"tenant_id": TENANT}
    assert values.take(OneTimeKind.OAUTH_STATE, "state-1") is None
    clock[0] = now + timedelta(minutes=10, seconds=1)
    assert values.take(OneTimeKind.OAUTH_STATE, "state-2") is None
    stored = [
        item for page in dynamodb.get_paginator("scan").paginate(TableName=stack.table_name) for item in page["Items"]
    ]
    assert not any("state-" in str(item) for item in stored)  # only hashes of the values are stored
