"""The Xero adapter against the fake Xero over HTTP (checked against Xero's official OpenAPI spec)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from acuity_sync.domain.documents import (
    Choice,
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
from acuity_sync.ledgers.xero.accounts import AccountCharts, account_problems
from acuity_sync.ledgers.xero.adapter import XeroLedger, where_equals, xero_date
from acuity_sync.secret import Secret
from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.xero import FakeXero, RecordedRequest

TENANT = str(uuid.uuid4())
JANE = CustomerDraft("Jane", "Doe", "jane.doe@example.com", "555-0100")
CODELESS_REVENUE = {
    "Name": "Bookings",
    "Type": "REVENUE",
    "Class": "REVENUE",
    "Status": "ACTIVE",
    "TaxType": "OUTPUT",
    "EnablePaymentsToAccount": False,
}


@dataclass
class Tokens:
    """The connection's access token; records whether each call asked for a fresh one."""

    fake: FakeXero
    token: str = ""
    asked: list[bool] = field(default_factory=list)

    def __call__(self, refreshed: bool) -> Secret:
        self.asked.append(refreshed)
        if refreshed or not self.token:
            self.token = self.fake.issue_tokens(TENANT).access_token
        return Secret(self.token)


@dataclass
class Org:
    fake: FakeXero
    http: httpx.Client
    tokens: Tokens
    revenue_id: str  # a REVENUE account without a Code
    bank_id: str  # a BANK account without a Code

    def ledger(self, **options: Any) -> XeroLedger:
        accounts = {"invoice_account_id": self.revenue_id, "payment_account_id": self.bank_id}
        return XeroLedger(
            http=self.http, tenant_id=TENANT, access_token=self.tokens, api_url=self.fake.url, **{**accounts, **options}
        )

    def state(self, entity: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.fake.state(TENANT)[entity]
        return found

    def account(self, code: str) -> str:
        return next(str(a["AccountID"]) for a in self.state("Accounts") if a.get("Code") == code)

    def calls(self) -> list[RecordedRequest]:
        return self.fake.requests(TENANT)


@pytest.fixture
def org() -> Iterator[Org]:
    with FakeXero(clock=FakeClock(frozen=True), per_minute=1000) as fake, httpx.Client(timeout=10) as http:
        organisation = fake.add_organisation(TENANT, base_currency="NZD", name="Calm Clinic")
        revenue_id = str(uuid.uuid4())
        organisation.accounts.append({"AccountID": revenue_id, **CODELESS_REVENUE})
        bank_id = next(a["AccountID"] for a in organisation.accounts if a["Type"] == "BANK" and "Code" not in a)
        yield Org(fake, http, Tokens(fake), revenue_id, bank_id)
        assert fake.spec_violations == []


def invoice_draft(customer_id: str, **changes: Any) -> InvoiceDraft:
    draft = InvoiceDraft(
        reference="acuity:appointment:1001",
        customer_id=customer_id,
        txn_date=date(2026, 12, 3),
        lines=(
            InvoiceLine("Massage (60 min), Thu Dec 3 2026 3:00pm", Decimal("80.10"), LineKind.SERVICE, "7"),
            InvoiceLine("Tip", Decimal("12.35"), LineKind.TIP, "7"),
        ),
        currency="NZD",
        bill_email=JANE.email,
        memo="Massage (60 min)",
        tax=TaxMode.INCLUSIVE,
    )
    return replace(draft, **changes)


def body(request: RecordedRequest, key: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(request.body)[key][0]
    return found


def approved_invoice(ledger: XeroLedger, **changes: Any) -> tuple[str, str]:
    customer_id = ledger.create_customer(JANE)
    invoice = ledger.create_invoice(invoice_draft(customer_id, **changes))
    ledger.approve_invoice(invoice.id)
    return customer_id, invoice.id


# --------------------------------------------------------------------------------------------- company, contacts
def test_company_gives_the_base_currency_and_what_xero_can_do(org: Org) -> None:
    company = org.ledger().company()
    assert (company.name, company.home_currency, company.default_tax) == ("Calm Clinic", "NZD", TaxMode.INCLUSIVE)
    assert company.can_email_invoices
    assert company.payments_need_approved_invoice
    assert not company.can_edit_paid_invoices


def test_a_contact_is_found_by_email_in_any_case(org: Org) -> None:
    ledger = org.ledger()
    assert ledger.find_customer(JANE) is None
    contact_id = ledger.create_customer(JANE)
    ledger.create_customer(CustomerDraft("Mary", "Jane", "mary.jane.doe@example.com"))  # a near miss
    assert ledger.find_customer(replace(JANE, email="JANE.Doe@Example.COM")) == contact_id
    assert [c["EmailAddress"] for c in org.state("Contacts")] == ["jane.doe@example.com", "mary.jane.doe@example.com"]
    # searchTerm is case-insensitive in Xero's spec; Xero answers one page of 100 even when none is asked for
    assert org.calls()[-1].query == {"searchTerm": "JANE.Doe@Example.COM", "page": "1", "pageSize": "100"}


def test_a_contact_name_already_taken_gets_a_number(org: Org) -> None:
    ledger = org.ledger()
    first = ledger.create_customer(JANE)
    second = ledger.create_customer(replace(JANE, email="another.jane@example.com"))
    third = ledger.create_customer(replace(JANE, email="third.jane@example.com"))
    assert len({first, second, third}) == 3
    assert [c["Name"] for c in org.state("Contacts")] == ["Jane Doe", "Jane Doe (2)", "Jane Doe (3)"]


def test_a_contact_without_email_is_found_by_name_and_phone(org: Org) -> None:
    ledger = org.ledger()
    ledger.create_customer(JANE)
    no_email = CustomerDraft("Jane", "Doe", None, "555-0199")
    contact_id = ledger.create_customer(no_email)  # "Jane Doe (2)"
    assert ledger.find_customer(no_email) == contact_id
    assert ledger.find_customer(replace(no_email, phone="555-0000")) is None


def test_a_contact_without_email_or_phone_is_never_found_by_name_alone(org: Org) -> None:
    ledger = org.ledger()
    ledger.create_customer(CustomerDraft("Eve", "Stone", None))  # another Eve Stone, booked without either
    kept_apart = CustomerDraft("Eve", "Stone", None, name_suffix="Acuity appointment 1000123")
    assert ledger.find_customer(kept_apart) is None
    contact_id = ledger.create_customer(kept_apart)
    assert ledger.find_customer(kept_apart) == contact_id  # its own name finds it again (a retry after a crash)
    assert ledger.find_customer(replace(kept_apart, name_suffix="Acuity appointment 1000124")) is None
    names = [c["Name"] for c in org.state("Contacts")]
    assert names == ["Eve Stone", "Eve Stone (Acuity appointment 1000123)"]


def test_a_contact_search_reads_every_page(org: Org) -> None:
    """Xero answers a search a page (100) at a time: a walk-in client whose contact comes after 230 others the
    search also matches is found on the third page, not added again."""
    organisation = org.fake.organisation(TENANT)
    assert organisation is not None
    now = org.fake.clock.now()
    for number in range(230):
        organisation.save_contact({"Name": f"Pat Lee {number}"}, create_only=True, now=now)
    walk_in = CustomerDraft("Pat", "Lee", None, "555-0142")
    contact_id = org.ledger().create_customer(walk_in)
    assert org.ledger().find_customer(walk_in) == contact_id
    pages = [call.query.get("page") for call in org.calls() if call.method == "GET" and call.path.endswith("/Contacts")]
    assert pages == ["1", "2", "3"]


def test_phone_notes_and_intake_answers_go_where_xero_keeps_them(org: Org) -> None:
    ledger = org.ledger()
    draft = replace(JANE, phone="555-0100", notes="Prefers mornings", form_answers=(("Allergies", "none"),))
    contact_id = ledger.create_customer(draft)
    (contact,) = org.state("Contacts")
    assert contact["Phones"] == [{"PhoneType": "MOBILE", "PhoneNumber": "555-0100"}]
    history = org.http.get(
        f"{org.fake.url}/api.xro/2.0/Contacts/{contact_id}/History",
        headers={"Authorization": f"Bearer {org.tokens(False).reveal()}", "xero-tenant-id": TENANT},
    ).json()["HistoryRecords"]
    assert [record["Details"] for record in history] == ["Prefers mornings\n\nIntake form answers:\nAllergies: none"]
    ledger.create_customer(CustomerDraft("Kim", "Lo", "kim@example.com"))  # nothing to note: no history call
    assert sum(1 for call in org.calls() if call.path.endswith("/History")) == 2  # the PUT and the GET above


# --------------------------------------------------------------------------------------------- invoices
def test_a_draft_invoice_to_the_cent_on_a_codeless_revenue_account(org: Org) -> None:
    ledger = org.ledger(tax_type="OUTPUT")
    customer_id = ledger.create_customer(JANE)
    invoice = ledger.create_invoice(invoice_draft(customer_id, number="ACU-1001"))
    assert (invoice.total, invoice.balance, invoice.status) == (Decimal("92.45"), Decimal("92.45"), InvoiceStatus.DRAFT)
    assert (invoice.number, invoice.txn_date, invoice.customer_id) == ("ACU-1001", date(2026, 12, 3), customer_id)
    stored = org.state("Invoices")[0]
    assert (stored["Type"], stored["Status"], stored["Reference"]) == ("ACCREC", "DRAFT", "acuity:appointment:1001")
    assert stored["LineAmountTypes"] == "Inclusive"
    assert [(line["AccountID"], line["AccountCode"]) for line in stored["LineItems"]] == [(org.revenue_id, "")] * 2
    assert [line["TaxType"] for line in stored["LineItems"]] == ["OUTPUT", "OUTPUT"]
    assert [line["LineAmount"] for line in stored["LineItems"]] == [80.10, 12.35]
    assert b"80.10" in org.calls()[-1].body  # money is written exactly, never through a float


@pytest.mark.parametrize(
    ("tax", "sent"), [(TaxMode.INCLUSIVE, "Inclusive"), (TaxMode.NON_TAXABLE, "NoTax"), (TaxMode.LEDGER_DEFAULT, None)]
)
def test_line_amount_types_follow_the_tax_mode(org: Org, tax: TaxMode, sent: str | None) -> None:
    ledger = org.ledger(tax_type="OUTPUT")
    ledger.create_invoice(invoice_draft(ledger.create_customer(JANE), tax=tax))
    written = body(org.calls()[-1], "Invoices")
    assert written.get("LineAmountTypes") == sent  # None: the organisation's own default
    assert ("TaxType" in written["LineItems"][0]) is (tax is not TaxMode.NON_TAXABLE)


def test_an_invoice_is_found_by_its_reference_after_a_crash(org: Org) -> None:
    ledger = org.ledger()
    draft = invoice_draft(ledger.create_customer(JANE))
    created = ledger.create_invoice(draft)
    after_crash = org.ledger()  # a new process: nothing in memory
    assert after_crash.find_invoice(draft.reference, draft) == created
    assert after_crash.find_invoice("acuity:appointment:9999", None) is None
    assert org.calls()[-1].query == {"where": 'Reference=="acuity:appointment:9999"'}


def test_approve_then_send_emails_once(org: Org) -> None:
    ledger = org.ledger()
    _, invoice_id = approved_invoice(ledger)
    assert ledger.find_invoice("acuity:appointment:1001") is not None
    sent = ledger.send_invoice(invoice_id, "jane.doe@example.com")
    assert (sent.status, sent.emailed) == (InvoiceStatus.OPEN, True)
    again = ledger.send_invoice(invoice_id, "jane.doe@example.com")
    assert again.emailed
    assert org.fake.state(TENANT)["Emails"] == [invoice_id]


def test_xero_refuses_to_email_a_draft_so_send_approves_it_first(org: Org) -> None:
    ledger = org.ledger()
    invoice = ledger.create_invoice(invoice_draft(ledger.create_customer(JANE)))
    headers = {"Authorization": f"Bearer {org.tokens(False).reveal()}", "xero-tenant-id": TENANT}
    refused = org.http.post(f"{org.fake.url}/api.xro/2.0/Invoices/{invoice.id}/Email", json={}, headers=headers)
    assert refused.status_code == 400
    sent = ledger.send_invoice(invoice.id, "jane.doe@example.com")
    assert (sent.status, sent.emailed) == (InvoiceStatus.OPEN, True)
    writes = [(r.method, r.path.rsplit("/", 1)[-1], r.status) for r in org.calls() if r.method == "POST"][-2:]
    assert writes == [("POST", invoice.id, 200), ("POST", "Email", 204)]
    assert org.state("Invoices")[0]["Status"] == "AUTHORISED"


def test_an_update_changes_lines_and_date_and_can_go_back(org: Org) -> None:
    ledger = org.ledger()
    customer_id = ledger.create_customer(JANE)
    first = invoice_draft(customer_id)
    invoice = ledger.create_invoice(first)
    moved = invoice_draft(
        customer_id, lines=(InvoiceLine("Massage (90 min)", Decimal("95.50")),), txn_date=date(2026, 12, 4)
    )
    updated = ledger.update_invoice(invoice.id, moved)
    assert (updated.id, updated.total, updated.txn_date) == (invoice.id, Decimal("95.50"), date(2026, 12, 4))
    # Undone a minute later: the same body as the first update is written again, not answered from Xero's
    # idempotency store (keys are kept 6 minutes).
    back = ledger.update_invoice(invoice.id, first)
    assert (back.total, back.txn_date) == (Decimal("92.45"), date(2026, 12, 3))
    ledger.update_invoice(invoice.id, moved)
    stored = org.state("Invoices")[0]
    assert (stored["Total"], [line["Description"] for line in stored["LineItems"]]) == (95.5, ["Massage (90 min)"])
    assert len(org.state("Invoices")) == 1


def test_void_voids_an_approved_invoice_and_deletes_a_draft(org: Org) -> None:
    ledger = org.ledger()
    customer_id, approved_id = approved_invoice(ledger)
    assert ledger.void_invoice(approved_id).status is InvoiceStatus.VOIDED
    assert ledger.void_invoice(approved_id).status is InvoiceStatus.VOIDED  # again: nothing more to do
    draft = ledger.create_invoice(invoice_draft(customer_id, reference="acuity:appointment:1002"))
    deleted = ledger.void_invoice(draft.id)
    assert (deleted.status, deleted.balance) == (InvoiceStatus.DELETED, Decimal("0.00"))
    assert {i["InvoiceID"]: i["Status"] for i in org.state("Invoices")} == {approved_id: "VOIDED", draft.id: "DELETED"}


# --------------------------------------------------------------------------------------------- payments, credit
def test_a_payment_goes_to_the_payment_account_and_is_found_by_its_reference(org: Org) -> None:
    ledger = org.ledger()
    customer_id, invoice_id = approved_invoice(ledger)
    draft = PaymentDraft(
        "ch_3NLongStripeChargeId0001", invoice_id, customer_id, Decimal("30.05"), date(2026, 12, 1), "NZD"
    )
    assert ledger.find_payment(invoice_id, draft.reference) is None
    payment = ledger.record_payment(draft)
    assert (payment.invoice_id, payment.amount, payment.reference) == (invoice_id, Decimal("30.05"), draft.reference)
    assert ledger.find_payment(invoice_id, draft.reference) == payment
    assert ledger.find_payment(invoice_id, "ch_other") is None
    stored = org.state("Payments")[0]
    assert (stored["Account"]["AccountID"], stored["Reference"]) == (org.bank_id, draft.reference)
    assert org.state("Invoices")[0]["AmountDue"] == 62.40


def test_a_payment_beyond_the_amount_due_is_rejected_in_xeros_words(org: Org) -> None:
    ledger = org.ledger()
    customer_id, invoice_id = approved_invoice(ledger)
    too_much = PaymentDraft("ch_1", invoice_id, customer_id, Decimal("92.46"), date(2026, 12, 1), "NZD")
    with pytest.raises(Rejected) as raised:
        ledger.record_payment(too_much)
    assert raised.value.code == "ValidationException"
    assert "exceeds the amount outstanding" in raised.value.message
    assert org.state("Payments") == []


def test_a_draft_is_approved_before_it_is_paid(org: Org) -> None:
    """Send mode for a client without e-mail: nothing approved the draft, and Xero pays only approved invoices."""
    ledger = org.ledger()
    customer_id = ledger.create_customer(JANE)
    invoice = ledger.create_invoice(invoice_draft(customer_id))
    payment = ledger.record_payment(
        PaymentDraft("ch_2", invoice.id, customer_id, Decimal("92.45"), date(2026, 12, 3), "NZD")
    )
    assert payment.amount == Decimal("92.45")
    found = ledger.find_invoice("acuity:appointment:1001")
    assert found is not None
    assert (found.status, found.balance) == (InvoiceStatus.PAID, Decimal("0.00"))


def test_a_credit_note_is_allocated_while_something_is_due_else_kept_as_credit(org: Org) -> None:
    ledger = org.ledger()
    customer_id, invoice_id = approved_invoice(ledger)
    draft = CreditNoteDraft(
        "acuity:appointment:1001:credit:1",
        invoice_id,
        customer_id,
        Decimal("15.00"),
        "price lowered from $80.10 to $65.10",
        date(2026, 12, 3),
        "NZD",
        TaxMode.INCLUSIVE,
    )
    assert ledger.find_credit_note(draft.reference) is None
    note = ledger.create_credit_note(draft)
    assert note.amount == Decimal("15.00")
    assert ledger.find_credit_note(draft.reference) == note
    assert ledger.find_credit_note("acuity:appointment:1001:credit:2") is None
    assert org.state("Invoices")[0]["AmountDue"] == 77.45
    stored = org.state("CreditNotes")[0]
    assert (stored["Type"], stored["Reference"], stored["RemainingCredit"]) == ("ACCRECCREDIT", draft.reference, 0.0)
    # Paid in full: the second credit is left on the contact.
    ledger.record_payment(PaymentDraft("ch_3", invoice_id, customer_id, Decimal("77.45"), date(2026, 12, 3), "NZD"))
    ledger.create_credit_note(replace(draft, reference="acuity:appointment:1001:credit:2", amount=Decimal("5.00")))
    assert org.state("CreditNotes")[1]["RemainingCredit"] == 5.0


# --------------------------------------------------------------------------------------------- idempotency, calls
def test_every_write_has_an_idempotency_key_and_a_retried_write_is_answered_once(org: Org) -> None:
    ledger = org.ledger()
    customer_id, invoice_id = approved_invoice(ledger)
    ledger.record_payment(PaymentDraft("ch_4", invoice_id, customer_id, Decimal("10.00"), date(2026, 12, 3), "NZD"))
    draft = invoice_draft(customer_id, reference="acuity:appointment:1003")
    first = ledger.create_invoice(draft)
    again = org.ledger().create_invoice(draft)  # its answer was lost, and the same write is sent again
    assert again.id == first.id
    assert len(org.state("Invoices")) == 2
    writes = [request for request in org.calls() if request.method in ("PUT", "POST")]
    keys = [request.headers.get("idempotency-key", "") for request in writes]
    assert len(writes) == 6
    assert all(0 < len(key) <= 128 for key in keys)
    assert keys[-1] == keys[-2]


def test_a_new_paid_booking_costs_the_fewest_calls(org: Org) -> None:
    ledger = org.ledger()
    customer_id = ledger.find_customer(JANE) or ledger.create_customer(JANE)
    invoice = ledger.create_invoice(invoice_draft(customer_id))
    ledger.approve_invoice(invoice.id)
    ledger.record_payment(PaymentDraft("ch_5", invoice.id, customer_id, Decimal("92.45"), date(2026, 12, 3), "NZD"))
    calls = [(request.method, request.path.removeprefix("/api.xro/2.0")) for request in org.calls()]
    assert calls == [
        ("GET", "/Contacts"),
        ("PUT", "/Contacts"),
        ("PUT", "/Invoices"),
        ("POST", f"/Invoices/{invoice.id}"),
        ("PUT", "/Payments"),
    ]


# --------------------------------------------------------------------------------------------- accounts
CHART = [
    Choice("a-200", "Sales", "REVENUE", "200", {"payments_enabled": "false", "status": "ACTIVE"}),
    Choice("a-nc", "Bookings", "REVENUE", "", {"payments_enabled": "false", "status": "ACTIVE"}),
    Choice("a-old", "Old Sales", "SALES", "220", {"payments_enabled": "false", "status": "ARCHIVED"}),
    Choice("a-400", "Advertising", "OVERHEADS", "400", {"payments_enabled": "false", "status": "ACTIVE"}),
    Choice("a-bank", "Business Bank Account", "BANK", "", {"payments_enabled": "false", "status": "ACTIVE"}),
    Choice("a-880", "Owner Drawings", "CURRENT", "880", {"payments_enabled": "true", "status": "ACTIVE"}),
]


def test_account_problems_name_the_accounts_that_would_do() -> None:
    assert account_problems("a-nc", "a-880", CHART) == []
    assert account_problems(None, None, CHART) == []
    invoice, payment = account_problems("a-400", "a-200", CHART)
    assert invoice == (
        "The invoice account Advertising (400) is not an active revenue or sales account in Xero. "
        "Choose one of: Sales (200), Bookings (no code)."
    )
    assert payment == (
        "The payment account Sales (200) is not an active bank account or one with payments enabled in Xero. "
        "Choose one of: Business Bank Account (no code), Owner Drawings (880)."
    )
    (archived,) = account_problems("a-old", None, CHART)
    assert "Old Sales (220)" in archived
    (gone,) = account_problems(None, "a-deleted", CHART[:4])
    assert gone.startswith("The payment account you chose (not in Xero now)")
    assert "Xero has none" in gone


def test_list_accounts_shows_codes_types_and_payment_flags(org: Org) -> None:
    accounts = {account.name: account for account in org.ledger().list_accounts()}
    assert accounts["Bookings"].code == ""
    assert (accounts["Owner Drawings"].kind, accounts["Owner Drawings"].extra) == (
        "CURRENT",
        {"payments_enabled": "true", "status": "ACTIVE"},
    )
    assert org.ledger().list_items() == []


def test_accounts_not_chosen_default_to_sales_200_and_the_first_bank_read_once(org: Org) -> None:
    ledger = org.ledger(invoice_account_id=None, payment_account_id=None)
    customer_id = ledger.create_customer(JANE)
    invoice = ledger.create_invoice(invoice_draft(customer_id))
    ledger.approve_invoice(invoice.id)
    ledger.record_payment(PaymentDraft("ch_6", invoice.id, customer_id, Decimal("1.00"), date(2026, 12, 3), "NZD"))
    assert org.state("Invoices")[0]["LineItems"][0]["AccountID"] == org.account("200")
    assert org.state("Payments")[0]["Account"]["AccountID"] == org.bank_id
    assert [request.path for request in org.calls()].count("/api.xro/2.0/Accounts") == 1


def test_the_chart_is_kept_between_messages_of_one_container_for_ten_minutes(org: Org) -> None:
    now = [0.0]
    charts = AccountCharts(ttl_seconds=600, clock=lambda: now[0])
    for minute in (0, 5, 9):  # one adapter per message, as the sync function builds them
        now[0] = minute * 60.0
        ledger = org.ledger(invoice_account_id=None, payment_account_id=None, charts=charts)
        ledger.create_invoice(invoice_draft(ledger.create_customer(replace(JANE, email=f"jane{minute}@example.com"))))
    assert [request.path for request in org.calls()].count("/api.xro/2.0/Accounts") == 1
    now[0] = 11 * 60.0
    ledger = org.ledger(invoice_account_id=None, payment_account_id=None, charts=charts)
    ledger.create_invoice(invoice_draft(ledger.create_customer(replace(JANE, email="jane11@example.com"))))
    assert [request.path for request in org.calls()].count("/api.xro/2.0/Accounts") == 2


def test_a_wrong_invoice_account_is_explained(org: Org) -> None:
    ledger = org.ledger(invoice_account_id=str(uuid.uuid4()))
    with pytest.raises(Rejected) as raised:
        ledger.create_invoice(invoice_draft(ledger.create_customer(JANE)))
    assert raised.value.code == "account_not_allowed"
    assert "Choose one of: Sales (200), Appointments (210), Other Revenue (260), Bookings (no code)." in str(
        raised.value
    )


def test_a_payment_account_xero_refuses_is_explained(org: Org) -> None:
    ledger = org.ledger(payment_account_id=org.account("200"))
    customer_id, invoice_id = approved_invoice(ledger)
    with pytest.raises(Rejected) as raised:
        ledger.record_payment(PaymentDraft("ch_7", invoice_id, customer_id, Decimal("1.00"), date(2026, 12, 3), "NZD"))
    assert raised.value.code == "account_not_allowed"
    assert raised.value.message.startswith("The payment account Sales (200) is not an active bank account")
    assert "Business Bank Account (no code), Checking Account (090), Owner Drawings (880)" in raised.value.message


# --------------------------------------------------------------------------------------------- errors and limits
def test_a_429_asks_for_retry_after(org: Org) -> None:
    org.fake.plan_fault(TENANT, 429, retry_after=60)
    with pytest.raises(RateLimited) as raised:
        org.ledger().company()
    assert raised.value.retry_after == 60


def test_a_spent_minute_count_waits_without_calling_xero() -> None:
    with FakeXero(clock=FakeClock(frozen=True), per_minute=2) as fake, httpx.Client(timeout=10) as http:
        fake.add_organisation(TENANT)
        ledger = XeroLedger(http=http, tenant_id=TENANT, access_token=Tokens(fake), api_url=fake.url)
        ledger.company()
        ledger.find_customer(JANE)  # X-MinLimit-Remaining: 0
        with pytest.raises(RateLimited) as raised:
            ledger.find_customer(JANE)
        assert 59 < raised.value.retry_after <= 60
        assert len(fake.requests(TENANT)) == 2


def test_a_spent_day_count_waits_long() -> None:
    with FakeXero(clock=FakeClock(frozen=True), per_day=2) as fake, httpx.Client(timeout=10) as http:
        fake.add_organisation(TENANT)
        tokens = Tokens(fake)
        ledger = XeroLedger(http=http, tenant_id=TENANT, access_token=tokens, api_url=fake.url)
        ledger.company()
        ledger.company()  # X-DayLimit-Remaining: 0
        with pytest.raises(RateLimited) as local:
            ledger.company()
        assert local.value.retry_after > 3000
        assert "day" in local.value.message
        assert len(fake.requests(TENANT)) == 2
        with pytest.raises(RateLimited) as answered:  # another process, which has not seen the count
            XeroLedger(http=http, tenant_id=TENANT, access_token=tokens, api_url=fake.url).company()
        assert answered.value.retry_after > 80_000  # until the day window ends
        assert "day" in answered.value.message


def test_a_server_error_is_transient(org: Org) -> None:
    org.fake.plan_fault(TENANT, 503)
    with pytest.raises(Transient):
        org.ledger().find_customer(JANE)


def test_an_organisation_that_refuses_us_needs_reconnecting(org: Org) -> None:
    stranger = XeroLedger(http=org.http, tenant_id=str(uuid.uuid4()), access_token=org.tokens, api_url=org.fake.url)
    with pytest.raises(NeedsReauth, match="reconnect Xero"):
        stranger.company()


def test_an_unknown_invoice_is_not_found(org: Org) -> None:
    with pytest.raises(Rejected) as raised:
        org.ledger().void_invoice(str(uuid.uuid4()))
    assert raised.value.code == "not_found"


def test_an_expired_token_is_refreshed_once(org: Org) -> None:
    ledger = org.ledger()
    ledger.company()
    org.fake.clock.advance(1801)  # Xero's access tokens last 30 minutes
    assert ledger.company().home_currency == "NZD"
    assert org.tokens.asked == [False, False, True]


def test_xero_values() -> None:
    assert where_equals("Reference", 'a "b" \\c') == 'Reference=="a \\"b\\" \\\\c"'
    assert xero_date("/Date(1796256000000+0000)/") == date(2026, 12, 3)
    assert xero_date("2026-12-03T00:00:00") == date(2026, 12, 3)


# --------------------------------------------------------------------------------------------- writes from the record
def calls_since(org: Org, start: int) -> list[tuple[str, str, int]]:
    """The requests made since `start`, as (method, the path's last part, status)."""
    return [(r.method, r.path.rsplit("/", 1)[-1], r.status) for r in org.calls()[start:]]


def test_an_invoice_paid_at_once_is_created_authorised_in_one_call(org: Org) -> None:
    ledger = org.ledger()
    customer_id = ledger.create_customer(JANE)
    start = len(org.calls())
    invoice = ledger.create_invoice(invoice_draft(customer_id, approved=True))
    assert invoice.status is InvoiceStatus.OPEN
    payment = PaymentDraft("ch_1", invoice.id, customer_id, invoice.total, date(2026, 12, 3), "NZD")
    ledger.record_payment(payment)  # Xero pays only AUTHORISED invoices: no approval in between
    assert calls_since(org, start) == [("PUT", "Invoices", 200), ("PUT", "Payments", 200)]
    assert org.state("Invoices")[0]["Status"] == "PAID"


def test_send_with_the_record_known_is_one_call_for_an_approved_invoice_and_two_for_a_draft(org: Org) -> None:
    ledger = org.ledger()
    customer_id = ledger.create_customer(JANE)
    approved = ledger.create_invoice(invoice_draft(customer_id, approved=True))
    start = len(org.calls())
    sent = ledger.send_invoice(approved.id, "jane.doe@example.com", known=approved)
    assert (sent.status, sent.emailed) == (InvoiceStatus.OPEN, True)
    assert calls_since(org, start) == [("POST", "Email", 204)]
    draft = ledger.create_invoice(invoice_draft(customer_id, reference="acuity:appointment:1002"))
    start = len(org.calls())
    sent = ledger.send_invoice(draft.id, "jane.doe@example.com", known=draft)
    assert (sent.status, sent.emailed) == (InvoiceStatus.OPEN, True)
    assert calls_since(org, start) == [("POST", draft.id, 200), ("POST", "Email", 204)]
    assert org.fake.state(TENANT)["Emails"] == [approved.id, draft.id]


def test_void_with_the_record_known_is_one_call_and_reads_only_when_xero_refuses(org: Org) -> None:
    ledger = org.ledger()
    customer_id = ledger.create_customer(JANE)
    draft = ledger.create_invoice(invoice_draft(customer_id))
    start = len(org.calls())
    assert ledger.void_invoice(draft.id, known=draft).status is InvoiceStatus.DELETED
    assert calls_since(org, start) == [("POST", draft.id, 200)]
    # Our record says draft, but the owner approved it in Xero meanwhile: DELETED is refused, the invoice is read,
    # and it is voided.
    other = ledger.create_invoice(invoice_draft(customer_id, reference="acuity:appointment:1002"))
    ledger.approve_invoice(other.id)
    start = len(org.calls())
    assert ledger.void_invoice(other.id, known=other).status is InvoiceStatus.VOIDED
    assert calls_since(org, start) == [("POST", other.id, 400), ("GET", other.id, 200), ("POST", other.id, 200)]
    # Paid meanwhile (in Xero): refused, read, and refused in Xero's words without a second try.
    paid = ledger.create_invoice(invoice_draft(customer_id, reference="acuity:appointment:1003", approved=True))
    ledger.record_payment(PaymentDraft("ch_2", paid.id, customer_id, Decimal("10.00"), date(2026, 12, 3), "NZD"))
    start = len(org.calls())
    with pytest.raises(Rejected):
        ledger.void_invoice(paid.id, known=paid)
    assert calls_since(org, start) == [("POST", paid.id, 400), ("GET", paid.id, 200)]
