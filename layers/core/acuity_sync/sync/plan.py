"""The plan: pure rules from (what Acuity says now, the tenant's rules for this ledger, what the ledger can
do, what we last wrote) to the steps that make the ledger agree, or a named rule that says why not.

No I/O here. Applying a plan and planning again gives no write step (tests/unit/test_plan_properties.py), and
the invoice always nets to the billed price (`billed_price`: Acuity's price, unless a code named by a rule says
otherwise): service lines minus credit notes, a separate tip line aside. Rules that shape what is written rather
than stop it (a code billed at $0, a client without an e-mail kept apart, fields left out of a customer) come
back as the plan's `notes`, for the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from acuity_sync.domain.billable import ZERO, Billable, CodeKind
from acuity_sync.domain.documents import CompanyInfo, InvoiceLine, LineKind, phone_digits
from acuity_sync.domain.message import Origin
from acuity_sync.domain.names import EventKind
from acuity_sync.domain.record import SyncRecord
from acuity_sync.domain.settings import CustomerFields, LedgerSettings, Mode, TipHandling, render_invoice_number
from acuity_sync.domain.steps import (
    ApproveInvoice,
    CreateInvoice,
    EnsureCustomer,
    IssueCreditNote,
    RecordPayment,
    SendInvoice,
    Step,
    UpdateInvoice,
    VoidInvoice,
)


# --------------------------------------------------------------------------------------------- rules in
@dataclass(frozen=True, slots=True)
class Rules:
    """The settings the plan reads (domain/settings.py holds the full, validated settings)."""

    mode: Mode = Mode.DRAFT
    invoice_free_appointments: bool = True
    sync_orders: bool = True
    update_on_change: bool = True
    sync_payments: bool = True
    tips: TipHandling = TipHandling.EXCLUDE
    approve_paid_drafts: bool = True  # where payments need an approved invoice (Xero) in draft mode
    invoice_number_template: str | None = None  # e.g. "ACU-{id}"
    customer_fields: CustomerFields = field(default_factory=CustomerFields)
    sync_from: date | None = None  # the owner's start (setting sync_from); None: the connection's time
    connected_at: datetime | None = None  # when this ledger was connected; None: unknown, nothing is held back
    backfill: bool = False  # asked for although booked before the sync's start (a message of Origin.BACKFILL)

    @classmethod
    def from_settings(
        cls, settings: LedgerSettings, *, connected_at: datetime | None = None, origin: Origin = Origin.WEBHOOK
    ) -> Rules:
        return cls(
            mode=settings.mode,
            invoice_free_appointments=settings.invoice_free_appointments,
            sync_orders=settings.sync_orders,
            update_on_change=settings.update_on_change,
            sync_payments=settings.sync_payments,
            tips=settings.tips,
            approve_paid_drafts=settings.approve_paid_drafts(),
            invoice_number_template=settings.invoice_number_template,
            customer_fields=settings.customer_fields,
            sync_from=settings.sync_from,
            connected_at=connected_at,
            backfill=origin is Origin.BACKFILL,
        )


class Rule(StrEnum):
    """Every decision not to write, by name: the audit trail and `explain` show these."""

    ORDERS_NOT_SYNCED = "orders_not_synced"
    CUSTOMER_ONLY_MODE = "customer_only_mode"
    FREE_NOT_INVOICED = "free_appointment_not_invoiced"
    CANCELED_BEFORE_INVOICED = "canceled_before_invoiced"
    CANCELED_PAID_KEPT = "canceled_paid_invoice_kept"
    INVOICE_VOIDED = "invoice_already_voided"
    CHANGES_NOT_SYNCED = "update_on_change_off"
    PAID_INVOICE_LOCKED = "paid_invoice_locked"
    PAYMENTS_NOT_SYNCED = "sync_payments_off"
    PAYMENT_NEEDS_APPROVAL = "payment_needs_approved_invoice"
    SURPLUS_EXCLUDED = "payment_surplus_excluded"
    NO_EMAIL_NOT_SENT = "no_email_never_sent"
    LEDGER_CANNOT_EMAIL = "ledger_cannot_email"
    BOOKED_BEFORE_CONNECTION = "booked_before_connection"
    # Rules that shape what is written (the plan's notes):
    PREPAID_CODE = "prepaid_code_billed_at_zero"
    COUPON_DISCOUNT = "coupon_billed_after_discount"
    CODE_NOT_FOUND = "code_not_found_in_acuity"
    CUSTOMER_FIELDS_OFF = "customer_fields_off"
    NO_EMAIL_MATCHED_BY_PHONE = "no_email_matched_by_name_and_phone"
    NO_EMAIL_KEPT_APART = "no_email_customer_kept_apart"


# --------------------------------------------------------------------------------------------- plans out
@dataclass(frozen=True, slots=True)
class Skip:
    rule: Rule
    detail: str  # in words a business owner understands


@dataclass(frozen=True, slots=True)
class Note:
    """A rule that shaped what is written (not why something was not): for the audit trail."""

    rule: Rule
    detail: str  # in words a business owner understands


@dataclass(frozen=True, slots=True)
class Plan:
    steps: tuple[Step, ...] = field(default=())
    skips: tuple[Skip, ...] = field(default=())
    notes: tuple[Note, ...] = field(default=())

    @property
    def writes_nothing(self) -> bool:
        return not self.steps


# --------------------------------------------------------------------------------------------- the rules
def money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def invoice_number(rules: Rules, billable: Billable) -> str | None:
    if rules.invoice_number_template is None:
        return None
    return render_invoice_number(rules.invoice_number_template, billable.source_id)


# --------------------------------------------------------------------------------------------- what is billed
@dataclass(frozen=True, slots=True)
class Pricing:
    amount: Decimal  # what the service line bills
    line_note: str = ""  # said on the service line after the appointment's description: the code and why
    note: Note | None = None


def billed_price(billable: Billable) -> Pricing:
    """What the appointment bills, by its code (`certificate`) and what Acuity's certificates API says it is.

    - A package, gift certificate or subscription code was paid for when it was sold (that order was invoiced):
      the appointment bills only what the client paid on top of it, $0 when the code covered it, whatever
      `price` says (rule prepaid_code_billed_at_zero).
    - A coupon bills the price after its discount: Acuity's `priceSold`, never more than `price`
      (rule coupon_billed_after_discount; the README says why priceSold).
    - A code Acuity does not know (any more) bills what Acuity says it sold for, as a coupon would, and says so
      (rule code_not_found_in_acuity).
    - No code, or one not looked up: Acuity's price."""
    code, kind, price = billable.code, billable.code_kind, billable.price
    if code is None or kind is None:
        return Pricing(price)
    sold = min(price, billable.price_sold) if billable.price_sold is not None else price
    if kind.prepaid:
        paid = billable.paid_total
        words = f"{kind} code {code}"
        if paid > ZERO:
            detail = (
                f"paid with {words}: billed only the {money(paid)} paid on top of it, not the price of {money(price)}"
            )
            return Pricing(paid, f"{words}, {money(paid)} paid on top", Note(Rule.PREPAID_CODE, detail))
        detail = f"paid with {words}, invoiced when it was sold: billed at $0.00, not the price of {money(price)}"
        return Pricing(ZERO, f"paid with {words}", Note(Rule.PREPAID_CODE, detail))
    if kind is CodeKind.COUPON:
        detail = f"coupon {code}: billed at {money(sold)}, the price after the discount (list price {money(price)})"
        return Pricing(sold, f"coupon {code}", Note(Rule.COUPON_DISCOUNT, detail))
    detail = (
        f"code {code} is not among Acuity's package, gift certificate, subscription or coupon codes (deleted?): "
        f"billed at {money(sold)}, what Acuity says it sold for"
    )
    return Pricing(sold, f"code {code}", Note(Rule.CODE_NOT_FOUND, detail))


