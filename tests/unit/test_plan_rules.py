"""Each named rule of the plan, one test each, with expectations written from DESIGN.md's settings section."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from acuity_sync.domain.billable import Billable, Client, CodeKind, ReceivedPayment
from acuity_sync.domain.documents import CompanyInfo, LineKind, TaxMode
from acuity_sync.domain.message import Origin
from acuity_sync.domain.names import EventKind, LedgerName
from acuity_sync.domain.record import SyncRecord
from acuity_sync.domain.settings import CustomerFields, Mode, TipHandling
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
from acuity_sync.sync.drafts import customer_draft, customer_key
from acuity_sync.sync.plan import (
    CustomerIdentity,
    CustomerMatch,
    Plan,
    Pricing,
    Rule,
    Rules,
    billed_price,
    customer_identity,
    plan,
)
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
    # Paid at once: created approved (Xero's PUT takes Status AUTHORISED), no approval of its own.
    assert kinds(approving) == ["EnsureCustomer", "CreateInvoice", "RecordPayment"]
    assert [step.approved for step in approving.steps if isinstance(step, CreateInvoice)] == [True]
    assert not any(isinstance(step, SendInvoice) for step in approving.steps)
    skipping = plan(full, Rules(approve_paid_drafts=False), XERO, SyncRecord())
    assert kinds(skipping) == ["EnsureCustomer", "CreateInvoice"]
    assert [step.approved for step in skipping.steps if isinstance(step, CreateInvoice)] == [False]
    assert Rule.PAYMENT_NEEDS_APPROVAL in rules_of(skipping)


def test_only_an_invoice_paid_or_emailed_at_once_is_created_approved() -> None:
    def created(billable: Billable, rules: Rules, company: CompanyInfo) -> bool:
        (create,) = [
            step for step in plan(billable, rules, company, SyncRecord()).steps if isinstance(step, CreateInvoice)
        ]
        return create.approved

    assert not created(BOOKING, Rules(), XERO)  # unpaid, in draft mode: a draft
    assert created(BOOKING, Rules(mode=Mode.SEND), XERO)  # e-mailed at once: Xero e-mails only approved invoices
    assert created(paid(BOOKING, "80.00"), Rules(mode=Mode.SEND), XERO)
    assert not created(paid(BOOKING, "80.00"), Rules(), QUICKBOOKS)  # a ledger that pays any invoice: no status
    assert not created(BOOKING, Rules(mode=Mode.SEND), QUICKBOOKS)


def test_a_draft_paid_later_is_approved_by_a_step_of_its_own() -> None:
    record, ledger = synced(BOOKING, Rules(), XERO)
    assert record.invoice is not None
    assert not record.invoice.approved
    later = paid(BOOKING, "80.00")
    result = plan(later, Rules(), XERO, record)
    assert kinds(result) == ["ApproveInvoice", "RecordPayment"]
    record = ledger.apply(result, later, record)
    assert ledger.invoices["I1"].approved
    assert plan(later, Rules(), XERO, record).writes_nothing


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


# --------------------------------------------------------------------------------------------- issue 9: money
CONNECTED = datetime(2026, 11, 20, 15, 30, 12, 500_000, tzinfo=UTC)
NEW_YORK = timezone(timedelta(hours=-5))


def notes_of(result: Plan) -> dict[Rule, str]:
    return {note.rule: note.detail for note in result.notes}


def test_booked_before_the_connection_is_not_synced_unless_backfilled() -> None:
    before = replace(BOOKING, created_at=datetime(2026, 11, 20, 10, 30, 11, tzinfo=NEW_YORK))  # 15:30:11 UTC
    result = plan(before, Rules(connected_at=CONNECTED), QUICKBOOKS, SyncRecord())
    assert result.steps == ()
    assert rules_of(result) == {Rule.BOOKED_BEFORE_CONNECTION}
    assert "booked on 2026-11-20 10:30" in result.skips[0].detail
    assert "connected (2026-11-20 15:30 UTC)" in result.skips[0].detail
    backfill = plan(before, Rules(connected_at=CONNECTED, backfill=True), QUICKBOOKS, SyncRecord())
    assert kinds(backfill) == ["EnsureCustomer", "CreateInvoice"]
    # Acuity writes datetimeCreated to the second: booked in the second the ledger was connected counts as after.
    same_second = replace(BOOKING, created_at=datetime(2026, 11, 20, 10, 30, 12, tzinfo=NEW_YORK))
    assert kinds(plan(same_second, Rules(connected_at=CONNECTED), QUICKBOOKS, SyncRecord())) == [
        "EnsureCustomer",
        "CreateInvoice",
    ]


def test_booked_before_the_connection_but_already_written_is_kept_in_step() -> None:
    """A backfilled appointment changes later (a webhook, not a backfill): its invoice is updated, not left."""
    before = replace(BOOKING, created_at=datetime(2026, 11, 1, 9, 0, tzinfo=NEW_YORK))
    record, _ = synced(before, Rules(connected_at=CONNECTED, backfill=True))
    moved = replace(before, service_date=date(2026, 12, 4), description="Massage, moved")
    assert kinds(plan(moved, Rules(connected_at=CONNECTED), QUICKBOOKS, record)) == ["UpdateInvoice"]


def test_sync_from_moves_the_start_by_the_calendars_days() -> None:
    created = replace(BOOKING, created_at=datetime(2026, 11, 1, 23, 30, tzinfo=NEW_YORK))  # Nov 2 in UTC
    earlier = Rules(connected_at=CONNECTED, sync_from=date(2026, 11, 1))
    assert kinds(plan(created, earlier, QUICKBOOKS, SyncRecord())) == ["EnsureCustomer", "CreateInvoice"]
    later = plan(created, Rules(connected_at=CONNECTED, sync_from=date(2026, 11, 2)), QUICKBOOKS, SyncRecord())
    assert rules_of(later) == {Rule.BOOKED_BEFORE_CONNECTION}
    assert "2026-11-02, the date the sync starts from (setting sync_from)" in later.skips[0].detail
    assert Rules.from_settings(
        parse_settings(LedgerName.XERO, {"sync_from": "2026-11-02"}), connected_at=CONNECTED, origin=Origin.BACKFILL
    ) == Rules(sync_from=date(2026, 11, 2), connected_at=CONNECTED, backfill=True)


def test_a_booking_without_a_creation_time_or_a_connection_time_is_not_held_back() -> None:
    assert kinds(plan(BOOKING, Rules(connected_at=CONNECTED), QUICKBOOKS, SyncRecord()))[-1] == "CreateInvoice"
    old = replace(BOOKING, created_at=datetime(2020, 1, 1, tzinfo=UTC))
    assert kinds(plan(old, Rules(), QUICKBOOKS, SyncRecord()))[-1] == "CreateInvoice"


@pytest.mark.parametrize("kind", [CodeKind.PACKAGE, CodeKind.GIFT, CodeKind.SUBSCRIPTION])
def test_a_prepaid_code_bills_zero_whatever_the_price_and_names_the_code(kind: CodeKind) -> None:
    coded = replace(BOOKING, code="PKG-10", code_kind=kind, price=Decimal("80.00"), price_sold=Decimal("80.00"))
    result = plan(coded, Rules(), QUICKBOOKS, SyncRecord())
    create = result.steps[1]
    assert isinstance(create, CreateInvoice)
    ((description, amount),) = [(line.description, line.amount) for line in create.lines]
    assert amount == Decimal("0.00")
    assert description == f"Massage (60 min), Dec 3 2026 3:00pm · paid with {kind} code PKG-10"
    assert notes_of(result)[Rule.PREPAID_CODE].startswith(f"paid with {kind} code PKG-10, invoiced when it was sold")
    off = plan(coded, Rules(invoice_free_appointments=False), QUICKBOOKS, SyncRecord())
    assert rules_of(off) == {Rule.FREE_NOT_INVOICED}  # a $0 appointment, as the setting means it


def test_a_prepaid_code_bills_only_what_was_paid_on_top_of_it() -> None:
    coded = paid(replace(BOOKING, code="GIFT-50", code_kind=CodeKind.GIFT), "30.00")
    record, ledger = synced(coded, Rules())
    assert ledger.net == Decimal("30.00")
    assert [(line.amount, line.description.split(" · ")[1]) for line in ledger.invoices["I1"].lines] == [
        (Decimal("30.00"), "gift code GIFT-50, $30.00 paid on top")
    ]
    assert plan(coded, Rules(), QUICKBOOKS, record).writes_nothing


def test_a_coupon_bills_the_price_after_the_discount() -> None:
    coupon = replace(BOOKING, code="SPRING20", code_kind=CodeKind.COUPON, price_sold=Decimal("64.00"))
    result = plan(coupon, Rules(), QUICKBOOKS, SyncRecord())
    create = result.steps[1]
    assert isinstance(create, CreateInvoice)
    assert [(line.amount, line.description.endswith("· coupon SPRING20")) for line in create.lines] == [
        (Decimal("64.00"), True)
    ]
    assert notes_of(result)[Rule.COUPON_DISCOUNT] == (
        "coupon SPRING20: billed at $64.00, the price after the discount (list price $80.00)"
    )
    dearer = replace(coupon, price_sold=Decimal("95.00"))  # never more than the price
    assert billed_price(dearer).amount == Decimal("80.00")
    assert billed_price(replace(coupon, price_sold=None)).amount == Decimal("80.00")


def test_a_code_acuity_does_not_know_bills_what_it_sold_for_and_says_so() -> None:
    unknown = replace(BOOKING, code="OLD-1", code_kind=CodeKind.UNKNOWN, price_sold=Decimal("70.00"))
    result = plan(unknown, Rules(), QUICKBOOKS, SyncRecord())
    assert billed_price(unknown).amount == Decimal("70.00")
    assert "code OLD-1 is not among Acuity's" in notes_of(result)[Rule.CODE_NOT_FOUND]
    not_looked_up = replace(BOOKING, code="PKG-10", code_kind=None)
    assert billed_price(not_looked_up) == Pricing(Decimal("80.00"))


def test_a_code_applied_after_the_invoice_updates_it_and_is_noted_once() -> None:
    record, _ = synced(BOOKING, Rules())
    coded = replace(BOOKING, code="PKG-10", code_kind=CodeKind.PACKAGE)
    result = plan(coded, Rules(), QUICKBOOKS, record)
    assert kinds(result) == ["UpdateInvoice"]
    assert set(notes_of(result)) == {Rule.PREPAID_CODE}
    assert plan(BOOKING, Rules(), QUICKBOOKS, record).notes == ()  # nothing written, nothing noted


def test_customer_fields_follow_the_settings() -> None:
    client = Client("Jane", "Doe", "jane@example.com", "555-0100", "private note", (("Allergies", "none"),))
    booked = replace(BOOKING, client=client)
    default = customer_draft(booked, CustomerFields())
    assert (default.phone, default.notes, default.form_answers) == ("555-0100", "", ())
    everything = customer_draft(booked, CustomerFields(phone=True, notes=True, intake_forms=True))
    assert (everything.phone, everything.notes, everything.form_answers) == (
        "555-0100",
        "private note",
        (("Allergies", "none"),),
    )
    nothing = customer_draft(booked, CustomerFields(phone=False))
    assert (nothing.first_name, nothing.last_name, nothing.email) == ("Jane", "Doe", "jane@example.com")
    assert (nothing.phone, nothing.notes, nothing.form_answers) == ("", "", ())
    result = plan(booked, Rules(customer_fields=CustomerFields(phone=False)), QUICKBOOKS, SyncRecord())
    assert notes_of(result)[Rule.CUSTOMER_FIELDS_OFF] == (
        "not copied to the customer, as the settings ask (customer_fields): phone, notes, intake-form answers"
    )


def test_a_client_without_email_is_matched_by_name_and_phone() -> None:
    walk_in = replace(BOOKING, client=Client("Sam", "Lee", None, "(555) 010-0199"))
    identity, note = customer_identity(walk_in, CustomerFields())
    assert identity == CustomerIdentity(CustomerMatch.NAME_AND_PHONE)
    assert note is not None
    assert note.rule is Rule.NO_EMAIL_MATCHED_BY_PHONE
    draft = customer_draft(walk_in, CustomerFields())
    assert (draft.display_name, draft.matches_by_phone) == ("Sam Lee", True)
    assert customer_key(draft) == "name-and-phone:sam lee:5550100199"
    assert Rule.NO_EMAIL_MATCHED_BY_PHONE in notes_of(plan(walk_in, Rules(), QUICKBOOKS, SyncRecord()))


def test_a_client_with_neither_email_nor_stored_phone_is_kept_apart() -> None:
    walk_in = replace(BOOKING, client=Client("Sam", "Lee", None, ""))
    draft = customer_draft(walk_in, CustomerFields())
    assert draft.display_name == "Sam Lee (Acuity appointment 1001)"
    assert customer_key(draft) is None  # its own customer: no claim, no cache
    detail = notes_of(plan(walk_in, Rules(), QUICKBOOKS, SyncRecord()))[Rule.NO_EMAIL_KEPT_APART]
    assert "Sam Lee has no e-mail and no phone in Acuity" in detail
    phone_off = replace(walk_in, client=Client("Sam", "Lee", None, "555-0199"))
    hidden = customer_draft(phone_off, CustomerFields(phone=False))
    assert (hidden.display_name, hidden.phone) == ("Sam Lee (Acuity appointment 1001)", "")
    hidden_notes = notes_of(
        plan(phone_off, Rules(customer_fields=CustomerFields(phone=False)), QUICKBOOKS, SyncRecord())
    )
    assert "a phone that is not stored (customer_fields.phone is off)" in hidden_notes[Rule.NO_EMAIL_KEPT_APART]
