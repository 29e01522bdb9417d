"""The books readers of acuity_sync_toolkit.demo.books against the fakes over HTTP: every row, however many pages
(the soak bench reads companies with thousands of invoices)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from acuity_sync.domain.names import LedgerName
from acuity_sync_toolkit.demo.books import QuickBooksBooks, reader
from acuity_sync_toolkit.fakes.quickbooks import FakeQuickBooks

REALM = "4620816399"


@pytest.fixture
def quickbooks() -> Iterator[FakeQuickBooks]:
    with FakeQuickBooks() as fake:
        fake.add_company(REALM)
        yield fake


def test_the_quickbooks_reader_reads_every_page(quickbooks: FakeQuickBooks, monkeypatch: pytest.MonkeyPatch) -> None:
    for number in range(7):
        quickbooks.seed(
            REALM,
            "Customer",
            {"Id": str(100 + number), "DisplayName": f"Client {number}", "SyncToken": "0", "Active": True},
        )
    monkeypatch.setattr(QuickBooksBooks, "PAGE", 3)  # pages of 3: 3 + 3 + 1
    token = quickbooks.issue_tokens(REALM).access_token
    books_reader = reader(LedgerName.QUICKBOOKS, {"url": quickbooks.url, "realm_id": REALM, "access_token": token})
    try:
        books = books_reader.read()
    finally:
        books_reader.close()
    assert sorted(customer.display_name for customer in books.customers) == [f"Client {n}" for n in range(7)]
