"""Parked events back on their queue: listed per tenant and ledger or across tenants by when they are due, queued
with a fresh deduplication id, and cleared only once queued and only if not parked again meanwhile."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from acuity_sync.domain.message import Origin, SyncRequest
from acuity_sync.domain.names import EventKind, LedgerName
from acuity_sync.queues import LedgerQueues
from acuity_sync.store.parking import ParkedEvent, ParkingLot, ResumeOn
from acuity_sync.sync.requeue import Requeuer
from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack

TENANT = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
QUEUES = {LedgerName.QUICKBOOKS: "QuickBooksQueue", LedgerName.XERO: "XeroQueue"}


def parked(
    object_id: int,
    *,
    tenant: str = TENANT,
    ledger: LedgerName = LedgerName.QUICKBOOKS,
    resume_on: ResumeOn = ResumeOn.RECONNECT,
    resume_at: datetime | None = None,
    parked_at: datetime = NOW,
) -> ParkedEvent:
    request = SyncRequest(tenant, EventKind.APPOINTMENT, object_id, "changed", NOW.isoformat(), f"webhook-{object_id}")
    return ParkedEvent(request, ledger, "needs_reauth", "reconnect", resume_on, resume_at, parked_at)


@pytest.fixture
def lot(stack: ProvisionedStack) -> ParkingLot:
    return ParkingLot(boto3.client("dynamodb", region_name=stack.region), stack.table_name)


def queued(stack: ProvisionedStack, ledger: LedgerName) -> list[dict[str, object]]:
    sqs = boto3.client("sqs", region_name=stack.region)
    url = stack.queue_urls[QUEUES[ledger]]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
    return [{**json.loads(m["Body"]), "dedup": m["Attributes"]["MessageDeduplicationId"]} for m in messages]


def requeuer(stack: ProvisionedStack, lot: ParkingLot) -> Requeuer:
    urls = {ledger: stack.queue_urls[logical_id] for ledger, logical_id in QUEUES.items()}
    ids = iter(["a1", "a2", "a3", "a4"])
    return Requeuer(
        lot,
        LedgerQueues(boto3.client("sqs", region_name=stack.region), urls),
        clock=lambda: NOW,
        new_id=lambda: next(ids),
    )


def test_a_tenants_parked_events_are_listed_per_ledger_and_by_condition(lot: ParkingLot) -> None:
    lot.park(parked(1))
    lot.park(parked(2, resume_on=ResumeOn.SETTINGS_CHANGE))
    lot.park(parked(3, ledger=LedgerName.XERO))
    lot.park(parked(4, tenant=OTHER))
    assert sorted(e.request.object_id for e in lot.for_ledger(TENANT, LedgerName.QUICKBOOKS)) == [1, 2]
    assert [e.request.object_id for e in lot.for_ledger(TENANT, LedgerName.QUICKBOOKS, ResumeOn.RECONNECT)] == [1]
    assert [e.ledger for e in lot.for_ledger(TENANT, LedgerName.XERO)] == [LedgerName.XERO]


def test_events_due_by_time_are_listed_across_tenants_earliest_first(lot: ParkingLot) -> None:
    lot.park(parked(1, resume_on=ResumeOn.TIME, resume_at=NOW + timedelta(hours=2)))
    lot.park(parked(2, tenant=OTHER, resume_on=ResumeOn.TIME, resume_at=NOW - timedelta(minutes=5)))
    lot.park(parked(3, resume_on=ResumeOn.TIME, resume_at=NOW - timedelta(hours=1)))
    lot.park(parked(4, resume_on=ResumeOn.RECONNECT))
    due = lot.due(ResumeOn.TIME, before=NOW)
    assert [(e.request.tenant_id, e.request.object_id) for e in due] == [(TENANT, 3), (OTHER, 2)]


def test_requeued_events_carry_their_origin_a_fresh_id_and_leave_the_lot(
    stack: ProvisionedStack, lot: ParkingLot
) -> None:
    lot.park(parked(1))
    lot.park(parked(2, ledger=LedgerName.XERO))
    events = [*lot.for_ledger(TENANT, LedgerName.QUICKBOOKS), *lot.for_ledger(TENANT, LedgerName.XERO)]
    result = requeuer(stack, lot).requeue(events, Origin.RESUME)
    assert (result.requeued, result.failed) == (2, 0)
    (message,) = queued(stack, LedgerName.QUICKBOOKS)
    assert (message["object_id"], message["origin"], message["request_id"]) == (1, "resume", "resume-a1")
    assert message["dedup"] == "resume-a1"  # not the webhook's: the queue would drop it as a duplicate
    assert message["received_at"] == NOW.isoformat()
    assert [m["object_id"] for m in queued(stack, LedgerName.XERO)] == [2]
    assert lot.for_ledger(TENANT, LedgerName.QUICKBOOKS) == []
    assert lot.for_ledger(TENANT, LedgerName.XERO) == []


def test_an_event_parked_again_meanwhile_stays_parked(lot: ParkingLot) -> None:
    first = parked(1)
    lot.park(first)
    again = parked(1, parked_at=NOW + timedelta(seconds=3))  # re-queued, synced, refused once more
    lot.park(again)
    assert not lot.clear_exactly(first)
    assert lot.get(first.request, first.ledger) == again
    assert lot.clear_exactly(again)
    assert lot.get(first.request, first.ledger) is None


def test_an_event_the_queue_does_not_take_stays_parked(stack: ProvisionedStack, lot: ParkingLot) -> None:
    lot.park(parked(1))
    broken = LedgerQueues(boto3.client("sqs", region_name=stack.region), {})  # no queue configured
    result = Requeuer(lot, broken).requeue(lot.for_ledger(TENANT, LedgerName.QUICKBOOKS), Origin.REPLAY)
    assert (result.requeued, result.failed) == (0, 1)
    assert [e.request.object_id for e in lot.for_ledger(TENANT, LedgerName.QUICKBOOKS)] == [1]
