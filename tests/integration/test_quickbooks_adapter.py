"""The QuickBooks Online adapter against the fake QuickBooks (faithful to recorded sandbox traffic)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

import httpx
import pytest

from acuity_sync.domain.documents import (
    CreditNoteDraft,
    CustomerDraft,
    InvoiceDraft,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    PaymentDraft,
    TaxMode,
)
from acuity_sync.domain.errors import RateLimited, Rejected, Transient
from acuity_sync.ledgers.quickbooks.adapter import QuickBooksLedger, quote
from acuity_sync.secret import Secret
from acuity_sync_toolkit.fakes.quickbooks import FakeQuickBooks

REALM = "9130350000000001"
JANE = CustomerDraft("Jane", "Doe", "jane.doe@example.com", "555-0100")


@dataclass
class Books:
    fake: FakeQuickBooks
    ledger: QuickBooksLedger
    token_requests: list[bool]

    def count(self, entity: str) -> int:
        return len(self.fake.state(REALM).get(entity, []))


@pytest.fixture
def books() -> Iterator[Books]:
    with FakeQuickBooks() as fake, httpx.Client() as http:
        fake.add_company(REALM, country="US", currency="USD")
        token = fake.issue_tokens(REALM).access_token
        requests: list[bool] = []

        def access_token(refused: bool) -> Secret:
            requests.append(refused)
            return Secret(token)

        yield Books(
            fake, QuickBooksLedger(http=http, realm_id=REALM, access_token=access_token, api_url=fake.url), requests
        )


def invoice_draft(customer_id: str, **changes: object) -> InvoiceDraft:
    draft = InvoiceDraft(
        reference="acuity:appointment:1001",
        customer_id=customer_id,
        txn_date=date(2026, 12, 3),
        lines=(InvoiceLine("Massage (60 min), Thu Dec 3 2026 3:00pm", Decimal("80.10"), LineKind.SERVICE, "7"),),
        currency="USD",
        bill_email="jane.doe@example.com",
        memo="Massage (60 min), Thu Dec 3 2026 3:00pm",
        tax=TaxMode.NON_TAXABLE,
    )
    return replace(draft, **changes)  # type: ignore[arg-type]


def test_company_info_gives_the_home_currency_and_tax_treatment(books: Books) -> None:
    company = books.ledger.company()
    assert company.home_currency == "USD"
    assert company.default_tax is TaxMode.NON_TAXABLE  # US: automated sales tax, lines go in non-taxable


def test_a_customer_is_created_once_and_found_again_by_email_in_any_case(books: Books) -> None:
    assert books.ledger.find_customer(JANE) is None
    customer_id = books.ledger.create_customer(JANE)
    assert books.ledger.find_customer(replace(JANE, email="Jane.Doe@Example.com")) == customer_id
    assert books.count("Customer") == 1


def test_an_email_with_a_quote_is_escaped_in_the_query(books: Books) -> None:
    obrien = CustomerDraft("Pat", "O'Brien", "pat.o'brien@example.com")
    customer_id = books.ledger.create_customer(obrien)
    assert books.ledger.find_customer(obrien) == customer_id
    assert quote("O'Brien") == "'O\\'Brien'"


def test_a_display_name_already_taken_gets_a_number_not_an_error(books: Books) -> None:
    first = books.ledger.create_customer(JANE)
    second = books.ledger.create_customer(replace(JANE, email="another.jane@example.com"))
    assert first != second
    names = sorted(customer["DisplayName"] for customer in books.fake.state(REALM)["Customer"])
    assert names == ["Jane Doe", "Jane Doe (2)"]


def test_an_invoice_is_created_to_the_cent_and_found_again_by_customer_date_and_marker(books: Books) -> None:
    customer_id = books.ledger.create_customer(JANE)
    draft = invoice_draft(customer_id)
    invoice = books.ledger.create_invoice(draft)
    assert invoice.total == Decimal("80.10")
    assert invoice.status is InvoiceStatus.OPEN
    assert books.ledger.find_invoice(draft.reference, draft) == invoice
    assert books.ledger.find_invoice("acuity:appointment:9999", draft) is None
    stored = books.fake.state(REALM)["Invoice"][0]
    assert draft.reference in stored["PrivateNote"]
    assert stored["TxnDate"] == "2026-12-03"


def test_our_marker_is_matched_exactly_never_inside_a_longer_one(books: Books) -> None:
    """Appointment 12's retry must not take appointment 123's invoice (same client, same day) for its own."""
    customer_id = books.ledger.create_customer(JANE)
    other = books.ledger.create_invoice(invoice_draft(customer_id, reference="acuity:appointment:123"))
    ours = invoice_draft(customer_id, reference="acuity:appointment:12")
    assert books.ledger.find_invoice(ours.reference, ours) is None
    mine = books.ledger.create_invoice(ours)
    assert books.ledger.find_invoice(ours.reference, ours) == mine
    voided = books.ledger.void_invoice(other.id)  # "Voided - acuity:appointment:123": still a whole word there
    assert books.ledger.find_invoice("acuity:appointment:123", replace(ours, reference="acuity:appointment:123")) == (
        voided
    )


def test_a_customer_without_email_is_found_by_name_and_phone_never_by_name_alone(books: Books) -> None:
    ledger = books.ledger
    ledger.create_customer(CustomerDraft("Sam", "Lee", "sam@example.com"))  # "Sam Lee", with an e-mail
    walk_in = CustomerDraft("Sam", "Lee", None, "(555) 010-0199")
    assert ledger.find_customer(walk_in) is None  # the name alone is not enough
    sam = ledger.create_customer(walk_in)  # "Sam Lee (2)"
    assert ledger.find_customer(replace(walk_in, phone="555-010-0199")) == sam  # the same digits
    assert ledger.find_customer(replace(walk_in, phone="555-000-0000")) is None
    kept_apart = CustomerDraft("Sam", "Lee", None, name_suffix="Acuity appointment 1000123")
    assert ledger.find_customer(kept_apart) is None
    apart = ledger.create_customer(kept_apart)
    assert ledger.find_customer(kept_apart) == apart
    names = sorted(c["DisplayName"] for c in books.fake.state(REALM)["Customer"])
    assert names == ["Sam Lee", "Sam Lee (2)", "Sam Lee (Acuity appointment 1000123)"]


def test_phone_notes_and_intake_answers_go_where_quickbooks_keeps_them(books: Books) -> None:
    draft = replace(JANE, notes="Prefers mornings", form_answers=(("Allergies", "none"), ("First visit?", "yes")))
    books.ledger.create_customer(draft)
    (stored,) = books.fake.state(REALM)["Customer"]
    assert stored["PrimaryPhone"] == {"FreeFormNumber": "555-0100"}
    assert stored["Notes"] == "Prefers mornings\n\nIntake form answers:\nAllergies: none\nFirst visit?: yes"
    books.ledger.create_customer(CustomerDraft("Kim", "Lo", "kim@example.com"))
    assert "Notes" not in next(c for c in books.fake.state(REALM)["Customer"] if c["DisplayName"] == "Kim Lo")


def test_an_invoice_with_a_number_template_is_found_by_its_number(books: Books) -> None:
    customer_id = books.ledger.create_customer(JANE)
    draft = invoice_draft(customer_id, number="ACU-1001")
    invoice = books.ledger.create_invoice(draft)
    assert invoice.number == "ACU-1001"
    assert books.ledger.find_invoice(draft.reference, replace(draft, txn_date=date(2027, 1, 1))) == invoice


def test_the_same_write_retried_is_answered_once_by_requestid(books: Books) -> None:
    customer_id = books.ledger.create_customer(JANE)
    draft = invoice_draft(customer_id)
    first = books.ledger.create_invoice(draft)
    again = books.ledger.create_invoice(draft)  # e.g. the answer was lost and httpx retried
    assert again.id == first.id
    assert books.count("Invoice") == 1


def test_send_emails_once_however_often_it_is_asked(books: Books) -> None:
    invoice = books.ledger.create_invoice(invoice_draft(books.ledger.create_customer(JANE)))
    assert books.ledger.send_invoice(invoice.id, "jane.doe@example.com").emailed
    assert books.ledger.send_invoice(invoice.id, "jane.doe@example.com").emailed
    assert books.fake.emails_sent(REALM) == 1


def test_an_update_changes_lines_and_date_twice_in_a_row(books: Books) -> None:
    customer_id = books.ledger.create_customer(JANE)
    invoice = books.ledger.create_invoice(invoice_draft(customer_id))
    dearer = invoice_draft(customer_id, lines=(InvoiceLine("Massage", Decimal("95.50")),), txn_date=date(2026, 12, 4))
    assert books.ledger.update_invoice(invoice.id, dearer).total == Decimal("95.50")
    cheaper = replace(dearer, lines=(InvoiceLine("Massage", Decimal("60.00")),))
    updated = books.ledger.update_invoice(invoice.id, cheaper)  # a second sparse update reads the new SyncToken
    assert (updated.total, updated.txn_date) == (Decimal("60.00"), date(2026, 12, 4))


def test_void_zeroes_the_invoice(books: Books) -> None:
    invoice = books.ledger.create_invoice(invoice_draft(books.ledger.create_customer(JANE)))
    voided = books.ledger.void_invoice(invoice.id)
    assert voided.status is InvoiceStatus.VOIDED
    assert voided.total == Decimal("0.00")


def test_a_payment_is_linked_to_the_invoice_and_found_again_by_its_transaction(books: Books) -> None:
    customer_id = books.ledger.create_customer(JANE)
    invoice = books.ledger.create_invoice(invoice_draft(customer_id))
    draft = PaymentDraft(
        "ch_3NLongStripeChargeId0001", invoice.id, customer_id, Decimal("30.05"), date(2026, 12, 1), "USD"
    )
    assert books.ledger.find_payment(invoice.id, draft.reference) is None
    payment = books.ledger.record_payment(draft)
    assert payment.amount == Decimal("30.05")
    assert books.ledger.find_payment(invoice.id, draft.reference) == payment
    assert books.ledger.find_payment(invoice.id, "ch_other") is None
    stored = next(i for i in books.fake.state(REALM)["Invoice"] if i["Id"] == invoice.id)
    assert Decimal(str(stored["Balance"])) == Decimal("50.05")


def test_a_credit_note_is_found_again_by_its_reference(books: Books) -> None:
    customer_id = books.ledger.create_customer(JANE)
    invoice = books.ledger.create_invoice(invoice_draft(customer_id))
    draft = CreditNoteDraft(
        "acuity:appointment:1001:credit:1",
        invoice.id,
        customer_id,
        Decimal("15.00"),
        "price lowered from $80.10 to $65.10",
        date(2026, 12, 3),
        "USD",
    )
    assert books.ledger.find_credit_note(draft.reference) is None
    note = books.ledger.create_credit_note(draft)
    assert note.amount == Decimal("15.00")
    assert books.ledger.find_credit_note(draft.reference) == note


@pytest.mark.parametrize("fault_format", ["json", "xml"])
def test_throttling_asks_for_60_seconds_whatever_its_format(books: Books, fault_format: str) -> None:
    books.fake.plan_fault(REALM, status=429, body_format="xml" if fault_format == "xml" else "json")
    with pytest.raises(RateLimited) as raised:
        books.ledger.company()
    assert raised.value.retry_after == 60


def test_a_server_error_is_transient(books: Books) -> None:
    books.fake.plan_fault(REALM, status=500)
    with pytest.raises(Transient):
        books.ledger.find_customer(JANE)


def test_a_rejection_keeps_quickbooks_words(books: Books) -> None:
    with pytest.raises(Rejected) as raised:
        books.ledger.create_invoice(invoice_draft("424242"))  # no such customer
    assert raised.value.message
    assert raised.value.code != "500"


def test_an_expired_token_is_refreshed_once_and_the_call_goes_through(books: Books) -> None:
    customer_id = books.ledger.create_customer(JANE)
    fresh = books.fake.issue_tokens(REALM).access_token
    asked: list[bool] = []

    def access_token(refused: bool) -> Secret:
        asked.append(refused)
        return Secret(fresh) if refused else Secret("a-token-quickbooks-no-longer-accepts")

    ledger = QuickBooksLedger(http=httpx.Client(), realm_id=REALM, api_url=books.fake.url, access_token=access_token)
    assert ledger.find_customer(JANE) == customer_id
    assert asked == [False, True]  # refused once (401), then the fresh one


# --------------------------------------------------------------------------------------------- writes from the record
def counted(fake: FakeQuickBooks) -> tuple[httpx.Client, list[tuple[str, str]]]:
    """An HTTP client that notes each request the adapter makes, as (method, path after the company)."""
    seen: list[tuple[str, str]] = []

    def note(request: httpx.Request) -> None:
        seen.append((request.method, request.url.path.split(f"/company/{REALM}/", 1)[-1]))

    return httpx.Client(event_hooks={"request": [note]}), seen


@pytest.fixture
def noted(books: Books) -> Iterator[tuple[QuickBooksLedger, list[tuple[str, str]]]]:
    http, seen = counted(books.fake)
    token = books.fake.issue_tokens(REALM).access_token
    with http:
        yield (
            QuickBooksLedger(http=http, realm_id=REALM, access_token=lambda _: Secret(token), api_url=books.fake.url),
            seen,
        )


def test_the_sync_token_of_our_last_write_updates_sends_and_voids_without_a_read(
    books: Books, noted: tuple[QuickBooksLedger, list[tuple[str, str]]]
) -> None:
    ledger, seen = noted
    customer_id = ledger.create_customer(JANE)
    invoice = ledger.create_invoice(invoice_draft(customer_id))
    assert invoice.version == "0"
    seen.clear()
    moved = ledger.update_invoice(invoice.id, invoice_draft(customer_id, txn_date=date(2026, 12, 4)), known=invoice)
    assert (moved.txn_date, moved.version) == (date(2026, 12, 4), "1")
    sent = ledger.send_invoice(invoice.id, "jane.doe@example.com", known=moved)
    assert sent.emailed
    voided = ledger.void_invoice(invoice.id, known=sent)
    assert voided.status is InvoiceStatus.VOIDED
    assert seen == [("POST", "invoice"), ("POST", f"invoice/{invoice.id}/send"), ("POST", "invoice")]
    assert books.fake.emails_sent(REALM) == 1


def test_a_stale_sync_token_is_refused_then_read_and_the_write_made_once_more(
    books: Books, noted: tuple[QuickBooksLedger, list[tuple[str, str]]]
) -> None:
    ledger, seen = noted
    customer_id = ledger.create_customer(JANE)
    invoice = ledger.create_invoice(invoice_draft(customer_id))
    # Written since our record was saved (here by another update; a payment, or the owner, moves it too).
    ledger.update_invoice(invoice.id, invoice_draft(customer_id, memo="changed in QuickBooks"))
    seen.clear()
    moved = ledger.update_invoice(invoice.id, invoice_draft(customer_id, txn_date=date(2026, 12, 4)), known=invoice)
    assert (moved.txn_date, moved.version) == (date(2026, 12, 4), "2")
    assert seen == [("POST", "invoice"), ("GET", f"invoice/{invoice.id}"), ("POST", "invoice")]
    seen.clear()
    voided = ledger.void_invoice(invoice.id, known=invoice)  # version "0": stale again
    assert voided.status is InvoiceStatus.VOIDED
    assert seen == [("POST", "invoice"), ("GET", f"invoice/{invoice.id}"), ("POST", "invoice")]


def test_a_payment_moves_the_invoices_sync_token(
    books: Books, noted: tuple[QuickBooksLedger, list[tuple[str, str]]]
) -> None:
    """Why the record forgets the version after a payment (sync/progress.py): QuickBooks writes the invoice, so
    the token of the create is stale, and a write with it costs a refusal and a read."""
    ledger, seen = noted
    customer_id = ledger.create_customer(JANE)
    invoice = ledger.create_invoice(invoice_draft(customer_id))
    ledger.record_payment(PaymentDraft("ch_1", invoice.id, customer_id, Decimal("10.00"), date(2026, 12, 1), "USD"))
    seen.clear()
    ledger.update_invoice(invoice.id, invoice_draft(customer_id, txn_date=date(2026, 12, 4)), known=invoice)
    assert seen == [("POST", "invoice"), ("GET", f"invoice/{invoice.id}"), ("POST", "invoice")]
