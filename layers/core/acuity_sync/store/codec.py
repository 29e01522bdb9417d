"""Sync records and pending steps as JSON documents, for the table. Money travels as strings ("80.00"), never
as floats; dates as ISO strings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from acuity_sync.domain.billable import ReceivedPayment
from acuity_sync.domain.documents import InvoiceLine, LineKind
from acuity_sync.domain.record import SyncRecord, WrittenCreditNote, WrittenInvoice, WrittenPayment
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

Document = dict[str, Any]


def _line(line: InvoiceLine) -> Document:
    return {"description": line.description, "amount": str(line.amount), "kind": str(line.kind), "item": line.item_key}


def _line_from(document: Document) -> InvoiceLine:
    return InvoiceLine(
        document["description"], Decimal(document["amount"]), LineKind(document["kind"]), document["item"]
    )


def record_to_document(record: SyncRecord) -> Document:
    invoice = record.invoice
    return {
        "customer_id": record.customer_id,
        "invoice": None
        if invoice is None
        else {
            "id": invoice.invoice_id,
            "number": invoice.number,
            "txn_date": invoice.txn_date.isoformat(),
            "memo": invoice.memo,
            "lines": [_line(line) for line in invoice.lines],
            "emailed": invoice.emailed,
            "approved": invoice.approved,
            "voided": invoice.voided,
            "ledger_version": invoice.ledger_version,
        },
        "payments": [
            {"transaction_id": p.transaction_id, "payment_id": p.payment_id, "amount": str(p.amount)}
            for p in record.payments
        ],
        "credit_notes": [
            {"reference": n.reference, "credit_note_id": n.credit_note_id, "amount": str(n.amount)}
            for n in record.credit_notes
        ],
    }


def record_from_document(document: Document, version: int) -> SyncRecord:
    invoice = document.get("invoice")
    return SyncRecord(
        customer_id=document.get("customer_id"),
        invoice=None
        if invoice is None
        else WrittenInvoice(
            invoice_id=invoice["id"],
            number=invoice["number"],
            txn_date=date.fromisoformat(invoice["txn_date"]),
            memo=invoice["memo"],
            lines=tuple(_line_from(line) for line in invoice["lines"]),
            emailed=invoice["emailed"],
            approved=invoice["approved"],
            voided=invoice["voided"],
            ledger_version=invoice.get("ledger_version", ""),  # records written before it was kept: unknown
        ),
        payments=tuple(
            WrittenPayment(p["transaction_id"], p["payment_id"], Decimal(p["amount"]))
            for p in document.get("payments", [])
        ),
        credit_notes=tuple(
            WrittenCreditNote(n["reference"], n["credit_note_id"], Decimal(n["amount"]))
            for n in document.get("credit_notes", [])
        ),
        version=version,
    )


def step_to_document(step: Step) -> Document:
    match step:
        case CreateInvoice(
            lines=lines, number=number, txn_date=txn_date, customer_id=customer_id, memo=memo, approved=approved
        ):
            document: Document = {"step": "create_invoice", "lines": [_line(line) for line in lines], "number": number}
            if approved:
                document["approved"] = True
            if txn_date is not None:
                document["txn_date"] = txn_date.isoformat()
            if customer_id is not None:
                document["customer_id"] = customer_id
            if memo is not None:
                document["memo"] = memo
            return document
        case UpdateInvoice(lines=lines):
            return {"step": "update_invoice", "lines": [_line(line) for line in lines]}
        case RecordPayment(payment=payment, amount=amount):
            return {
                "step": "record_payment",
                "transaction_id": payment.transaction_id,
                "paid_amount": str(payment.amount),
                "paid_on": payment.paid_on.isoformat(),
                "amount": str(amount),
            }
        case IssueCreditNote(reference=reference, amount=amount, reason=reason):
            return {"step": "issue_credit_note", "reference": reference, "amount": str(amount), "reason": reason}
        case SendInvoice(email=email):
            return {"step": "send_invoice", "email": email}
        case EnsureCustomer():
            return {"step": "ensure_customer"}
        case ApproveInvoice():
            return {"step": "approve_invoice"}
        case VoidInvoice():
            return {"step": "void_invoice"}
    raise AssertionError(f"unknown step {step!r}")


def step_from_document(document: Document) -> Step:
    name = document["step"]
    if name == "create_invoice":
        sent_on = document.get("txn_date")
        return CreateInvoice(
            tuple(_line_from(line) for line in document["lines"]),
            document["number"],
            txn_date=date.fromisoformat(sent_on) if sent_on else None,
            customer_id=document.get("customer_id"),
            memo=document.get("memo"),
            approved=bool(document.get("approved", False)),
        )
    if name == "update_invoice":
        return UpdateInvoice(tuple(_line_from(line) for line in document["lines"]))
    if name == "record_payment":
        payment = ReceivedPayment(
            document["transaction_id"], Decimal(document["paid_amount"]), date.fromisoformat(document["paid_on"])
        )
        return RecordPayment(payment, Decimal(document["amount"]))
    if name == "issue_credit_note":
        return IssueCreditNote(document["reference"], Decimal(document["amount"]), document["reason"])
    if name == "send_invoice":
        return SendInvoice(document["email"])
    simple: dict[str, Step] = {
        "ensure_customer": EnsureCustomer(),
        "approve_invoice": ApproveInvoice(),
        "void_invoice": VoidInvoice(),
    }
    return simple[name]
