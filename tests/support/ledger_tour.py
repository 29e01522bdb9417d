"""Every operation of the Ledger interface, once, as a sync would call them: the tests that walk a fake's parameters
run it against the fake to learn which routes, parameters and fields an adapter actually sends."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from acuity_sync.domain.documents import (
    CreditNoteDraft,
    CustomerDraft,
    InvoiceDraft,
    InvoiceLine,
    LineKind,
    PaymentDraft,
    TaxMode,
)
from acuity_sync.ledgers.base import Ledger

REFERENCE = "acuity:appointment:1"
JANE = CustomerDraft(
    "Jane", "Doe", "jane@example.com", "555-0100", notes="Prefers mornings", form_answers=(("First visit?", "yes"),)
)
SAM = CustomerDraft("Sam", "Lee", None, "555-0101")


def tour(ledger: Ledger, currency: str, tax: TaxMode) -> None:
    """Company, accounts, items; customers with and without e-mail; an invoice created, found, updated, approved,
    sent, paid, credited; a numbered one voided. Each answer is checked as far as the operation promises."""
    ledger.company()
    ledger.list_accounts()
    ledger.list_items()
    jane = ledger.create_customer(JANE)
    assert ledger.find_customer(JANE) == jane
    sam = ledger.create_customer(SAM)
    assert ledger.find_customer(SAM) == sam
    lines = (
        InvoiceLine("Massage (60 min), Thu Dec 3 2026 3:00pm", Decimal("80.00"), LineKind.SERVICE, "7"),
        InvoiceLine("Tip", Decimal("5.00"), LineKind.TIP, "7"),
    )
    draft = InvoiceDraft(REFERENCE, jane, date(2026, 12, 3), lines, currency, None, JANE.email, "Massage", tax)
    invoice = ledger.create_invoice(draft)
    found = ledger.find_invoice(REFERENCE, draft)
    assert found is not None
    assert found.id == invoice.id
    moved = ledger.update_invoice(invoice.id, replace(draft, txn_date=date(2026, 12, 4)))
    assert moved.txn_date == date(2026, 12, 4)
    ledger.approve_invoice(invoice.id)
    assert ledger.send_invoice(invoice.id, "jane@example.com").emailed
    paid = PaymentDraft("ch_1", invoice.id, jane, Decimal("10.00"), date(2026, 12, 4), currency)
    payment = ledger.record_payment(paid)
    found_payment = ledger.find_payment(invoice.id, "ch_1")
    assert found_payment is not None
    assert found_payment.id == payment.id
    credit = CreditNoteDraft(
        f"{REFERENCE}:credit:1", invoice.id, jane, Decimal("5.00"), "Price lowered", date(2026, 12, 5), currency, tax
    )
    note = ledger.create_credit_note(credit)
    found_note = ledger.find_credit_note(credit.reference)
    assert found_note is not None
    assert found_note.id == note.id
    numbered = ledger.create_invoice(replace(draft, reference="acuity:appointment:2", number="ACU-2", customer_id=sam))
    ledger.void_invoice(numbered.id)
