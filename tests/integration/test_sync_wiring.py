"""What wiring/sync.py puts together around the engine, against moto with the template's resources: the resume
of events parked for a reconnect when a late store of fresh tokens ended a peer's needs_reauth (auth/tokens.py)."""

from __future__ import annotations

import json

import boto3

from acuity_sync.domain.names import LedgerName
from acuity_sync.queues import LedgerQueues
from acuity_sync.store.parking import ParkingLot, ResumeOn
from acuity_sync.wiring.sync import resume_parked_for_reconnect
from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack
from tests.integration.test_requeue import OTHER, TENANT, parked


def test_a_restored_connection_queues_again_only_that_ledgers_events_parked_for_a_reconnect(
    stack: ProvisionedStack,
) -> None:
    dynamodb = boto3.client("dynamodb", region_name=stack.region)
    sqs = boto3.client("sqs", region_name=stack.region)
    lot = ParkingLot(dynamodb, stack.table_name)
    waiting = parked(101)
    kept = [
        parked(102, resume_on=ResumeOn.SETTINGS_CHANGE),  # a rejection: waits for the owner, not for tokens
        parked(103, ledger=LedgerName.XERO),  # another ledger's connection
        parked(104, tenant=OTHER),  # another tenant
    ]
    for event in (waiting, *kept):
        lot.park(event)
    url = stack.queue_urls["QuickBooksQueue"]

    resume_parked_for_reconnect(lot, LedgerQueues(sqs, {LedgerName.QUICKBOOKS: url}))(TENANT, LedgerName.QUICKBOOKS)

    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert [(json.loads(m["Body"])["object_id"], json.loads(m["Body"])["origin"]) for m in messages] == [
        (101, "resume")
    ]
    assert lot.get(waiting.request, LedgerName.QUICKBOOKS) is None
    for event in kept:
        assert lot.get(event.request, event.ledger) is not None
