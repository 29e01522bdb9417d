"""Each named rule of the plan, one test each, with expectations written from DESIGN.md's settings section."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from acuity_sync.domain.billable import Billable, Client, ReceivedPayment
from acuity_sync.domain.documents import CompanyInfo, LineKind, TaxMode
from acuity_sync.domain.names import EventKind, LedgerName
from acuity_sync.domain.record import SyncRecord
from acuity_sync.domain.settings import Mode, TipHandling
from acuity_sync.domain.steps import (
    ApproveInvoice,
    CreateInvoice,
    EnsureCustomer,
    IssueCreditNote,
    RecordPayment,
    SendInvoice,
    UpdateInvoice,
    VoidInvoice,
)
from acuity_sync.ledgers.registry import default_settings, parse_settings
from acuity_sync.sync.plan import Plan, Rule, Rules, plan
from tests.support.simulated_ledger import SimulatedLedger

QUICKBOOKS = CompanyInfo("Studio", "USD", TaxMode.NON_TAXABLE, can_edit_paid_invoices=True)
XERO = CompanyInfo("Studio", "USD", TaxMode.INCLUSIVE, payments_need_approved_invoice=True)
LOCKED = CompanyInfo("Studio", "USD", TaxMode.NON_TAXABLE)
JANE = Client("Jane", "Doe", "jane@example.com", "555-0100")
BOOKING = Billable(
    kind=EventKind.APPOINTMENT,
    source_id=1001,
    client=JANE,
    service_date=date(2026, 12, 3),
    description="Massage (60 min), Dec 3 2026 3:00pm",
    item_key="7",
    price=Decimal("80.00"),
    currency="USD",
)


def paid(billable: Billable, *amounts: str) -> Billable:
    payments = tuple(
        ReceivedPayment(f"ch_{index}", Decimal(amount), date(2026, 12, index + 1))
        for index, amount in enumerate(amounts)
    )
    return replace(billable, payments=payments)


def kinds(result: Plan) -> list[str]:
    return [type(step).__name__ for step in result.steps]


def rules_of(result: Plan) -> set[Rule]:
    return {skip.rule for skip in result.skips}


def synced(billable: Billable, rules: Rules, company: CompanyInfo = QUICKBOOKS) -> tuple[SyncRecord, SimulatedLedger]:
    ledger = SimulatedLedger()
    record = ledger.apply(plan(billable, rules, company, SyncRecord()), billable, SyncRecord())
    return record, ledger


def test_new_client_in_draft_mode_gets_customer_and_invoice_not_sent() -> None:
    result = plan(BOOKING, Rules(mode=Mode.DRAFT), QUICKBOOKS, SyncRecord())
    assert kinds(result) == ["EnsureCustomer", "CreateInvoice"]
    create = result.steps[1]
    assert isinstance(create, CreateInvoice)
    assert [(line.amount, line.kind) for line in create.lines] == [(Decimal("80.00"), LineKind.SERVICE)]


def test_send_mode_emails_once() -> None:
    rules = Rules(mode=Mode.SEND)
    assert kinds(plan(BOOKING, rules, QUICKBOOKS, SyncRecord())) == ["EnsureCustomer", "CreateInvoice", "SendInvoice"]
    record, ledger = synced(BOOKING, rules)
    assert plan(BOOKING, rules, QUICKBOOKS, record).writes_nothing
    assert ledger.invoices["I1"].emails == 1


def test_customer_only_mode_writes_no_invoice() -> None:
    result = plan(BOOKING, Rules(mode=Mode.CUSTOMER_ONLY), QUICKBOOKS, SyncRecord())
    assert result.steps == (EnsureCustomer(),)
    assert rules_of(result) == {Rule.CUSTOMER_ONLY_MODE}


def test_returning_client_with_a_known_customer_is_not_added_again() -> None:
    result = plan(BOOKING, Rules(), QUICKBOOKS, SyncRecord(customer_id="C9"))
    assert kinds(result) == ["CreateInvoice"]


def test_free_appointment_invoiced_by_default_and_not_when_toggled_off() -> None:
    free = replace(BOOKING, price=Decimal("0.00"), code="PKG-10")
    assert kinds(plan(free, Rules(), QUICKBOOKS, SyncRecord())) == ["EnsureCustomer", "CreateInvoice"]
    off = plan(free, Rules(invoice_free_appointments=False), QUICKBOOKS, SyncRecord())
    assert kinds(off) == ["EnsureCustomer"]
    assert rules_of(off) == {Rule.FREE_NOT_INVOICED}


def test_paid_in_full_records_one_payment_per_transaction() -> None:
    result = plan(paid(BOOKING, "80.00"), Rules(), QUICKBOOKS, SyncRecord())
    assert kinds(result) == ["EnsureCustomer", "CreateInvoice", "RecordPayment"]
    payment = result.steps[2]
    assert isinstance(payment, RecordPayment)
    assert (payment.payment.transaction_id, payment.amount) == ("ch_0", Decimal("80.00"))


def test_partial_payment_leaves_the_balance_open() -> None:
    record, ledger = synced(paid(BOOKING, "30.00"), Rules())
    assert ledger.payments == {"ch_0": Decimal("30.00")}
    assert ledger.invoices["I1"].total - record.paid_total == Decimal("50.00")


def test_tip_is_excluded_by_default_and_explained() -> None:
    tipped = paid(BOOKING, "95.00")
    result = plan(tipped, Rules(), QUICKBOOKS, SyncRecord())
    payment = next(step for step in result.steps if isinstance(step, RecordPayment))
    assert payment.amount == Decimal("80.00")
    assert Rule.SURPLUS_EXCLUDED in rules_of(result)


def test_tip_as_a_separate_line_keeps_the_service_at_the_price() -> None:
    tipped = paid(BOOKING, "95.00")
    _record, ledger = synced(tipped, Rules(tips=TipHandling.SEPARATE_LINE))
    invoice = ledger.invoices["I1"]
    assert [(line.kind, line.amount) for line in invoice.lines] == [
        (LineKind.SERVICE, Decimal("80.00")),
        (LineKind.TIP, Decimal("15.00")),
    ]
    assert ledger.payments == {"ch_0": Decimal("95.00")}
    assert ledger.net == Decimal("80.00")


def test_reschedule_updates_the_invoice() -> None:
    record, _ = synced(BOOKING, Rules())
    moved = replace(BOOKING, service_date=date(2026, 12, 4), description="Massage (60 min), Dec 4 2026 3:00pm")
    result = plan(moved, Rules(), QUICKBOOKS, record)
    assert kinds(result) == ["UpdateInvoice"]


def test_price_change_updates_the_lines() -> None:
    record, ledger = synced(BOOKING, Rules())
    dearer = replace(BOOKING, price=Decimal("95.50"))
    after = ledger.apply(plan(dearer, Rules(), QUICKBOOKS, record), dearer, record)
    assert ledger.invoices["I1"].total == Decimal("95.50")
    assert plan(dearer, Rules(), QUICKBOOKS, after).writes_nothing


def test_update_on_change_off_leaves_the_invoice_and_says_so() -> None:
    record, _ = synced(BOOKING, Rules())
    dearer = replace(BOOKING, price=Decimal("95.50"))
    result = plan(dearer, Rules(update_on_change=False), QUICKBOOKS, record)
    assert result.writes_nothing
    assert rules_of(result) == {Rule.CHANGES_NOT_SYNCED}


def test_price_lowered_after_payment_becomes_a_credit_note_where_paid_invoices_are_locked() -> None:
    full = paid(BOOKING, "80.00")
    record, ledger = synced(full, Rules(), LOCKED)
    cheaper = replace(full, price=Decimal("65.00"))
    result = plan(cheaper, Rules(), LOCKED, record)
    assert [type(step) for step in result.steps] == [IssueCreditNote]
    after = ledger.apply(result, cheaper, record)
    assert ledger.net == Decimal("65.00")
    assert plan(cheaper, Rules(), LOCKED, after).writes_nothing  # never a loop


def test_price_raised_after_payment_on_a_locked_invoice_is_explained_not_retried() -> None:
    full = paid(BOOKING, "80.00")
    record, _ = synced(full, Rules(), LOCKED)
    dearer = replace(full, price=Decimal("90.00"))
    result = plan(dearer, Rules(), LOCKED, record)
    assert result.writes_nothing
    assert Rule.PAID_INVOICE_LOCKED in rules_of(result)


def test_cancel_unpaid_voids_and_cancel_paid_keeps_the_invoice() -> None:
    record, _ = synced(BOOKING, Rules())
    assert plan(replace(BOOKING, canceled=True), Rules(), QUICKBOOKS, record).steps == (VoidInvoice(),)
    full = paid(BOOKING, "80.00")
    record, _ = synced(full, Rules())
    kept = plan(replace(full, canceled=True), Rules(), QUICKBOOKS, record)
    assert kept.writes_nothing
    assert rules_of(kept) == {Rule.CANCELED_PAID_KEPT}


def test_canceled_before_any_invoice_writes_nothing() -> None:
    result = plan(replace(BOOKING, canceled=True), Rules(), QUICKBOOKS, SyncRecord())
    assert result.writes_nothing
    assert rules_of(result) == {Rule.CANCELED_BEFORE_INVOICED}


def test_a_voided_invoice_is_left_alone() -> None:
    record, ledger = synced(BOOKING, Rules())
    canceled = replace(BOOKING, canceled=True)
    record = ledger.apply(plan(canceled, Rules(), QUICKBOOKS, record), canceled, record)
    result = plan(canceled, Rules(), QUICKBOOKS, record)
    assert result.writes_nothing
    assert rules_of(result) == {Rule.INVOICE_VOIDED}


def test_orders_follow_sync_orders() -> None:
    order = replace(BOOKING, kind=EventKind.ORDER, source_id=5001, item_key="order", description="Gift Certificate")
    assert kinds(plan(order, Rules(), QUICKBOOKS, SyncRecord())) == ["EnsureCustomer", "CreateInvoice"]
    off = plan(order, Rules(sync_orders=False), QUICKBOOKS, SyncRecord())
    assert off.writes_nothing
    assert rules_of(off) == {Rule.ORDERS_NOT_SYNCED}


def test_payments_off_records_none() -> None:
    result = plan(paid(BOOKING, "80.00"), Rules(sync_payments=False), QUICKBOOKS, SyncRecord())
    assert kinds(result) == ["EnsureCustomer", "CreateInvoice"]
    assert Rule.PAYMENTS_NOT_SYNCED in rules_of(result)


def test_a_client_without_email_is_never_emailed() -> None:
    anonymous = replace(BOOKING, client=replace(JANE, email=None))
    result = plan(anonymous, Rules(mode=Mode.SEND), QUICKBOOKS, SyncRecord())
    assert not any(isinstance(step, SendInvoice) for step in result.steps)
    assert Rule.NO_EMAIL_NOT_SENT in rules_of(result)


def test_a_ledger_that_cannot_email_explains_it() -> None:
    mute = replace(QUICKBOOKS, can_email_invoices=False)
    result = plan(BOOKING, Rules(mode=Mode.SEND), mute, SyncRecord())
    assert Rule.LEDGER_CANNOT_EMAIL in rules_of(result)


def test_draft_payment_where_only_approved_invoices_take_payments() -> None:
    full = paid(BOOKING, "80.00")
    approving = plan(full, Rules(approve_paid_drafts=True), XERO, SyncRecord())
    assert kinds(approving) == ["EnsureCustomer", "CreateInvoice", "ApproveInvoice", "RecordPayment"]
    assert not any(isinstance(step, SendInvoice) for step in approving.steps)
    skipping = plan(full, Rules(approve_paid_drafts=False), XERO, SyncRecord())
    assert kinds(skipping) == ["EnsureCustomer", "CreateInvoice"]
    assert Rule.PAYMENT_NEEDS_APPROVAL in rules_of(skipping)


def test_invoice_number_template() -> None:
    result = plan(BOOKING, Rules(invoice_number_template="ACU-{id}"), QUICKBOOKS, SyncRecord())
    create = result.steps[1]
    assert isinstance(create, CreateInvoice)
    assert create.number == "ACU-1001"
    assert plan(BOOKING, Rules(), QUICKBOOKS, SyncRecord()).steps[1] == CreateInvoice(create.lines, None)


def test_a_payment_arriving_later_is_recorded_once() -> None:
    record, ledger = synced(BOOKING, Rules())
    later = paid(BOOKING, "80.00")
    record = ledger.apply(plan(later, Rules(), QUICKBOOKS, record), later, record)
    assert ledger.payments == {"ch_0": Decimal("80.00")}
    assert plan(later, Rules(), QUICKBOOKS, record).writes_nothing
    assert ledger.payment_writes == 1


def test_approval_is_written_once() -> None:
    full = paid(BOOKING, "40.00")
    record, ledger = synced(full, Rules(), XERO)
    more = paid(BOOKING, "40.00", "40.00")
    result = plan(more, Rules(), XERO, record)
    assert ApproveInvoice() not in result.steps
    assert kinds(result) == ["RecordPayment"]
    assert ledger.invoices["I1"].approved
    assert UpdateInvoice not in {type(step) for step in result.steps}


def test_rules_come_from_the_validated_settings() -> None:
    assert Rules.from_settings(default_settings(LedgerName.QUICKBOOKS)) == Rules()
    xero = parse_settings(
        LedgerName.XERO, {"mode": "send", "tips": "separate_line", "xero": {"approve_paid_drafts": False}}
    )
    assert Rules.from_settings(xero) == Rules(mode=Mode.SEND, tips=TipHandling.SEPARATE_LINE, approve_paid_drafts=False)


def test_a_ledger_that_edits_paid_invoices_never_goes_below_what_was_paid() -> None:
    full = paid(BOOKING, "80.00")
    record, ledger = synced(full, Rules(), QUICKBOOKS)
    dearer = plan(replace(full, price=Decimal("95.00")), Rules(), QUICKBOOKS, record)
    assert [type(step) for step in dearer.steps] == [UpdateInvoice]  # up: the balance reopens
    cheaper = replace(full, price=Decimal("70.00"))
    lowered = plan(cheaper, Rules(), QUICKBOOKS, record)
    assert [type(step) for step in lowered.steps] == [IssueCreditNote]  # below the $80 paid: a credit note
    ledger.apply(lowered, cheaper, record)
    assert ledger.net == Decimal("70.00")
