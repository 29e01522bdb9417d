"""Invoices, payments and credit notes of an Organisation, with Xero's status rules (see entities.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from acuity_sync_toolkit.fakes.parameters import NotSupported
from acuity_sync_toolkit.fakes.xero.entities import EDITABLE, LINE_AMOUNT_TYPES, Organisation, matches, where_filter
from acuity_sync_toolkit.fakes.xero.values import (
    JsonObject,
    XeroError,
    day_string,
    money,
    ms_day,
    new_id,
    number,
    parse_day,
    stamp,
)

CREATE_STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED")
_TRANSITIONS = {
    "DRAFT": ("DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"),
    "SUBMITTED": ("DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"),
    "AUTHORISED": ("AUTHORISED", "VOIDED"),
}
_HIDDEN = "_"  # keys starting with this are the fake's own bookkeeping, never sent


def public(entity: JsonObject) -> JsonObject:
    return {key: value for key, value in entity.items() if not key.startswith(_HIDDEN)}


def _totals(document: JsonObject, subtotal: Decimal, tax: Decimal) -> None:
    document["_total"] = subtotal + tax
    document["SubTotal"] = number(subtotal)
    document["TotalTax"] = number(tax)
    document["Total"] = number(subtotal + tax)


def _refresh_amounts(invoice: JsonObject) -> None:
    paid: Decimal = invoice["_paid"]
    credited: Decimal = invoice["_credited"]
    due = invoice["_total"] - paid - credited
    invoice["AmountPaid"] = number(paid)
    invoice["AmountCredited"] = number(credited)
    invoice["AmountDue"] = number(due)


def save_invoice(org: Organisation, data: JsonObject, *, create_only: bool, now: datetime) -> JsonObject:
    invoice_id = data.get("InvoiceID")
    existing = org.invoices.get(str(invoice_id)) if invoice_id else None
    if invoice_id and existing is None:
        raise XeroError("Invoice could not be found", status=404 if not create_only else 400)
    if existing is None:
        return _create(org, data, now)
    if create_only:
        raise XeroError("An invoice with this InvoiceID already exists")
    return _update(org, existing, data, now)


def currency_of(org: Organisation, data: JsonObject, what: str) -> str:
    """The document's currency: the organisation's own (the fake keeps no other currencies or rates)."""
    currency = str(data.get("CurrencyCode") or org.base_currency)
    if currency != org.base_currency:
        raise XeroError(str(NotSupported("CurrencyCode", "field", (org.base_currency,), where=what, value=currency)))
    return currency


def _create(org: Organisation, data: JsonObject, now: datetime) -> JsonObject:
    if data.get("Type") != "ACCREC":
        raise XeroError("The fake Xero accepts only ACCREC (sales) invoices")
    status = data.get("Status", "DRAFT")
    if status not in CREATE_STATUSES:
        raise XeroError(f"Invoice cannot be created with status {status}")
    org.numbers += 1
    invoice: JsonObject = {
        "InvoiceID": new_id(),
        "Type": "ACCREC",
        "InvoiceNumber": data.get("InvoiceNumber") or f"INV-{org.numbers:04d}",
        "Reference": "",
        "SentToContact": False,
        "CurrencyCode": currency_of(org, data, "Invoice"),
        "CurrencyRate": 1.0,
        "HasErrors": False,
        "IsDiscounted": False,
        "HasAttachments": False,
        "Payments": [],
        "CreditNotes": [],
        "Prepayments": [],
        "Overpayments": [],
        "_paid": Decimal(0),
        "_credited": Decimal(0),
        "_status": "DRAFT",
    }
    _apply(org, invoice, {"Status": status, **data}, now)
    org.invoices[invoice["InvoiceID"]] = invoice
    org.contacts[invoice["Contact"]["ContactID"]]["IsCustomer"] = True  # Xero marks a contact with sales invoices
    return invoice


def _update(org: Organisation, invoice: JsonObject, data: JsonObject, now: datetime) -> JsonObject:
    current = invoice["Status"]
    if current not in EDITABLE:
        raise XeroError(f"Invoice not of valid status for modification: this invoice is {current}")
    wanted = data.get("Status", current)
    if wanted not in _TRANSITIONS[current]:
        raise XeroError(f"Invoice of status {current} cannot be changed to {wanted}")
    if current == "AUTHORISED" and invoice["_paid"] > 0:
        raise XeroError("Invoice not of valid status for modification: it has payments applied")
    if data.get("Type", "ACCREC") != "ACCREC":
        raise XeroError("The Type of an invoice cannot be changed")
    _apply(org, invoice, {**data, "Status": wanted}, now)
    return invoice


def _apply(org: Organisation, invoice: JsonObject, data: JsonObject, now: datetime) -> None:
    if "Contact" in data or "Contact" not in invoice:
        invoice["Contact"] = org.contact_of(data)
    amount_types = data.get("LineAmountTypes", invoice.get("LineAmountTypes", "Exclusive"))
    if amount_types not in LINE_AMOUNT_TYPES:
        raise XeroError(f"LineAmountTypes must be one of {', '.join(LINE_AMOUNT_TYPES)}")
    if "LineItems" in data or "LineItems" not in invoice or "LineAmountTypes" in data:
        lines, subtotal, tax = org.lines(data.get("LineItems", invoice.get("LineItems")), amount_types)
        invoice["LineItems"] = lines
        _totals(invoice, subtotal, tax)
    invoice["LineAmountTypes"] = amount_types
    for key in ("Date", "DueDate"):
        if key in data or key not in invoice:
            day = parse_day(data.get(key), key, now.date())
            invoice[key] = ms_day(day)
            invoice[f"{key}String"] = day_string(day)
            invoice[f"_{key}"] = day
    for key in ("Reference", "Url", "InvoiceNumber"):
        if key in data:
            invoice[key] = data[key]
    status = data["Status"]
    invoice["Status"] = status
    stamp(invoice, now)
    _refresh_amounts(invoice)
    if status in ("VOIDED", "DELETED"):
        invoice["AmountDue"] = 0.0


def find_invoices(org: Organisation, query: Mapping[str, Any]) -> list[JsonObject]:
    """GET /Invoices' filters, all of them at once: `where`, `Statuses`, `IDs`, `InvoiceNumbers`, `ContactIDs` and
    `searchTerm` ("a case-insensitive text search across the fields e.g. InvoiceNumber, Reference"). Deleted
    invoices only when a filter names their status."""
    pairs = where_filter(query.get("where"))
    statuses = set(query.get("Statuses") or ())
    ids = {str(item).lower() for item in query.get("IDs") or ()}
    numbers = set(query.get("InvoiceNumbers") or ())
    contacts = {str(item).lower() for item in query.get("ContactIDs") or ()}
    term = str(query.get("searchTerm") or "").lower()
    found = []
    for invoice in org.invoices.values():
        if invoice["Status"] == "DELETED" and "DELETED" not in statuses and not any(n == "Status" for n, _ in pairs):
            continue
        if statuses and invoice["Status"] not in statuses:
            continue
        if ids and invoice["InvoiceID"].lower() not in ids:
            continue
        if numbers and invoice["InvoiceNumber"] not in numbers:
            continue
        if contacts and invoice["Contact"]["ContactID"].lower() not in contacts:
            continue
        if term and not any(term in str(invoice.get(name) or "").lower() for name in ("InvoiceNumber", "Reference")):
            continue
        flat = {**invoice, "ContactID": invoice["Contact"]["ContactID"]}
        if matches(flat, pairs):
            found.append(invoice)
    return found


def email_invoice(org: Organisation, invoice_id: str) -> None:
    invoice = org.invoices.get(invoice_id)
    if invoice is None:
        raise XeroError("Invoice could not be found", status=404)
    if invoice["Status"] not in ("SUBMITTED", "AUTHORISED", "PAID"):
        raise XeroError(f"Invoice of status {invoice['Status']} cannot be emailed; approve it first")
    invoice["SentToContact"] = True
    org.emails.append(invoice_id)


def _invoice_ref(org: Organisation, ref: Any) -> JsonObject:
    ref = ref if isinstance(ref, dict) else {}
    for invoice in org.invoices.values():
        if invoice["InvoiceID"] == ref.get("InvoiceID") or (
            ref.get("InvoiceNumber") and invoice["InvoiceNumber"] == ref.get("InvoiceNumber")
        ):
            return invoice
    raise XeroError("Invoice could not be found")


def create_payment(org: Organisation, data: JsonObject, now: datetime) -> JsonObject:
    invoice = _invoice_ref(org, data.get("Invoice"))
    if invoice["Status"] != "AUTHORISED":
        raise XeroError("Payment can only be applied to an AUTHORISED invoice; this invoice is " + invoice["Status"])
    account = org.account(data.get("Account"), "Payment")
    if account["Type"] != "BANK" and not account.get("EnablePaymentsToAccount"):
        raise XeroError("Payments cannot be made to this account: it is not a BANK account nor enabled for payments")
    amount = money(data.get("Amount"), "Amount")
    due = invoice["_total"] - invoice["_paid"] - invoice["_credited"]
    if amount <= 0:
        raise XeroError("Payment amount must be greater than zero")
    if amount > due:
        raise XeroError("Payment amount exceeds the amount outstanding on this document")
    day = parse_day(data.get("Date"), "Date", now.date())
    payment: JsonObject = {
        "PaymentID": new_id(),
        "Date": ms_day(day),
        "BankAmount": number(amount),  # the bank account is in the organisation's currency, as every invoice here
        "Amount": number(amount),
        "Reference": data.get("Reference", ""),
        "CurrencyRate": 1.0,
        "IsReconciled": bool(data.get("IsReconciled", False)),
        "Status": "AUTHORISED",
        "PaymentType": "ACCRECPAYMENT",
        "HasAccount": True,
        "HasValidationErrors": False,
        # A codeless bank account (README: accounts without a code can be chosen) has no Code to show.
        "Account": {"AccountID": account["AccountID"], **({"Code": account["Code"]} if "Code" in account else {})},
        "Invoice": _summary(invoice),
    }
    stamp(payment, now)
    org.payments[payment["PaymentID"]] = payment
    invoice["_paid"] += amount
    invoice["Payments"].append(
        {
            "PaymentID": payment["PaymentID"],
            "Date": payment["Date"],
            "Amount": number(amount),
            "CurrencyRate": 1.0,
            "HasAccount": False,
            "HasValidationErrors": False,
        }
    )
    _settle(invoice, day, now)
    return payment


def _summary(invoice: JsonObject) -> JsonObject:
    """The invoice as a payment shows it (the spec's examples): no lines, its contact in brief."""
    return {
        "Type": invoice["Type"],
        "InvoiceID": invoice["InvoiceID"],
        "InvoiceNumber": invoice["InvoiceNumber"],
        "Prepayments": [],
        "Overpayments": [],
        "HasErrors": False,
        "IsDiscounted": False,
        "Contact": dict(invoice["Contact"]),
        "LineItems": [],
        "CurrencyCode": invoice["CurrencyCode"],
    }


def _settle(invoice: JsonObject, day: Any, now: datetime) -> None:
    _refresh_amounts(invoice)
    if invoice["_total"] - invoice["_paid"] - invoice["_credited"] <= 0:
        invoice["Status"] = "PAID"
        invoice["FullyPaidOnDate"] = ms_day(day)
    stamp(invoice, now)


def create_credit_note(org: Organisation, data: JsonObject, now: datetime) -> JsonObject:
    if data.get("Type") != "ACCRECCREDIT":
        raise XeroError("The fake Xero accepts only ACCRECCREDIT (sales) credit notes")
    status = data.get("Status", "DRAFT")
    if status not in CREATE_STATUSES:
        raise XeroError(f"Credit note cannot be created with status {status}")
    amount_types = data.get("LineAmountTypes", "Exclusive")
    if amount_types not in LINE_AMOUNT_TYPES:
        raise XeroError(f"LineAmountTypes must be one of {', '.join(LINE_AMOUNT_TYPES)}")
    lines, subtotal, tax = org.lines(data.get("LineItems"), amount_types)
    currency = currency_of(org, data, "CreditNote")
    day = parse_day(data.get("Date"), "Date", now.date())
    org.numbers += 1
    note_id = new_id()
    note: JsonObject = {
        "CreditNoteID": note_id,
        "CreditNoteNumber": data.get("CreditNoteNumber") or f"CN-{org.numbers:04d}",
        "ID": note_id,
        "Type": "ACCRECCREDIT",
        "Contact": org.contact_of(data),
        "Date": ms_day(day),
        "DateString": day_string(day),
        "Status": status,
        "LineAmountTypes": amount_types,
        "LineItems": lines,
        "Reference": data.get("Reference", ""),
        "CurrencyCode": currency,
        "CurrencyRate": 1.0,
        "Payments": [],
        "Allocations": [],
        "_used": Decimal(0),
    }
    stamp(note, now)
    _totals(note, subtotal, tax)
    note["RemainingCredit"] = note["Total"]
    org.credit_notes[note["CreditNoteID"]] = note
    return note


def allocate_credit(org: Organisation, note_id: str, data: JsonObject, now: datetime) -> JsonObject:
    note = org.credit_notes.get(note_id)
    if note is None:
        raise XeroError("Credit note could not be found", status=404)
    if note["Status"] != "AUTHORISED":
        raise XeroError("Only an AUTHORISED credit note can be allocated")
    invoice = _invoice_ref(org, data.get("Invoice"))
    if invoice["Status"] != "AUTHORISED":
        raise XeroError("A credit note can only be allocated to an AUTHORISED invoice")
    if invoice["Contact"]["ContactID"] != note["Contact"]["ContactID"]:
        raise XeroError("The credit note and the invoice must belong to the same contact")
    amount = money(data.get("Amount"), "Amount")
    due = invoice["_total"] - invoice["_paid"] - invoice["_credited"]
    remaining = note["_total"] - note["_used"]
    if amount <= 0 or amount > due or amount > remaining:
        raise XeroError("Allocation amount exceeds the amount outstanding on the invoice or the remaining credit")
    day = parse_day(data.get("Date"), "Date", now.date())
    allocation: JsonObject = {
        "AllocationID": new_id(),
        "Amount": number(amount),
        "Date": ms_day(day),
        "Invoice": {"InvoiceID": invoice["InvoiceID"], "InvoiceNumber": invoice["InvoiceNumber"]},
        "ValidationErrors": [],
    }
    note["_used"] += amount
    note["RemainingCredit"] = number(note["_total"] - note["_used"])
    if note["_total"] - note["_used"] <= 0:
        note["Status"] = "PAID"
    note["Allocations"].append(allocation)
    invoice["_credited"] += amount
    invoice["CreditNotes"].append({"CreditNoteID": note_id, "AppliedAmount": number(amount)})
    _settle(invoice, day, now)
    return allocation