def desired_lines(billable: Billable, rules: Rules) -> tuple[InvoiceLine, ...]:
    """The service line at the billed price (naming the code that set it), and with `separate_line` a tip line for
    what was paid beyond it."""
    pricing = billed_price(billable)
    description = f"{billable.description} · {pricing.line_note}" if pricing.line_note else billable.description
    lines = [InvoiceLine(description, pricing.amount, LineKind.SERVICE, billable.item_key)]
    surplus = billable.paid_total - pricing.amount
    if rules.sync_payments and rules.tips is TipHandling.SEPARATE_LINE and surplus > ZERO:
        lines.append(InvoiceLine("Tip", surplus, LineKind.TIP, billable.item_key))
    return tuple(lines)


# --------------------------------------------------------------------------------------------- the customer
class CustomerMatch(StrEnum):
    """How the ledger's customer for a client is found again."""

    EMAIL = "email"  # by e-mail, case-insensitive
    NAME_AND_PHONE = "name_and_phone"  # no e-mail: the same name and the same phone number
    KEPT_APART = "kept_apart"  # neither: a customer of its own, whose name says which booking made it


@dataclass(frozen=True, slots=True)
class CustomerIdentity:
    match: CustomerMatch
    name_suffix: str = ""  # for KEPT_APART: said after the name, e.g. "Acuity appointment 1000123"


