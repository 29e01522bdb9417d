"""The sync of one message, end to end but for the ledger: the tenant and settings in the table (moto), Acuity
over HTTP (the fake), snapshots, parking and the audit trail; the ledger is the in-memory one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import httpx
import pytest

from acuity_sync.acuity.client import AcuityClient
from acuity_sync.domain.budget import Budget
from acuity_sync.domain.errors import NeedsReauth, RateLimited, Rejected
from acuity_sync.domain.message import SyncRequest
from acuity_sync.domain.names import EventKind, LedgerName
from acuity_sync.secret import Secret
from acuity_sync.store.audit import AuditTrail
from acuity_sync.store.budgets import BudgetStore, Wait
from acuity_sync.store.parking import ParkingLot, ResumeOn
from acuity_sync.store.records import RecordStore
from acuity_sync.store.settings import SettingsStore
from acuity_sync.store.snapshots import SnapshotStore
from acuity_sync.store.tenants import TenantProfile
from acuity_sync.sync.service import Outcome, SyncService
from acuity_sync_toolkit.fakes.acuity import FakeAcuity
from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack
from tests.support.aws import add_tenant, tenant_store
from tests.support.bookings import booking
from tests.support.memory_ledger import MemoryLedger

TENANT = "5555555555555555aaaaaaaaaaaaaaaa"
USER, KEY = 7001, "acuity-key-7001"
GENEROUS = Budget(rate_per_second=1000, burst=1000)


@dataclass
class World:
    stack: ProvisionedStack
    acuity: FakeAcuity
    ledger: MemoryLedger
    acuity_requests: list[str]

    def service(self, ledger_name: LedgerName = LedgerName.QUICKBOOKS, **overrides: Any) -> SyncService:
        dynamodb = boto3.client("dynamodb", region_name=self.stack.region)
        table = self.stack.table_name

        def acuity_for(profile: TenantProfile) -> AcuityClient:
            http = httpx.Client(
                event_hooks={"request": [lambda request: self.acuity_requests.append(request.url.path)]}
            )
            return AcuityClient(profile.acuity_base_url, profile.acuity_user_id, profile.acuity_api_key, http=http)

        arguments: dict[str, Any] = {
            "ledger_name": ledger_name,
            "tenants": tenant_store(self.stack),
            "settings": SettingsStore(dynamodb, table),
            "records": RecordStore(dynamodb, table),
            "snapshots": SnapshotStore(dynamodb, table),
            "parking": ParkingLot(dynamodb, table),
            "audit": AuditTrail(dynamodb, table),
            "budgets": BudgetStore(dynamodb, table),
            "acuity_budget": GENEROUS,
            "ledger_for": lambda _profile, _settings: self.ledger,
            "acuity_for": acuity_for,
        }
        return SyncService(**(arguments | overrides))

    def book(self, **fields: Any) -> int:
        appointment = self.acuity.book_appointment(USER, booking(**fields))
        return int(appointment["id"])


@pytest.fixture
def world(stack: ProvisionedStack) -> Iterator[World]:
    with FakeAcuity() as acuity:
        acuity.add_account(USER, KEY)
        add_tenant(
            stack,
            TenantProfile(
                TENANT,
                "Studio",
                str(USER),
                Secret(KEY),
                acuity_base_url=acuity.url,
                currency="USD",
                ledgers=(LedgerName.QUICKBOOKS, LedgerName.XERO),
            ),
        )
        yield World(stack, acuity, MemoryLedger(), [])


def request(
    object_id: int, *, kind: EventKind = EventKind.APPOINTMENT, received: datetime | None = None
) -> SyncRequest:
    moment = received or datetime.now(UTC)
    return SyncRequest(TENANT, kind, object_id, "changed", moment.isoformat(timespec="milliseconds"), f"r-{object_id}")


def audit(world: World, object_id: int, ledger: LedgerName = LedgerName.QUICKBOOKS) -> list[dict[str, str]]:
    trail = AuditTrail(boto3.client("dynamodb", region_name=world.stack.region), world.stack.table_name)
    return trail.entries(TENANT, ledger, EventKind.APPOINTMENT, object_id)


def test_a_booking_is_synced_once_and_again_is_in_step(world: World) -> None:
    appointment = world.book(amountPaid="80.00")
    service = world.service()
    assert service.sync(request(appointment)).outcome is Outcome.SYNCED
    assert (len(world.ledger.customers), len(world.ledger.invoices), len(world.ledger.payments)) == (1, 1, 1)
    result = service.sync(request(appointment))
    assert result.outcome is Outcome.SYNCED
    assert result.detail == "already in step with Acuity"
    assert (len(world.ledger.customers), len(world.ledger.invoices), len(world.ledger.payments)) == (1, 1, 1)
    assert [entry["decision"] for entry in audit(world, appointment)].count("written") == 3


def test_a_snapshot_fetched_after_the_webhook_is_reused_by_the_other_ledger(world: World) -> None:
    appointment = world.book(amountPaid="20.00")
    arrived = datetime.now(UTC) - timedelta(seconds=5)
    world.service().sync(request(appointment, received=arrived))
    fetched = len(world.acuity_requests)
    assert fetched == 2  # the appointment and its payments
    world.service(LedgerName.XERO, ledger_for=lambda _profile, _settings: MemoryLedger(name=LedgerName.XERO)).sync(
        request(appointment, received=arrived)
    )
    assert len(world.acuity_requests) == fetched  # nothing read from Acuity again
    later = datetime.now(UTC) + timedelta(seconds=5)  # a webhook that arrived after the snapshot was taken
    world.service().sync(request(appointment, received=later))
    assert len(world.acuity_requests) == fetched + 2


def test_an_unpaid_appointment_costs_one_acuity_call(world: World) -> None:
    world.service().sync(request(world.book()))
    assert len(world.acuity_requests) == 1  # the appointment; nothing paid, so no payments to read


def test_an_appointment_acuity_does_not_have_is_skipped_and_explained(world: World) -> None:
    result = world.service().sync(request(999999))
    assert result.outcome is Outcome.SKIPPED
    assert "999999" in result.detail
    assert audit(world, 999999)[0]["rule"] == "not_in_acuity"


def test_a_rejection_is_parked_in_the_ledgers_words_and_cleared_once_synced(world: World) -> None:
    appointment = world.book()
    world.ledger.refuse_with = Rejected("6000", "A business validation error has occurred")
    result = world.service().sync(request(appointment))
    assert result.outcome is Outcome.PARKED
    parked = ParkingLot(boto3.client("dynamodb", region_name="us-east-1"), world.stack.table_name).get(
        request(appointment), LedgerName.QUICKBOOKS
    )
    assert parked is not None
    assert parked.resume_on is ResumeOn.SETTINGS_CHANGE
    assert "A business validation error has occurred" in parked.detail
    assert world.service().sync(request(appointment)).outcome is Outcome.SYNCED
    assert (
        ParkingLot(boto3.client("dynamodb", region_name="us-east-1"), world.stack.table_name).get(
            request(appointment), LedgerName.QUICKBOOKS
        )
        is None
    )


def test_a_connection_that_needs_reauth_parks_until_reconnect(world: World) -> None:
    appointment = world.book()
    world.ledger.refuse_with = NeedsReauth("QuickBooks refused the connection: reconnect it")
    result = world.service().sync(request(appointment))
    assert result.outcome is Outcome.PARKED
    assert audit(world, appointment)[-1]["rule"] == "needs_reauth"


def test_a_park_for_reauth_is_undone_when_a_peer_restored_the_connection_meanwhile(world: World) -> None:
    """A peer's late store of fresh tokens ended the needs_reauth this sync was refused with (auth/tokens.py): the
    service parks, reads the connection again, finds it usable, clears its own park and retries soon."""
    appointment = world.book()
    world.ledger.refuse_with = NeedsReauth("FreshBooks needs to be reconnected")
    reads: list[str] = []

    def connected_again(tenant_id: str) -> bool:
        parked = ParkingLot(boto3.client("dynamodb", region_name="us-east-1"), world.stack.table_name).get(
            request(appointment), LedgerName.QUICKBOOKS
        )
        reads.append("parked" if parked is not None else "not parked")  # read after the park, not before
        return tenant_id == TENANT

    result = world.service(is_connected=connected_again).sync(request(appointment))
    assert (result.outcome, result.retry_after) == (Outcome.RETRY, 1.0)
    assert reads == ["parked"]
    lot = ParkingLot(boto3.client("dynamodb", region_name="us-east-1"), world.stack.table_name)
    assert lot.get(request(appointment), LedgerName.QUICKBOOKS) is None
    assert [entry["decision"] for entry in audit(world, appointment)][-2:] == ["parked", "retry later"]
    # Still refused for good: it stays parked.
    world.ledger.refuse_with = NeedsReauth("FreshBooks needs to be reconnected")
    result = world.service(is_connected=lambda _tenant: False).sync(request(appointment))
    assert result.outcome is Outcome.PARKED
    assert lot.get(request(appointment), LedgerName.QUICKBOOKS) is not None


def test_rate_limits_back_off_and_long_waits_park_with_a_resume_time(world: World) -> None:
    appointment = world.book()
    world.ledger.refuse_with = RateLimited(60)
    result = world.service().sync(request(appointment))
    assert (result.outcome, result.retry_after) == (Outcome.RETRY, 60)
    world.ledger.refuse_with = RateLimited(6 * 3600, "the daily limit is reached")
    parked = world.service().sync(request(appointment))
    assert parked.outcome is Outcome.PARKED
    assert "resumes at" in parked.detail


def test_a_currency_the_ledger_does_not_keep_is_parked_not_invoiced(world: World) -> None:
    appointment = world.book()

    world.ledger.info = replace(world.ledger.info, home_currency="EUR")
    result = world.service().sync(request(appointment))
    assert result.outcome is Outcome.PARKED
    assert "EUR" in result.detail
    assert not world.ledger.invoices


def test_a_ledger_that_is_not_connected_is_skipped(world: World) -> None:
    appointment = world.book()
    result = world.service(LedgerName.FRESHBOOKS).sync(request(appointment))
    assert result.outcome is Outcome.SKIPPED
    assert not world.ledger.invoices


def test_a_tenant_with_all_its_ledger_slots_in_use_retries_later_and_says_so(world: World) -> None:
    appointment = world.book()
    one_at_a_time = Budget(rate_per_second=1000, burst=1000, max_concurrent=1)
    budgets = BudgetStore(boto3.client("dynamodb", region_name=world.stack.region), world.stack.table_name)
    held = budgets.acquire_slot(f"{TENANT}#quickbooks", one_at_a_time)  # another sync of this tenant is running
    result = world.service(ledger_budget=one_at_a_time).sync(request(appointment))
    assert result.outcome is Outcome.RETRY
    assert not world.ledger.invoices
    assert audit(world, appointment)[-1]["decision"] == "retry later"
    assert not isinstance(held, Wait)
    budgets.release_slot(held.lease)
    assert world.service(ledger_budget=one_at_a_time).sync(request(appointment)).outcome is Outcome.SYNCED
    assert budgets.slots(f"{TENANT}#quickbooks") == {}  # released after the sync


def test_every_outcome_has_an_audit_entry_even_when_nothing_was_written(world: World) -> None:
    appointment = world.book()
    world.service().sync(request(appointment))
    world.service().sync(request(appointment))
    decisions = [entry["decision"] for entry in audit(world, appointment)]
    assert decisions[-1] == "in step"
