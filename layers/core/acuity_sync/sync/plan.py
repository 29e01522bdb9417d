"""The plan: pure rules from (what Acuity says now, the tenant's rules for this ledger, what the ledger can
do, what we last wrote) to the steps that make the ledger agree, or a named rule that says why not.

No I/O here. Applying a plan and planning again gives no write step (tests/unit/test_plan_properties.py), and
the invoice always nets to Acuity's price: service lines minus credit notes, a separate tip line aside.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from acuity_sync.domain.billable import ZERO, Billable
from acuity_sync.domain.documents import CompanyInfo, InvoiceLine, LineKind
from acuity_sync.domain.names import EventKind
from acuity_sync.domain.record import SyncRecord
from acuity_sync.domain.settings import LedgerSettings, Mode, TipHandling, render_invoice_number
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

    @classmethod
    def from_settings(cls, settings: LedgerSettings) -> Rules:
        return cls(
            mode=settings.mode,
            invoice_free_appointments=settings.invoice_free_appointments,
            sync_orders=settings.sync_orders,
            update_on_change=settings.update_on_change,
            sync_payments=settings.sync_payments,
            tips=settings.tips,
            approve_paid_drafts=settings.approve_paid_drafts(),
            invoice_number_template=settings.invoice_number_template,
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


# --------------------------------------------------------------------------------------------- plans out
@dataclass(frozen=True, slots=True)
class Skip:
    rule: Rule
    detail: str  # in words a business owner understands


@dataclass(frozen=True, slots=True)
class Plan:
    steps: tuple[Step, ...] = field(default=())
    skips: tuple[Skip, ...] = field(default=())

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


def desired_lines(billable: Billable, rules: Rules) -> tuple[InvoiceLine, ...]:
    """The service line at Acuity's price, and with `separate_line` a tip line for what was paid beyond it."""
    lines = [InvoiceLine(billable.description, billable.price, LineKind.SERVICE, billable.item_key)]
    surplus = billable.paid_total - billable.price
    if rules.sync_payments and rules.tips is TipHandling.SEPARATE_LINE and surplus > ZERO:
        lines.append(InvoiceLine("Tip", surplus, LineKind.TIP, billable.item_key))
    return tuple(lines)


def plan(billable: Billable, rules: Rules, company: CompanyInfo, record: SyncRecord) -> Plan:
    finished = _nothing_to_write(billable, rules, record)
    if finished is not None:
        return Plan(skips=(finished,))
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
    if record.invoice is None:
        steps.append(CreateInvoice(lines, invoice_number(rules, billable)))
        invoice_total = sum((line.amount for line in lines), ZERO)
    else:
        invoice_total = _reconcile_invoice(billable, rules, company, record, lines, steps, credits, skips)
    email_step = _email_step(billable, rules, company, record, skips)
    payments = _payment_steps(billable, rules, company, record, invoice_total, credits, skips)
    steps.extend(credits)
    if email_step is not None:
        steps.append(email_step)
    steps.extend(payments)
    return Plan(tuple(steps), tuple(skips))


def _nothing_to_write(billable: Billable, rules: Rules, record: SyncRecord) -> Skip | None:
    if billable.kind is EventKind.ORDER and not rules.sync_orders:
        return Skip(Rule.ORDERS_NOT_SYNCED, "orders are not synced (setting sync_orders is off)")
    if billable.canceled and record.invoice is None and billable.paid_total == ZERO:
        return Skip(Rule.CANCELED_BEFORE_INVOICED, "canceled before any invoice was made, and nothing was paid")
    if record.invoice is not None and record.invoice.voided:
        return Skip(Rule.INVOICE_VOIDED, f"invoice {record.invoice.number} was voided")
    return None


def _invoice_not_wanted(billable: Billable, rules: Rules, record: SyncRecord) -> Skip | None:
    if rules.mode is Mode.CUSTOMER_ONLY:
        return Skip(Rule.CUSTOMER_ONLY_MODE, "added as a customer only (mode customer_only)")
    if record.invoice is None and billable.price == ZERO and not rules.invoice_free_appointments:
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
    # still nets to Acuity's price; a higher one is explained, never retried.
    net = invoice.service_total - record.credited_total
    if billable.price < net:
        number = len(record.credit_notes) + 1
        credits.append(
            IssueCreditNote(
                f"{billable.reference}:credit:{number}",
                net - billable.price,
                f"price lowered from {money(net)} to {money(billable.price)}",
            )
        )
    elif billable.price > net:
        skips.append(
            Skip(
                Rule.PAID_INVOICE_LOCKED,
                f"the price rose to {money(billable.price)} after payment; "
                f"the paid invoice ({money(net)}) is not changed",
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
