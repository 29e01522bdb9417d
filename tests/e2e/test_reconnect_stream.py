"""A QuickBooks connection lost in the middle of a stream of bookings (the owner removed our app in QuickBooks: the
grant is revoked there), and reconnected through the settings page: the bookings made meanwhile wait parked, the page
says the connection needs a reconnect and why, the reconnect puts them back on the queue (Requeuer, Origin.RESUME),
and every booking ends with exactly one invoice in QuickBooks, at its price, none lost and none twice."""

from __future__ import annotations

import re
import secrets
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest

from acuity_sync.domain.names import LedgerName
from acuity_sync.store.parking import ParkingLot, ResumeOn
from acuity_sync_toolkit.fakes.acuity_admin import AcuityAdmin
from acuity_sync_toolkit.stack.devstack import REGION, DevStack
from tests.e2e.test_connect_security import add_business, consent_callback, pages, signed_in
from tests.support.bookings import booking
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("reconnect-stream")]

BEFORE, DURING, AFTER = 4, 5, 3
_MARKER = re.compile(r"acuity:appointment:(\d+)\b")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    state_dir: Path = tmp_path_factory.mktemp("reconnect-stream")
    with DevStack(state_dir=state_dir, time_scale=0.05, stack_name="reconnect-stream") as dev:
        yield dev


def invoices_by_appointment(stack: DevStack, realm: str) -> Counter[int]:
    found: Counter[int] = Counter()
    for invoice in stack.quickbooks.state(realm)["Invoice"]:
        match = _MARKER.search(str(invoice.get("PrivateNote", "")))
        if match:
            found[int(match.group(1))] += 1
    return found


def test_bookings_made_while_the_connection_is_lost_sync_once_after_a_reconnect(
    stack: DevStack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert stack.info is not None
    business = add_business(stack, capsys, "Stream Studio")
    owner = signed_in(stack, capsys, business.tenant_id)
    assert owner.get(consent_callback(owner, stack, business.realm)).status_code == 303
    acuity = AcuityAdmin(stack.info.acuity_url)
    prices: dict[int, Decimal] = {}

    def book(index: int) -> None:
        price = Decimal(40 + index)
        made: dict[str, Any] = acuity.book_appointment(
            business.user_id,
            **booking(
                firstName=f"Client{index}",
                email=f"client{index}-{secrets.token_hex(3)}@example.com",
                price=f"{price}.00",
            ),
        )
        prices[int(made["id"])] = price

    for index in range(BEFORE):
        book(index)
    wait_until(lambda: len(invoices_by_appointment(stack, business.realm)) == BEFORE, 60.0, "the first bookings synced")

    # The owner removes our app in QuickBooks: every token of the grant is refused from now on.
    authority = stack.quickbooks.authority
    grant = next(
        token
        for token in authority.tokens_issued()
        if business.realm in stack.quickbooks.companies_of(authority.subject_of(token) or "")
    )
    assert authority.revoke(grant)
    for index in range(BEFORE, BEFORE + DURING):
        book(index)
    parking = ParkingLot(
        boto3.client("dynamodb", endpoint_url=stack.info.aws_endpoint_url, region_name=REGION), stack.info.table_name
    )

    def parked() -> int:
        return len(parking.for_ledger(business.tenant_id, LedgerName.QUICKBOOKS, ResumeOn.RECONNECT))

    wait_until(lambda: parked() == DURING, 60.0, "the bookings made meanwhile parked until a reconnect")
    page = owner.get(pages(stack)).text
    assert "needs reconnect" in page
    assert f"{DURING} events parked" in page
    assert len(invoices_by_appointment(stack, business.realm)) == BEFORE  # nothing written meanwhile

    # Reconnect through the page: the parked bookings go back on the queue.
    reconnected = owner.get(consent_callback(owner, stack, business.realm))
    assert reconnected.status_code == 303
    assert f"resumed={DURING}" in reconnected.headers["location"]
    for index in range(BEFORE + DURING, BEFORE + DURING + AFTER):
        book(index)
    total = BEFORE + DURING + AFTER
    try:
        wait_until(lambda: len(invoices_by_appointment(stack, business.realm)) == total, 60.0, "every booking synced")
    except AssertionError:
        missing = set(prices) - set(invoices_by_appointment(stack, business.realm))
        still = [
            (e.request.object_id, e.reason, e.detail)
            for e in parking.for_ledger(business.tenant_id, LedgerName.QUICKBOOKS)
        ]
        raise AssertionError(f"not synced: {sorted(missing)}; parked: {still}; logs in {stack.state_dir}") from None
    assert parked() == 0
    counted = invoices_by_appointment(stack, business.realm)
    assert set(counted) == set(prices)  # none lost
    assert set(counted.values()) == {1}  # none twice
    totals = {
        int(match.group(1)): Decimal(str(invoice["TotalAmt"]))
        for invoice in stack.quickbooks.state(business.realm)["Invoice"]
        if (match := _MARKER.search(str(invoice.get("PrivateNote", ""))))
    }
    assert totals == prices
    assert "needs reconnect" not in owner.get(pages(stack)).text
    acuity.close()
