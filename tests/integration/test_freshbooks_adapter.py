"""The FreshBooks adapter against the fake FreshBooks (faithful to the recorded fixtures and research Part B)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

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
from acuity_sync.domain.errors import NeedsReauth, RateLimited, Rejected, Transient
from acuity_sync.ledgers.freshbooks.adapter import (
    REFERENCE_FIELD,
    REFERENCE_LIMIT,
    FreshBooksLedger,
    account_id_of,
    split_tax,
)
from acuity_sync.secret import Secret
from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.freshbooks import FakeFreshBooks

ACCOUNT = "ABC123"
JANE = CustomerDraft("Jane", "Doe", "jane.doe@example.com", "555-0100")
REFERENCE = "acuity:appointment:1001"


@dataclass
class Books:
    fake: FakeFreshBooks
    http: httpx.Client
    token: str

    def ledger(self, **options: Any) -> FreshBooksLedger:
        """A new adapter, as a new process (after a crash) would make it."""
        return FreshBooksLedger(
            http=self.http,
            account_id=ACCOUNT,
            access_token=lambda _refreshed: Secret(self.token),
            api_url=self.fake.url,
            **options,
        )

    def state(self, kind: str) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = self.fake.state(ACCOUNT)[kind]
        return records

    def requests(self, method: str, path_part: str) -> list[dict[str, Any]]:
        return [r for r in self.fake.requests(ACCOUNT) if r["method"] == method and path_part in r["path"]]


@pytest.fixture
def books() -> Iterator[Books]:
    with FakeFreshBooks(clock=FakeClock(frozen=True)) as fake, httpx.Client() as http:
        fake.add_business(ACCOUNT, currency="USD", name="Studio Nord")
        yield Books(fake, http, fake.issue_tokens(ACCOUNT).access_token)


@pytest.fixture
def ledger(books: Books) -> FreshBooksLedger:
    return books.ledger()


def invoice_draft(customer_id: str, **changes: Any) -> InvoiceDraft:
    draft = InvoiceDraft(
        reference=REFERENCE,
        customer_id=customer_id,
        txn_date=date(2026, 12, 3),
        lines=(InvoiceLine("Massage (60 min), Thu Dec 3 2026 3:00pm", Decimal("80.10"), LineKind.SERVICE, "7"),),
        currency="USD",
        bill_email=JANE.email,
        memo="Massage (60 min), Thu Dec 3 2026 3:00pm",
    )
    return replace(draft, **changes)


def with_tip(draft: InvoiceDraft, tip: str = "5.00") -> InvoiceDraft:
    return replace(draft, lines=(*draft.lines, InvoiceLine("Tip", Decimal(tip), LineKind.TIP, "7")))


def mocked(handler: Callable[[httpx.Request], httpx.Response]) -> FreshBooksLedger:
    """An adapter whose FreshBooks answers `handler`: for bodies and headers the fake does not produce."""
    return FreshBooksLedger(
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        account_id=ACCOUNT,
        access_token=lambda _refreshed: Secret("token"),
        api_url="https://api.freshbooks.test",
    )


# ----------------------------------------------------------------------------------------------- connect, company
def test_account_id_of_reads_the_business_membership(books: Books) -> None:
    assert account_id_of(books.http, books.token, books.fake.url) == ACCOUNT


def test_account_id_of_a_user_without_a_business_is_refused_in_words() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/auth/api/v1/users/me"
        return httpx.Response(200, json={"response": {"id": 1, "business_memberships": []}})

    with pytest.raises(Rejected) as raised:
        account_id_of(httpx.Client(transport=httpx.MockTransport(handler)), "token", "https://api.freshbooks.test")
    assert raised.value.code == "no_business"
    assert "business owner" in raised.value.message


def test_company_info_names_the_business_and_its_rules(ledger: FreshBooksLedger) -> None:
    company = ledger.company()
    assert company.name == "Studio Nord"
    assert company.home_currency == ""  # users/me carries no currency: invoices carry their own currency_code
    assert company.default_tax is TaxMode.NON_TAXABLE
    assert (company.can_email_invoices, company.payments_need_approved_invoice, company.can_edit_paid_invoices) == (
        True,
        False,
        False,
    )
    assert ledger.list_accounts() == []
    assert ledger.list_items() == []


def test_a_business_the_user_left_needs_a_new_connection(books: Books) -> None:
    books.fake.add_business("OTHER1")
    other = FreshBooksLedger(
        http=books.http,
        account_id="OTHER1",
        access_token=lambda _refreshed: Secret(books.token),
        api_url=books.fake.url,
    )
    with pytest.raises(NeedsReauth):
        other.company()


# ----------------------------------------------------------------------------------------------- clients
def test_a_client_is_created_once_and_found_again_by_email_in_any_case(books: Books, ledger: FreshBooksLedger) -> None:
    assert ledger.find_customer(JANE) is None
    customer_id = ledger.create_customer(replace(JANE, email="Jane.Doe@Example.com"))
    assert ledger.find_customer(JANE) == customer_id
    assert ledger.find_customer(replace(JANE, email="JANE.DOE@EXAMPLE.COM")) == customer_id
    [client] = books.state("clients")
    assert (client["email"], client["fname"], client["organization"]) == ("jane.doe@example.com", "Jane", "Jane Doe")
    assert client["mob_phone"] == "555-0100"
    assert any(r["query"].get("search[email]") == ["jane.doe@example.com"] for r in books.requests("GET", "clients"))


def test_a_client_typed_in_freshbooks_with_capitals_is_found_when_acuity_spells_it_so(
    books: Books, ledger: FreshBooksLedger
) -> None:
    response = books.http.post(
        f"{books.fake.url}/accounting/account/{ACCOUNT}/users/clients",
        json={"client": {"fname": "Jane", "email": "Jane.Doe@Example.com"}},
        headers={"Authorization": f"Bearer {books.token}"},
    )
    typed_in = str(response.json()["response"]["result"]["client"]["id"])
    assert ledger.find_customer(replace(JANE, email="Jane.Doe@Example.com")) == typed_in


def test_names_need_not_be_unique_and_a_client_without_email_is_found_by_name_and_phone(
    books: Books, ledger: FreshBooksLedger
) -> None:
    first = ledger.create_customer(JANE)
    second = ledger.create_customer(replace(JANE, email="another.jane@example.com"))
    assert first != second
    assert [c["organization"] for c in books.state("clients")] == ["Jane Doe", "Jane Doe"]
    walk_in = CustomerDraft("Sam", "Lee", None, "555-0199")
    assert ledger.find_customer(walk_in) is None
    sam = ledger.create_customer(walk_in)
    assert ledger.find_customer(walk_in) == sam
    assert ledger.find_customer(replace(walk_in, phone="555-0000")) is None


def test_a_client_without_email_is_never_found_by_name_alone(books: Books, ledger: FreshBooksLedger) -> None:
    ledger.create_customer(CustomerDraft("Eve", "Stone", None))  # an Eve Stone booked without e-mail or phone
    assert ledger.find_customer(CustomerDraft("Eve", "Stone", None, "555-0123")) is None
    kept_apart = CustomerDraft("Eve", "Stone", None, name_suffix="Acuity appointment 1000123")
    assert ledger.find_customer(kept_apart) is None
    apart = ledger.create_customer(kept_apart)
    assert ledger.find_customer(kept_apart) == apart
    assert ledger.find_customer(replace(kept_apart, name_suffix="Acuity appointment 1000124")) is None
    assert [c["organization"] for c in books.state("clients")] == [
        "Eve Stone",
        "Eve Stone (Acuity appointment 1000123)",
    ]


def test_phone_notes_and_intake_answers_go_where_freshbooks_keeps_them(books: Books, ledger: FreshBooksLedger) -> None:
    draft = replace(JANE, notes="Prefers mornings", form_answers=(("Allergies", "none"),))
    client_id = ledger.create_customer(draft)
    response = httpx.get(
        f"{books.fake.url}/accounting/account/{ACCOUNT}/users/clients/{client_id}",
        headers={"Authorization": f"Bearer {books.token}"},
    )
    client = response.json()["response"]["result"]["client"]
    assert (client["mob_phone"], client["note"]) == (
        "555-0100",
        "Prefers mornings\n\nIntake form answers:\nAllergies: none",
    )
    bare = ledger.create_customer(CustomerDraft("Kim", "Lo", "kim@example.com"))
    assert next(c for c in books.state("clients") if str(c["id"]) == bare)["note"] is None


# ----------------------------------------------------------------------------------------------- invoices
def test_a_new_invoice_is_a_draft_to_the_cent_with_our_reference(books: Books, ledger: FreshBooksLedger) -> None:
    customer_id = ledger.create_customer(JANE)
    invoice = ledger.create_invoice(with_tip(invoice_draft(customer_id), "4.95"))
    assert (invoice.total, invoice.balance) == (Decimal("85.05"), Decimal("85.05"))
    assert (invoice.status, invoice.emailed) == (InvoiceStatus.DRAFT, False)
    assert (invoice.customer_id, invoice.txn_date) == (customer_id, date(2026, 12, 3))
    [stored] = books.state("invoices")
    assert stored[REFERENCE_FIELD] == REFERENCE
    assert stored["invoice_number"] == invoice.number
    [sent] = books.requests("POST", "invoices")
    lines = sent["body"]["invoice"]["lines"]
    assert [line["unit_cost"] for line in lines] == [
        {"amount": "80.10", "code": "USD"},  # strings, never JSON numbers
        {"amount": "4.95", "code": "USD"},
    ]
    assert [(line["name"], line["qty"]) for line in lines] == [("Appointment", 1), ("Tip", 1)]
    assert "taxName1" not in lines[0]  # non-taxable: no tax at all


def test_an_invoice_is_found_by_its_reference_after_a_crash(books: Books, ledger: FreshBooksLedger) -> None:
    """The proof of the lookup: FreshBooks has no idempotency key, so a write whose answer was lost is found again
    by a new process through search[po_number] before anything is written twice."""
    draft = invoice_draft(ledger.create_customer(JANE))
    created = ledger.create_invoice(draft)
    after_crash = books.ledger()  # a new process: nothing remembered
    assert after_crash.find_invoice(REFERENCE, draft) == created
    assert after_crash.find_invoice(REFERENCE) == created
    assert after_crash.find_invoice("acuity:appointment:1002", draft) is None
    searches = [r["query"] for r in books.requests("GET", "/invoices/invoices")]
    assert {"search[po_number]": [REFERENCE], "page": ["1"], "per_page": ["100"]} in searches
    assert len(books.state("invoices")) == 1


def test_a_reference_longer_than_po_number_allows_is_stored_hashed_and_still_found(
    books: Books, ledger: FreshBooksLedger
) -> None:
    long_reference = "acuity:appointment:" + "9" * 40
    draft = invoice_draft(ledger.create_customer(JANE), reference=long_reference)
    created = ledger.create_invoice(draft)
    stored = books.state("invoices")[0][REFERENCE_FIELD]
    assert len(stored) <= REFERENCE_LIMIT
    assert stored.startswith("acuity:")
    assert ledger.find_invoice(long_reference) == created
    assert ledger.find_invoice("acuity:appointment:" + "9" * 39 + "8") is None


def test_an_order_is_an_invoice_with_an_order_line(books: Books, ledger: FreshBooksLedger) -> None:
    order = invoice_draft(
        ledger.create_customer(JANE),
        reference="acuity:order:555",
        lines=(InvoiceLine("Gift certificate $50", Decimal("50.00"), LineKind.SERVICE, "order"),),
    )
    assert ledger.create_invoice(order).total == Decimal("50.00")
    assert books.state("invoices")[0]["lines"][0]["name"] == "Order"
    assert ledger.find_invoice("acuity:order:555") is not None


def test_send_emails_once_however_often_it_is_asked(books: Books, ledger: FreshBooksLedger) -> None:
    invoice = ledger.create_invoice(invoice_draft(ledger.create_customer(JANE)))
    sent = ledger.send_invoice(invoice.id, "jane.doe@example.com")
    assert (sent.emailed, sent.status) == (True, InvoiceStatus.OPEN)
    again = books.ledger().send_invoice(invoice.id, "jane.doe@example.com")
    assert again.emailed
    assert books.fake.state(ACCOUNT)["emails"] == [
        {"invoiceid": int(invoice.id), "recipients": ["jane.doe@example.com"], "subject": None}
    ]
    [put] = books.requests("PUT", "/invoices/")
    assert put["body"] == {"invoice": {"action_email": True, "email_recipients": ["jane.doe@example.com"]}}
    assert ledger.find_invoice(REFERENCE) == again  # found after a crash, it shows it was sent


def test_an_update_changes_lines_and_date_and_keeps_the_reference(books: Books, ledger: FreshBooksLedger) -> None:
    customer_id = ledger.create_customer(JANE)
    invoice = ledger.create_invoice(invoice_draft(customer_id))
    moved = invoice_draft(customer_id, txn_date=date(2026, 12, 4), lines=(InvoiceLine("Massage", Decimal("95.55")),))
    updated = ledger.update_invoice(invoice.id, moved)
    assert (updated.id, updated.total, updated.txn_date) == (invoice.id, Decimal("95.55"), date(2026, 12, 4))
    cheaper = ledger.update_invoice(
        invoice.id, with_tip(replace(moved, lines=(InvoiceLine("Massage", Decimal("60")),)))
    )
    assert cheaper.total == Decimal("65.00")
    [stored] = books.state("invoices")
    assert (stored[REFERENCE_FIELD], len(stored["lines"])) == (REFERENCE, 2)
    assert ledger.find_invoice(REFERENCE) == cheaper
    assert not any("vis_state" in r["body"]["invoice"] for r in books.requests("PUT", "/invoices/"))


def test_void_deletes_an_unpaid_invoice_alone_and_once(books: Books, ledger: FreshBooksLedger) -> None:
    invoice = ledger.create_invoice(invoice_draft(ledger.create_customer(JANE)))
    voided = ledger.void_invoice(invoice.id)
    assert voided.status is InvoiceStatus.DELETED
    assert books.state("invoices")[0]["vis_state"] == 1
    assert ledger.find_invoice(REFERENCE) is None  # no longer listed as an active invoice
    active = books.http.get(
        f"{books.fake.url}/accounting/account/{ACCOUNT}/invoices/invoices",
        params={"search[vis_state]": "0"},
        headers={"Authorization": f"Bearer {books.token}"},
    )
    assert active.json()["response"]["result"]["total"] == 0
    assert ledger.void_invoice(invoice.id).status is InvoiceStatus.DELETED
    assert [r["body"] for r in books.requests("PUT", "/invoices/")] == [{"invoice": {"vis_state": 1}}]


def test_a_paid_invoice_is_not_deleted(ledger: FreshBooksLedger) -> None:
    customer_id = ledger.create_customer(JANE)
    invoice = ledger.create_invoice(invoice_draft(customer_id))
    ledger.record_payment(PaymentDraft("ch_1", invoice.id, customer_id, Decimal("10.00"), date(2026, 12, 3), "USD"))
    with pytest.raises(Rejected) as raised:
        ledger.void_invoice(invoice.id)
    assert raised.value.code == "invoice_paid"


# ----------------------------------------------------------------------------------------------- payments
def test_a_payment_is_an_amount_object_found_again_by_its_transaction(books: Books, ledger: FreshBooksLedger) -> None:
    customer_id = ledger.create_customer(JANE)
    invoice = ledger.create_invoice(invoice_draft(customer_id))
    draft = PaymentDraft(
        "ch_3NLongStripeChargeId0001", invoice.id, customer_id, Decimal("30.05"), date(2026, 12, 1), "USD"
    )
    assert ledger.find_payment(invoice.id, draft.reference) is None
    payment = ledger.record_payment(draft)
    assert payment.amount == Decimal("30.05")
    assert books.ledger().find_payment(invoice.id, draft.reference) == payment
    assert ledger.find_payment(invoice.id, "ch_other") is None
    [posted] = books.requests("POST", "/payments/")
    assert posted["body"]["payment"]["amount"] == {"amount": "30.05", "code": "USD"}
    partly = ledger.find_invoice(REFERENCE)
    assert partly is not None
    assert (partly.balance, partly.status) == (Decimal("50.05"), InvoiceStatus.OPEN)
    ledger.record_payment(replace(draft, reference="ch_2", amount=Decimal("50.05")))
    paid = ledger.find_invoice(REFERENCE)
    assert paid is not None
    assert (paid.balance, paid.status, paid.total) == (Decimal("0.00"), InvoiceStatus.PAID, Decimal("80.10"))


# ----------------------------------------------------------------------------------------------- credit notes
def test_a_credit_note_is_created_and_found_again_by_its_reference(books: Books, ledger: FreshBooksLedger) -> None:
    customer_id = ledger.create_customer(JANE)
    invoice = ledger.create_invoice(invoice_draft(customer_id))
    draft = CreditNoteDraft(
        f"{REFERENCE}:credit:1",
        invoice.id,
        customer_id,
        Decimal("15.05"),
        "price lowered from $80.10 to $65.05",
        date(2026, 12, 3),
        "USD",
    )
    assert ledger.find_credit_note(draft.reference) is None
    note = ledger.create_credit_note(draft)
    assert note.amount == Decimal("15.05")
    assert books.ledger().find_credit_note(draft.reference) == note
    assert ledger.find_credit_note(f"{REFERENCE}:credit:10") is None
    assert ledger.find_credit_note("acuity:appointment:1002:credit:1") is None
    [stored] = books.state("credit_notes")
    assert str(stored["clientid"]) == customer_id
    assert draft.reason in stored["notes"]
    searches = [r["query"] for r in books.requests("GET", "/credit_notes/")]
    assert any(query.get("search[clientid]") == [customer_id] for query in searches)


# ----------------------------------------------------------------------------------------------- tax
def inclusive(books: Books) -> FreshBooksLedger:
    return books.ledger(tax_name="HST", tax_percent=Decimal("13"))


def test_inclusive_tax_is_backed_out_so_line_plus_tax_is_the_price(books: Books) -> None:
    ledger = inclusive(books)
    draft = invoice_draft(ledger.create_customer(JANE), lines=(InvoiceLine("Massage", Decimal("113.00")),))
    invoice = ledger.create_invoice(with_tip(replace(draft, tax=TaxMode.INCLUSIVE), "5.00"))
    assert invoice.total == Decimal("118.00")
    service, tip = books.state("invoices")[0]["lines"]
    assert (service["unit_cost"]["amount"], service["taxName1"], service["taxAmount1"]) == ("100.00", "HST", "13")
    assert (tip["unit_cost"]["amount"], tip["taxAmount1"]) == ("5.00", None)  # a tip carries no tax


def test_inclusive_tax_hits_an_awkward_price_to_the_cent(books: Books) -> None:
    ledger = inclusive(books)
    customer_id = ledger.create_customer(JANE)
    draft = invoice_draft(customer_id, lines=(InvoiceLine("Massage", Decimal("10.01")),), tax=TaxMode.INCLUSIVE)
    assert ledger.create_invoice(draft).total == Decimal("10.01")
    assert books.state("invoices")[0]["lines"][0]["unit_cost"]["amount"] == "8.86"  # + 1.15 HST
    credit = CreditNoteDraft(
        f"{REFERENCE}:credit:1",
        "1",
        customer_id,
        Decimal("10.01"),
        "lowered",
        date(2026, 12, 3),
        "USD",
        TaxMode.INCLUSIVE,
    )
    assert ledger.create_credit_note(credit).amount == Decimal("10.01")


def test_a_price_no_net_amount_can_give_gets_a_rounding_cent_and_totals_the_price(books: Books) -> None:
    ledger = inclusive(books)
    draft = invoice_draft(ledger.create_customer(JANE), lines=(InvoiceLine("Massage", Decimal("100.00")),))
    assert ledger.create_invoice(replace(draft, tax=TaxMode.INCLUSIVE)).total == Decimal("100.00")
    service, rounding = books.state("invoices")[0]["lines"]
    assert (service["unit_cost"]["amount"], service["taxAmount1"]) == ("88.49", "13")  # + 11.50 HST = 99.99
    assert (rounding["name"], rounding["unit_cost"]["amount"], rounding["taxName1"]) == ("Rounding", "0.01", None)
    assert "HST at 13% rounds to the cent" in rounding["description"]


def test_every_split_adds_up_to_the_price_with_at_most_a_rounding_cent() -> None:
    rounded = 0
    for cents in range(0, 3001):
        price = Decimal(cents) / 100
        split = split_tax(price, Decimal("13"))
        assert split.net + split.tax + split.rounding == price
        assert split.tax == (split.net * Decimal("0.13")).quantize(Decimal("0.01"), "ROUND_HALF_UP")
        assert split.rounding in (Decimal("0.00"), Decimal("0.01"))
        rounded += split.rounding > 0
    assert 0 < rounded < 400  # about one price in nine at 13 %


# ----------------------------------------------------------------------------------------------- errors
def test_a_validation_error_keeps_the_errno_and_freshbooks_words(books: Books, ledger: FreshBooksLedger) -> None:
    invoice = ledger.create_invoice(invoice_draft(ledger.create_customer(JANE)))
    ledger.void_invoice(invoice.id)
    with pytest.raises(Rejected) as raised:
        ledger.update_invoice(invoice.id, invoice_draft(invoice.customer_id))
    assert (raised.value.code, raised.value.message) == ("1011", "Invoice is deleted. (field invoiceid)")


def test_error_words_are_redacted() -> None:
    body = {
        "response": {
            "errors": [{"errno": 1004, "field": "email", "message": "jane@example.com is taken.", "object": "client"}]
        }
    }
    ledger = mocked(lambda _request: httpx.Response(422, json=body))
    with pytest.raises(Rejected) as raised:
        ledger.create_customer(JANE)
    assert raised.value.code == "1004"
    assert "jane@example.com" not in raised.value.message
    assert "is taken" in raised.value.message


def test_an_unknown_record_is_not_found(ledger: FreshBooksLedger) -> None:
    with pytest.raises(Rejected) as raised:
        ledger.send_invoice("999999", "jane.doe@example.com")
    assert raised.value.code == "not_found"
    assert raised.value.message == "Invoice not found. (field invoiceid)"


def test_throttling_waits_60_seconds_or_as_asked(books: Books, ledger: FreshBooksLedger) -> None:
    books.fake.plan_fault(ACCOUNT, 429)
    with pytest.raises(RateLimited) as raised:
        ledger.find_customer(JANE)
    assert raised.value.retry_after == 60
    asked = mocked(lambda _request: httpx.Response(429, headers={"Retry-After": "7"}, text="slow down"))
    with pytest.raises(RateLimited) as again:
        asked.find_customer(JANE)
    assert again.value.retry_after == 7


@pytest.mark.parametrize("status", [503, 500, 409])
def test_server_errors_and_conflicts_are_transient(books: Books, ledger: FreshBooksLedger, status: int) -> None:
    books.fake.plan_fault(ACCOUNT, status, path_contains="/invoices/")
    with pytest.raises(Transient):
        ledger.find_invoice(REFERENCE)
    assert ledger.find_invoice(REFERENCE) is None  # the next call goes through


def test_forbidden_means_reconnect() -> None:
    body = {"response": {"errors": [{"errno": 1003, "field": "", "message": "Access denied.", "object": "client"}]}}
    with pytest.raises(NeedsReauth) as raised:
        mocked(lambda _request: httpx.Response(403, json=body)).find_customer(JANE)
    assert "Access denied." in raised.value.message


def test_an_expired_token_is_replaced_once_and_the_call_goes_through(books: Books) -> None:
    customer_id = books.ledger().create_customer(JANE)
    books.fake.clock.advance(12 * 3600)  # FreshBooks access tokens last 12 hours
    fresh = books.fake.issue_tokens(ACCOUNT).access_token
    asked: list[bool] = []

    def access_token(refreshed: bool) -> Secret:
        asked.append(refreshed)
        return Secret(fresh) if refreshed else Secret(books.token)

    ledger = FreshBooksLedger(http=books.http, account_id=ACCOUNT, access_token=access_token, api_url=books.fake.url)
    assert ledger.find_customer(JANE) == customer_id
    assert asked == [False, True]


def test_send_with_the_record_known_is_one_put_and_the_delete_still_reads(
    books: Books, ledger: FreshBooksLedger
) -> None:
    """Our record says the invoice was not sent: the action PUT alone. The delete reads first all the same:
    FreshBooks deletes a paid invoice without a word, and a payment recorded in FreshBooks is in no record."""
    customer_id = ledger.create_customer(JANE)
    invoice = ledger.create_invoice(invoice_draft(customer_id))
    before = len(books.fake.requests(ACCOUNT))
    sent = ledger.send_invoice(invoice.id, "jane.doe@example.com", known=invoice)
    assert (sent.emailed, sent.status) == (True, InvoiceStatus.OPEN)
    assert [r["method"] for r in books.fake.requests(ACCOUNT)[before:]] == ["PUT"]
    paid = ledger.create_invoice(invoice_draft(customer_id, reference="acuity:appointment:1002"))
    ledger.record_payment(PaymentDraft("ch_1", paid.id, customer_id, Decimal("10.00"), date(2026, 12, 3), "USD"))
    with pytest.raises(Rejected, match="has payments"):
        ledger.void_invoice(paid.id, known=paid)  # the record knew of no payment
    assert books.state("invoices")[1]["vis_state"] == 0
