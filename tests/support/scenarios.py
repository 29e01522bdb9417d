"""Helpers for the end-to-end scenarios (tests/e2e/test_scenarios.py): a ledger's books read back through the
ledger's own API (acuity_sync_toolkit.demo.books: one neutral shape for QuickBooks, Xero and FreshBooks); what a
scenario does to a fake ledger from outside its API; waiting for a ledger's queue to drain; changing a tenant's
settings for one scenario."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import boto3

from acuity_sync.acuity.client import AcuityClient
from acuity_sync.domain.names import EventKind, LedgerName
from acuity_sync.ledgers.registry import parse_settings
from acuity_sync.secret import Secret
from acuity_sync.store.settings import SettingsStore
from acuity_sync.store.snapshots import Snapshot, SnapshotStore
from acuity_sync_toolkit.demo import run as demo_run
from acuity_sync_toolkit.demo.books import (
    COMPANY_KEYS,
    Books,
    CreditNote,
    Customer,
    CustomerDetails,
    Invoice,
    LedgerReader,
    Line,
    Payment,
    cents,
    reader,
)
from acuity_sync_toolkit.fakes.freshbooks import FakeFreshBooks
from acuity_sync_toolkit.fakes.quickbooks import FakeQuickBooks
from acuity_sync_toolkit.fakes.xero import FakeXero
from acuity_sync_toolkit.stack.connections import emails_sent
from acuity_sync_toolkit.stack.devstack import REGION, DevInfo, DevStack
from tests.support.waiting import wait_until

__all__ = [
    "Books",
    "CreditNote",
    "Customer",
    "CustomerDetails",
    "FakeLedgerControls",
    "Invoice",
    "LedgerReader",
    "Line",
    "Payment",
    "cents",
    "changed_settings",
    "controls_for",
    "queue_depth",
    "reader_for",
    "refresh_snapshot",
    "wait_for",
    "wait_until_drained",
]


def reader_for(dev: DevStack, ledger: str) -> LedgerReader:
    """The reader of `ledger` in the running stack, with tokens the in-process fake issues on each read (so that
    a scenario moving the fake's clock never expires the reader's) and the fake's log of e-mails sent."""
    assert dev.info is not None
    name = LedgerName(ledger)
    controls = controls_for(dev, name)
    return reader(name, dev.info.ledgers[name], token=controls.token, emails=controls.emails)


class FakeLedgerControls:
    """What a scenario does to a fake ledger from outside its API: tokens for reading, the e-mail log, planned
    throttling, its clock, and the statuses it answered. One shape for the three fakes."""

    def __init__(self, fake: FakeQuickBooks | FakeXero | FakeFreshBooks, company_id: str) -> None:
        self.fake = fake
        self.company_id = company_id

    def token(self) -> str:
        return self.fake.issue_tokens(self.company_id).access_token

    def emails(self) -> list[str]:
        return emails_sent(self.fake, self.company_id)

    def throttle_next(self, count: int) -> None:
        """The company's next `count` API calls answer 429 (Xero's say `Retry-After: 60`)."""
        self.fake.plan_fault(self.company_id, 429, count=count)

    def statuses(self) -> list[int]:
        """The status of each API call the company received, in order."""
        fake = self.fake
        if isinstance(fake, FakeQuickBooks):
            return [int(entry["status"]) for entry in fake.requests(self.company_id)]
        if isinstance(fake, FakeXero):
            return [request.status for request in fake.requests(self.company_id)]
        return [int(entry["status"]) for entry in fake.requests(self.company_id)]

    def expire_access_tokens(self) -> None:
        """Moves the fake's clock past its access tokens' lifetime (1 h, 30 min, 12 h), not past refresh tokens'."""
        lifetime = {FakeQuickBooks: 3600, FakeXero: 1800, FakeFreshBooks: 12 * 3600}[type(self.fake)]
        self.fake.clock.advance(lifetime + 100)


def controls_for(dev: DevStack, ledger: LedgerName) -> FakeLedgerControls:
    assert dev.info is not None
    company_id = dev.info.ledgers[ledger][COMPANY_KEYS[ledger]]
    return FakeLedgerControls(dev.fake_ledger(ledger), company_id)


# ------------------------------------------------------------------------------------------ the queues
def queue_depth(info: DevInfo, url: str) -> int:
    sqs = boto3.client("sqs", endpoint_url=info.aws_endpoint_url, region_name=REGION)
    return demo_run.queue_depth(sqs, url)


def wait_until_drained(info: DevInfo, ledger: str, timeout: float = 60.0) -> None:
    """Returns once the ledger's queue shows nothing visible and nothing in flight, twice in a row."""
    if not demo_run.wait_until_drained(info, ledger, timeout):
        raise AssertionError(f"the {ledger} queue did not drain in {timeout:.0f} s")


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Returns once `condition()` holds (checked at once, then after pauses of 20 ms growing to 0.3 s); fails
    naming `what` at the deadline."""
    wait_until(condition, timeout, what)


def refresh_snapshot(info: DevInfo, appointment_id: int) -> None:
    """What another ledger's sync function of the same tenant does when Acuity's webhook for a change arrives: it
    reads the appointment from Acuity and keeps the snapshot, which this ledger's next sync of the appointment
    reuses (it was fetched after that sync's own webhook). The scenario stacks connect one ledger each, so a test
    that needs the tenant's other ledgers to have looked does it here, with the same API read and store."""
    tenant = info.demo_tenant
    with AcuityClient(info.acuity_url, tenant["acuity_user_id"], Secret(str(tenant["acuity_api_key"]))) as acuity:
        appointment = acuity.appointment(appointment_id)
        payments = acuity.appointment_payments(appointment_id) if appointment.amount_paid > 0 else []
    dynamodb = boto3.client("dynamodb", endpoint_url=info.aws_endpoint_url, region_name=REGION)
    document = {
        "appointment": appointment.model_dump(mode="json", by_alias=True),
        "payments": [payment.model_dump(mode="json", by_alias=True) for payment in payments],
    }
    snapshot = Snapshot(document, datetime.now(UTC))
    SnapshotStore(dynamodb, info.table_name).put(str(tenant["id"]), EventKind.APPOINTMENT, appointment_id, snapshot)


# ------------------------------------------------------------------------------------------ settings
@contextmanager
def changed_settings(info: DevInfo, ledger: str, **changes: Any) -> Iterator[None]:
    """The demo tenant's settings for `ledger` with `changes`, for the duration of the block; then the settings
    as they were (saved again, as the owner would put them back)."""
    store = SettingsStore(
        boto3.client("dynamodb", endpoint_url=info.aws_endpoint_url, region_name=REGION), info.table_name
    )
    tenant, name = info.demo_tenant["id"], LedgerName(ledger)
    before = store.get(tenant, name)
    original = before.settings.model_dump(mode="json")
    version = store.put(tenant, name, parse_settings(name, {**original, **changes}), before.version)
    try:
        yield
    finally:
        store.put(tenant, name, parse_settings(name, original), version)