@dataclass(frozen=True, slots=True)
class CustomerDetails:
    """What of the client's details goes to the ledger's customer (first name, last name and e-mail always do)."""

    phone: str
    notes: str
    form_answers: tuple[tuple[str, str], ...]
    note: Note | None  # rule customer_fields_off: what Acuity has that the settings leave out


def customer_details(billable: Billable, fields: CustomerFields) -> CustomerDetails:
    """Phone, notes and intake-form answers only when the tenant's customer_fields switch each on (notes can be
    private, intake forms can hold health details)."""
    client = billable.client
    left_out = [
        words
        for words, present, wanted in (
            ("phone", bool(client.phone.strip()), fields.phone),
            ("notes", bool(client.notes.strip()), fields.notes),
            ("intake-form answers", bool(client.form_answers), fields.intake_forms),
        )
        if present and not wanted
    ]
    note = None
    if left_out:
        note = Note(
            Rule.CUSTOMER_FIELDS_OFF,
            f"not copied to the customer, as the settings ask (customer_fields): {', '.join(left_out)}",
        )
    return CustomerDetails(
        phone=client.phone.strip() if fields.phone else "",
        notes=client.notes.strip() if fields.notes else "",
        form_answers=client.form_answers if fields.intake_forms else (),
        note=note,
    )


def customer_identity(billable: Billable, fields: CustomerFields) -> tuple[CustomerIdentity, Note | None]:
    """A client is the same customer by e-mail; without one, by name and phone (the phone must be stored, so
    customer_fields.phone must be on); with neither, never by name alone: the customer gets a name that tells
    it apart from any other client of that name."""
    client = billable.client
    if client.email:
        return CustomerIdentity(CustomerMatch.EMAIL), None
    name = f"{client.first_name} {client.last_name}".strip() or "the client"
    if fields.phone and phone_digits(client.phone):
        detail = f"{name} has no e-mail in Acuity: found by the same name and phone number, or added"
        return CustomerIdentity(CustomerMatch.NAME_AND_PHONE), Note(Rule.NO_EMAIL_MATCHED_BY_PHONE, detail)
    suffix = f"Acuity {billable.kind} {billable.source_id}"
    why = "no phone" if not phone_digits(client.phone) else "a phone that is not stored (customer_fields.phone is off)"
    detail = (
        f"{name} has no e-mail and {why} in Acuity: added as a customer of its own, named with ({suffix}), never "
        "merged with another client of the same name"
    )
    return CustomerIdentity(CustomerMatch.KEPT_APART, suffix), Note(Rule.NO_EMAIL_KEPT_APART, detail)


def plan(billable: Billable, rules: Rules, company: CompanyInfo, record: SyncRecord) -> Plan:
    finished = _nothing_to_write(billable, rules, record)
    if finished is not None:
        return Plan(skips=(finished,))
    made = _plan(billable, rules, company, record)
    return Plan(made.steps, made.skips, _notes(billable, rules, made.steps))


def _notes(billable: Billable, rules: Rules, steps: tuple[Step, ...]) -> tuple[Note, ...]:
    """The shaping rules behind the steps, for the audit trail: only when the plan writes what they shaped."""
    notes: list[Note | None] = []
    if any(isinstance(step, EnsureCustomer) for step in steps):
        notes.append(customer_identity(billable, rules.customer_fields)[1])
        notes.append(customer_details(billable, rules.customer_fields).note)
    if any(isinstance(step, CreateInvoice | UpdateInvoice) for step in steps):
        notes.append(billed_price(billable).note)
    return tuple(note for note in notes if note is not None)


