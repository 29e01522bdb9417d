"""SettingsStore against moto, with the table created from template.yaml: versions, conflicts, the item's shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest

from acuity_sync.domain.names import LedgerName
from acuity_sync.domain.settings import Mode
from acuity_sync.ledgers.registry import default_settings, parse_settings
from acuity_sync.secret import Secret
from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.settings import (
    SettingsConflict,
    SettingsStore,
    StoredSettingsInvalid,
    UnknownTenant,
    VersionedSettings,
)
from acuity_sync.store.tenants import TenantProfile
from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack
from tests.support.aws import add_tenant

TENANT = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"
NOW = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


@pytest.fixture
def stack(stack: ProvisionedStack) -> ProvisionedStack:
    """The stack (conftest.py), with one tenant."""
    add_tenant(stack, TenantProfile(TENANT, "Studio", "1001", Secret("key")))
    return stack


@pytest.fixture
def store(stack: ProvisionedStack) -> SettingsStore:
    return SettingsStore(boto3.client("dynamodb", region_name=stack.region), stack.table_name, clock=lambda: NOW)


def raw_item(stack: ProvisionedStack, tenant_id: str, ledger: str) -> dict[str, object] | None:
    item = boto3.client("dynamodb", region_name=stack.region).get_item(
        TableName=stack.table_name, Key={"pk": {"S": f"TENANT#{tenant_id}"}, "sk": {"S": f"SETTINGS#{ledger}"}}
    )
    return item.get("Item")  # type: ignore[return-value]


def test_never_saved_settings_are_the_defaults_at_version_0(store: SettingsStore) -> None:
    for ledger in LedgerName:
        assert store.get(TENANT, ledger) == VersionedSettings(default_settings(ledger), 0)


def test_a_save_is_read_back_with_its_version(store: SettingsStore, stack: ProvisionedStack) -> None:
    settings = parse_settings(LedgerName.QUICKBOOKS, {"mode": "send", "quickbooks": {"default_item_id": "1"}})
    assert store.put(TENANT, LedgerName.QUICKBOOKS, settings, expected_version=0) == 1
    assert store.get(TENANT, LedgerName.QUICKBOOKS) == VersionedSettings(settings, 1, "2026-03-01T12:30:00+00:00")

    item = raw_item(stack, TENANT, "quickbooks")
    assert item is not None
    assert item["version"] == {"N": "1"}
    assert item["updated_at"] == {"S": "2026-03-01T12:30:00+00:00"}
    document = json.loads(item["settings"]["S"])  # type: ignore[index]
    assert document["mode"] == "send"
    assert document["ledger"] == "quickbooks"
    assert document["quickbooks"]["default_item_id"] == "1"


def test_each_ledger_has_its_own_settings(store: SettingsStore) -> None:
    store.put(TENANT, LedgerName.XERO, parse_settings(LedgerName.XERO, {"mode": "customer_only"}), 0)
    assert store.get(TENANT, LedgerName.XERO).settings.mode is Mode.CUSTOMER_ONLY
    assert store.get(TENANT, LedgerName.QUICKBOOKS) == VersionedSettings(default_settings(LedgerName.QUICKBOOKS), 0)


def test_versions_count_up(store: SettingsStore) -> None:
    version = 0
    for mode in ("send", "draft", "customer_only"):
        version = store.put(
            TENANT, LedgerName.FRESHBOOKS, parse_settings(LedgerName.FRESHBOOKS, {"mode": mode}), version
        )
    assert version == 3
    current = store.get(TENANT, LedgerName.FRESHBOOKS)
    assert (current.version, current.settings.mode) == (3, Mode.CUSTOMER_ONLY)


def test_a_concurrent_change_is_a_conflict_not_a_lost_update(store: SettingsStore) -> None:
    store.put(TENANT, LedgerName.QUICKBOOKS, default_settings(LedgerName.QUICKBOOKS), 0)
    first, second = store.get(TENANT, LedgerName.QUICKBOOKS), store.get(TENANT, LedgerName.QUICKBOOKS)
    mine = first.settings.model_copy(update={"mode": Mode.SEND})
    theirs = second.settings.model_copy(update={"sync_orders": False})
    assert store.put(TENANT, LedgerName.QUICKBOOKS, mine, first.version) == 2

    with pytest.raises(SettingsConflict) as caught:
        store.put(TENANT, LedgerName.QUICKBOOKS, theirs, second.version)
    assert caught.value.expected_version == 1
    assert caught.value.current_version == 2
    assert "changed by someone else since version 1 was read (now version 2)" in str(caught.value)
    assert store.get(TENANT, LedgerName.QUICKBOOKS) == VersionedSettings(mine, 2, "2026-03-01T12:30:00+00:00")


def test_a_first_save_conflicts_with_another_first_save(store: SettingsStore) -> None:
    store.put(TENANT, LedgerName.XERO, parse_settings(LedgerName.XERO, {"mode": "send"}), 0)
    with pytest.raises(SettingsConflict) as caught:
        store.put(TENANT, LedgerName.XERO, parse_settings(LedgerName.XERO, {"mode": "customer_only"}), 0)
    assert caught.value.current_version == 1
    assert store.get(TENANT, LedgerName.XERO).settings.mode is Mode.SEND


def test_a_version_never_saved_is_a_conflict(store: SettingsStore, stack: ProvisionedStack) -> None:
    with pytest.raises(SettingsConflict) as caught:
        store.put(TENANT, LedgerName.XERO, default_settings(LedgerName.XERO), 4)
    assert caught.value.current_version is None
    assert raw_item(stack, TENANT, "xero") is None


def test_settings_of_an_unknown_tenant_are_refused(store: SettingsStore, stack: ProvisionedStack) -> None:
    with pytest.raises(UnknownTenant):
        store.put(OTHER, LedgerName.QUICKBOOKS, default_settings(LedgerName.QUICKBOOKS), 0)
    assert raw_item(stack, OTHER, "quickbooks") is None
    with pytest.raises(UnknownTenant):
        store.put("not a tenant id", LedgerName.QUICKBOOKS, default_settings(LedgerName.QUICKBOOKS), 0)


def test_settings_are_saved_under_their_own_ledger_only(store: SettingsStore) -> None:
    with pytest.raises(ValueError, match="xero settings cannot be saved as the quickbooks settings"):
        store.put(TENANT, LedgerName.QUICKBOOKS, default_settings(LedgerName.XERO), 0)
    with pytest.raises(ValueError, match="expected_version must be 0 or more"):
        store.put(TENANT, LedgerName.XERO, default_settings(LedgerName.XERO), -1)


def test_an_invalid_stored_document_is_reported_not_guessed(store: SettingsStore, stack: ProvisionedStack) -> None:
    boto3.client("dynamodb", region_name=stack.region).put_item(
        TableName=stack.table_name,
        Item={
            "pk": {"S": f"TENANT#{TENANT}"},
            "sk": {"S": "SETTINGS#xero"},
            "settings": {"S": json.dumps({"ledger": "xero", "mode": "sent"})},
            "version": {"N": "7"},
        },
    )
    with pytest.raises(StoredSettingsInvalid) as caught:
        store.get(TENANT, LedgerName.XERO)
    assert caught.value.messages == ["mode: must be one of customer_only, draft, send (got 'sent')"]


def test_aws_failures_are_store_unavailable(stack: ProvisionedStack) -> None:
    missing = SettingsStore(boto3.client("dynamodb", region_name=stack.region), "no-such-table")
    with pytest.raises(StoreUnavailable, match="settings unavailable: ResourceNotFoundException"):
        missing.get(TENANT, LedgerName.QUICKBOOKS)
    with pytest.raises(StoreUnavailable, match="settings not saved"):
        missing.put(TENANT, LedgerName.QUICKBOOKS, default_settings(LedgerName.QUICKBOOKS), 0)
