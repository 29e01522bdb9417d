"""The sync function's process killed (SIGKILL) in the middle of apply, through the local stack: before a ledger
write, and after a ledger write but before the sync record is written. Each ends with exactly the documents it
should, to the cent: the next delivery of the message resolves the intent left behind by finding the document
by our reference, and writes nothing twice.

The fake QuickBooks holds a request open (a planned `hang_seconds`) so that the kill lands at a known point: a
hang on a write happens after the write is stored; a hang on a read comes before the step's write."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from acuity_sync.domain.names import LedgerName
from acuity_sync_toolkit.fakes.acuity_admin import AcuityAdmin
from acuity_sync_toolkit.stack.devstack import DEMO_REALM_ID, DevStack
from tests.support.scenarios import reader_for, wait_for, wait_until_drained

# One xdist group per module (make e2e runs --dist loadgroup): its tests share a worker and its stack.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("crashes")]

TIME_SCALE = 0.05  # the queue's visibility timeout is 18 s: a killed batch comes back after it
SYNC_FUNCTION = "SyncQuickBooksFunction"


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    state_dir: Path = tmp_path_factory.mktemp("crashes")
    with DevStack(
        state_dir=state_dir,
        gateway_port=0,
        time_scale=TIME_SCALE,
        stack_name="crashes",
        ledgers=(LedgerName.QUICKBOOKS,),  # the crashes are staged with the fake QuickBooks' hanging answers
    ) as stack:
        yield stack


def admin(dev: DevStack) -> AcuityAdmin:
    assert dev.info is not None
    return AcuityAdmin(dev.info.acuity_url)


def client(tag: str) -> dict[str, str]:
    return {"firstName": "Kim", "lastName": f"Crash{tag}", "email": f"kim.{tag}@example.com"}


def book(dev: DevStack, tag: str, **fields: Any) -> int:
    assert dev.info is not None
    with admin(dev) as acuity:
        fields = {**client(tag), "price": "80.00", "datetime": "2026-12-10T10:00:00-0500", **fields}
        appointment = acuity.book_appointment(int(dev.info.demo_tenant["acuity_user_id"]), **fields)
    return int(appointment["id"])


def invoices_for(dev: DevStack, appointment: int) -> list[dict[str, Any]]:
    marker = f"acuity:appointment:{appointment}"
    state = dev.quickbooks.state(DEMO_REALM_ID)
    return [invoice for invoice in state.get("Invoice", []) if marker in invoice.get("PrivateNote", "")]


def kill_sync_workers(dev: DevStack) -> int:
    pids = dev.worker_pids(SYNC_FUNCTION)
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    return len(pids)


def requests_to(dev: DevStack, method: str, path_part: str, query_part: str = "") -> int:
    return sum(
        1
        for request in dev.quickbooks.requests(DEMO_REALM_ID)
        if request["method"] == method and path_part in request["path"] and query_part in str(request["query"])
    )


def warm_up_client(dev: DevStack, tag: str) -> None:
    """One synced booking first, so that the client is cached and the company info read: the next booking's
    first QuickBooks request is then the invoice's create."""
    assert dev.info is not None
    book(dev, tag, datetime="2026-12-01T09:00:00-0500")
    wait_until_drained(dev.info, "quickbooks")


def test_killed_after_the_invoice_is_written_but_before_the_record(dev: DevStack) -> None:
    assert dev.info is not None
    tag = uuid.uuid4().hex[:8]
    warm_up_client(dev, tag)
    dev.quickbooks.plan_fault(DEMO_REALM_ID, hang_seconds=30)  # the create is stored, its answer never comes
    appointment = book(dev, tag)
    wait_for(lambda: len(invoices_for(dev, appointment)) == 1, 30, "the invoice to be written")
    assert kill_sync_workers(dev) >= 1
    wait_until_drained(dev.info, "quickbooks", timeout=90)
    (invoice,) = invoices_for(dev, appointment)  # found again by its marker, not created twice
    assert Decimal(str(invoice["TotalAmt"])) == Decimal("80.00")


def test_killed_after_the_payment_is_written_but_before_the_record(dev: DevStack) -> None:
    assert dev.info is not None
    tag = uuid.uuid4().hex[:8]
    warm_up_client(dev, tag)
    # The create answers; the payment (the second request) is stored, then its answer hangs.
    dev.quickbooks.plan_fault(DEMO_REALM_ID, count=1, hang_seconds=0.001)
    dev.quickbooks.plan_fault(DEMO_REALM_ID, hang_seconds=30)
    appointment = book(dev, tag, amountPaid="80.00")
    wait_for(
        lambda: bool(invoices_for(dev, appointment)) and invoices_for(dev, appointment)[0]["Balance"] == 0,
        30,
        "the payment to be written",
    )
    assert kill_sync_workers(dev) >= 1
    wait_until_drained(dev.info, "quickbooks", timeout=90)
    (invoice,) = invoices_for(dev, appointment)
    payments = [link for link in invoice.get("LinkedTxn", []) if link.get("TxnType") == "Payment"]
    assert len(payments) == 1  # found again through the invoice's LinkedTxn, not paid twice
    assert invoice["Balance"] == 0


def test_killed_while_the_void_is_written(dev: DevStack) -> None:
    assert dev.info is not None
    tag = uuid.uuid4().hex[:8]
    appointment = book(dev, tag)
    wait_until_drained(dev.info, "quickbooks")
    voids_before = requests_to(dev, "POST", "/invoice", "void")
    # The void step saves its intent, then voids with the SyncToken our record keeps (no read first): QuickBooks
    # carries the void out but answers only after the hang, and the worker is killed before our record of it.
    dev.quickbooks.plan_fault(DEMO_REALM_ID, hang_seconds=30)
    with admin(dev) as acuity:
        acuity.change_appointment(int(dev.info.demo_tenant["acuity_user_id"]), appointment, canceled=True)
    wait_for(lambda: dev.quickbooks.pending_faults(DEMO_REALM_ID) == 0, 30, "the void to be sent")
    assert kill_sync_workers(dev) >= 1
    wait_until_drained(dev.info, "quickbooks", timeout=90)
    (invoice,) = invoices_for(dev, appointment)
    assert invoice["PrivateNote"].startswith("Voided")
    # The fake logs a request once it has answered: the hung void's entry comes when its hang ends.
    wait_for(lambda: requests_to(dev, "POST", "/invoice", "void") > voids_before, 60, "the hung void to be logged")
    assert requests_to(dev, "POST", "/invoice", "void") - voids_before == 1  # voided once: the retry found it voided


def test_the_books_read_through_the_api_agree(dev: DevStack) -> None:
    """The same books through QuickBooks' own API: no invoice of this module is there twice."""
    assert dev.info is not None
    reader = reader_for(dev, "quickbooks")
    try:
        books = reader.read()
    finally:
        reader.close()
    crash_customers = [customer for customer in books.customers if customer.display_name.startswith("Kim Crash")]
    assert crash_customers
    for customer in crash_customers:
        numbers = [invoice.number for invoice in books.invoices_of(customer.id)]
        assert len(numbers) == len(set(numbers))