def _plan(billable: Billable, rules: Rules, company: CompanyInfo, record: SyncRecord) -> Plan:
    steps: list[Step] = [EnsureCustomer()] if record.customer_id is None else []
    skips: list[Skip] = []
    no_invoice = _invoice_not_wanted(billable, rules, record)
    if no_invoice is not None:
        return Plan(tuple(steps), (no_invoice,))
    canceled_paid = billable.canceled and max(billable.paid_total, record.paid_total) > ZERO
    if billable.canceled and not canceled_paid:
        cancel = _cancellation(rules)
        return Plan((*steps, cancel), ()) if isinstance(cancel, VoidInvoice) else Plan(tuple(steps), (cancel,))
    if canceled_paid:
        # The money was received all the same: the invoice stays (or is made) and its payments are recorded.
        skips.append(
            Skip(
                Rule.CANCELED_PAID_KEPT,
                "canceled after it was paid: the invoice and payments stay (Acuity refunds nothing)",
            )
        )

    lines = desired_lines(billable, rules)
    credits: list[IssueCreditNote] = []
    create: CreateInvoice | None = None
    if record.invoice is None:
        create = CreateInvoice(lines, invoice_number(rules, billable))
        invoice_total = sum((line.amount for line in lines), ZERO)
    else:
        invoice_total = _reconcile_invoice(billable, rules, company, record, lines, steps, credits, skips)
    email_step = _email_step(billable, rules, company, record, skips)
    payments = _payment_steps(billable, rules, company, record, invoice_total, credits, skips)
    if create is not None:
        # Where payments (and e-mails) need an approved invoice (Xero), one paid or e-mailed at once is created
        # approved: no approval of its own, neither a step nor a call.
        paid_now = any(isinstance(step, RecordPayment) for step in payments)
        if company.payments_need_approved_invoice and (paid_now or email_step is not None):
            create = replace(create, approved=True)
            payments = [step for step in payments if not isinstance(step, ApproveInvoice)]
        steps.append(create)
    steps.extend(credits)
    if email_step is not None:
        steps.append(email_step)
    steps.extend(payments)
    return Plan(tuple(steps), tuple(skips))


def _nothing_to_write(billable: Billable, rules: Rules, record: SyncRecord) -> Skip | None:
    before = _booked_before_connection(billable, rules, record)
    if before is not None:
        return before
    if billable.kind is EventKind.ORDER and not rules.sync_orders:
        return Skip(Rule.ORDERS_NOT_SYNCED, "orders are not synced (setting sync_orders is off)")
    if billable.canceled and record.invoice is None and billable.paid_total == ZERO:
        return Skip(Rule.CANCELED_BEFORE_INVOICED, "canceled before any invoice was made, and nothing was paid")
    if record.invoice is not None and record.invoice.voided:
        return Skip(Rule.INVOICE_VOIDED, f"invoice {record.invoice.number} was voided")
    return None


def _booked_before_connection(billable: Billable, rules: Rules, record: SyncRecord) -> Skip | None:
    """Acuity's integrations sync from when they are set up: what was booked before this ledger was connected (or
    before the owner's sync_from date) is not written, unless a backfill asks for it. Something we already wrote
    for it (a backfill, an earlier sync_from) is kept in step. Acuity writes `datetimeCreated` to the second, so
    a booking made in the second the ledger was connected counts as after it."""
    created = billable.created_at
    if rules.backfill or created is None or record.customer_id is not None or record.invoice is not None:
        return None
    if rules.sync_from is not None:
        # The date as Acuity wrote it (the calendar's time zone): the owner thinks in the business's days.
        if created.date() >= rules.sync_from:
            return None
        since = f"{rules.sync_from.isoformat()}, the date the sync starts from (setting sync_from)"
    elif rules.connected_at is not None:
        if created >= rules.connected_at.replace(microsecond=0):
            return None
        since = f"this ledger was connected ({rules.connected_at:%Y-%m-%d %H:%M} UTC)"
    else:
        return None
    return Skip(
        Rule.BOOKED_BEFORE_CONNECTION,
        f"booked on {created:%Y-%m-%d %H:%M}, before {since}: not synced (a backfill, or an earlier sync_from, "
        "brings it in)",
    )


def _invoice_not_wanted(billable: Billable, rules: Rules, record: SyncRecord) -> Skip | None:
    if rules.mode is Mode.CUSTOMER_ONLY:
        return Skip(Rule.CUSTOMER_ONLY_MODE, "added as a customer only (mode customer_only)")
    free = billed_price(billable).amount == ZERO
    if record.invoice is None and free and not rules.invoice_free_appointments:
        return Skip(Rule.FREE_NOT_INVOICED, "a $0 appointment is not invoiced (invoice_free_appointments is off)")
    return None


def _cancellation(rules: Rules) -> VoidInvoice | Skip:
    if not rules.update_on_change:
        return Skip(Rule.CHANGES_NOT_SYNCED, "canceled, but update_on_change is off: the invoice is left")
    return VoidInvoice()


def _reconcile_invoice(
    billable: Billable,
    rules: Rules,
    company: CompanyInfo,
    record: SyncRecord,
    lines: tuple[InvoiceLine, ...],
    steps: list[Step],
    credits: list[IssueCreditNote],
    skips: list[Skip],
) -> Decimal:
    """Bring an existing invoice to Acuity's current state; returns the invoice total once the plan is applied."""
    invoice = record.invoice
    assert invoice is not None
    if lines == invoice.lines and billable.description == invoice.memo:
        return invoice.total
    if not rules.update_on_change:
        skips.append(Skip(Rule.CHANGES_NOT_SYNCED, "the appointment changed, but update_on_change is off"))
        return invoice.total
    # An invoice with payments is edited only where the ledger allows it, and never below what was paid
    # (QuickBooks refuses a total under the payments applied: 6000); a credited one is never edited.
    new_total = sum((line.amount for line in lines), ZERO)
    editable = not record.credit_notes and (
        not record.payments or (company.can_edit_paid_invoices and new_total >= record.paid_total)
    )
    if editable:
        steps.append(UpdateInvoice(lines))
        return new_total
    # A paid (or credited) invoice is not edited: a lower price becomes a credit note, so that the invoice
    # still nets to the billed price; a higher one is explained, never retried.
    net = invoice.service_total - record.credited_total
    price = billed_price(billable).amount
    if price < net:
        number = len(record.credit_notes) + 1
        credits.append(
            IssueCreditNote(
                f"{billable.reference}:credit:{number}",
                net - price,
                f"price lowered from {money(net)} to {money(price)}",
            )
        )
    elif price > net:
        skips.append(
            Skip(
                Rule.PAID_INVOICE_LOCKED,
                f"the price rose to {money(price)} after payment; the paid invoice ({money(net)}) is not changed",
            )
        )
    elif billable.description != invoice.memo or lines != invoice.lines:
        skips.append(
            Skip(Rule.PAID_INVOICE_LOCKED, "the appointment changed after payment; the paid invoice is not changed")
        )
    return invoice.total


def _email_step(
    billable: Billable, rules: Rules, company: CompanyInfo, record: SyncRecord, skips: list[Skip]
) -> SendInvoice | None:
    if rules.mode is not Mode.SEND or billable.canceled or (record.invoice is not None and record.invoice.emailed):
        return None
    if billable.client.email is None:
        skips.append(Skip(Rule.NO_EMAIL_NOT_SENT, "the client has no e-mail address, so the invoice is not sent"))
        return None
    if not company.can_email_invoices:
        skips.append(Skip(Rule.LEDGER_CANNOT_EMAIL, "this accounting app cannot e-mail invoices"))
        return None
    return SendInvoice(billable.client.email)


def _payment_steps(
    billable: Billable,
    rules: Rules,
    company: CompanyInfo,
    record: SyncRecord,
    invoice_total: Decimal,
    credits: list[IssueCreditNote],
    skips: list[Skip],
) -> list[Step]:
    """One ledger payment per Acuity payment, applied in order up to the invoice's balance."""
    unrecorded = [
        payment for payment in billable.payments_in_order() if record.payment_for(payment.transaction_id) is None
    ]
    if not unrecorded:
        return []
    if not rules.sync_payments:
        skips.append(Skip(Rule.PAYMENTS_NOT_SYNCED, "payments are not synced (setting sync_payments is off)"))
        return []
    approval: list[Step] = []
    approved = record.invoice is not None and record.invoice.approved
    if company.payments_need_approved_invoice and rules.mode is Mode.DRAFT and not approved:
        if not rules.approve_paid_drafts:
            skips.append(
                Skip(
                    Rule.PAYMENT_NEEDS_APPROVAL,
                    "the invoice is a draft and this accounting app pays "
                    "only approved invoices (approve_paid_drafts is off)",
                )
            )
            return []
        approval.append(ApproveInvoice())
    balance = invoice_total - record.paid_total - record.credited_total - sum((c.amount for c in credits), ZERO)
    recorded: list[Step] = []
    surplus = ZERO
    for payment in unrecorded:
        applied = min(payment.amount, max(balance, ZERO))
        surplus += payment.amount - applied
        if applied > ZERO:
            recorded.append(RecordPayment(payment, applied))
            balance -= applied
    if surplus > ZERO:
        skips.append(
            Skip(
                Rule.SURPLUS_EXCLUDED,
                f"{money(surplus)} paid beyond the invoice is not added to it (a tip or an overpayment)",
            )
        )
    return approval + recorded if recorded else []
