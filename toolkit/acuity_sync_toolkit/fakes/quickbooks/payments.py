"""Payments: received money applied to invoices of the same customer (quickbooks.md §1, "Payment linked to an
invoice").

- `Line[].LinkedTxn[{TxnId, TxnType: "Invoice"}]` applies `Line[].Amount` to the invoice: its Balance goes down
  and its LinkedTxn lists `{TxnId: <payment>, TxnType: "Payment"}` (the invoice is written, so its SyncToken goes
  up). An invoice of another customer is 620; more than the invoice's balance, or lines adding up to more than
  TotalAmt, is a business validation error (6000). Without lines the payment is unapplied (UnappliedAmt).
- Void is a sparse update with `include=void` (python-quickbooks VoidMixin): amounts go to 0, "Voided" goes
  before PrivateNote, the invoices are owed again. Delete does the same and removes the payment.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from acuity_sync_toolkit.fakes.quickbooks import faults
from acuity_sync_toolkit.fakes.quickbooks.entities import COMMON_FIELDS, Company
from acuity_sync_toolkit.fakes.quickbooks.jsontext import JsonObject, money
from acuity_sync_toolkit.fakes.quickbooks.values import (
    check_currency,
    check_fields,
    parse_amount,
    parse_date,
    sparse_flag,
)

PAYMENT_FIELDS = COMMON_FIELDS | {
    "TotalAmt", "CustomerRef", "Line", "TxnDate", "PaymentRefNum", "PrivateNote", "PaymentMethodRef",
    "DepositToAccountRef", "ARAccountRef", "CurrencyRef", "ExchangeRate", "UnappliedAmt", "ProcessPayment",
    "CreditCardPayment", "TxnSource", "TransactionLocationType", "LinkedTxn", "TxnStatus", "ProjectRef",
}  # fmt: skip
UNDEPOSITED_FUNDS = {"value": "4", "name": "Undeposited Funds"}  # the sandbox's account (batch__basic.yml)


def applied(company: Company, invoice: Mapping[str, Any]) -> Decimal:
    """What the payments linked to `invoice` apply to it."""
    total = Decimal(0)
    for link in invoice.get("LinkedTxn", []):
        payment = company.entities["Payment"].get(str(link.get("TxnId")))
        for line in (payment or {}).get("Line", []):
            if any(str(txn.get("TxnId")) == invoice["Id"] for txn in line.get("LinkedTxn", [])):
                total += Decimal(str(line.get("Amount", 0)))
    return total


# ------------------------------------------------------------------------------------------ payments


def write_payment(company: Company, body: Mapping[str, Any], *, void: bool = False) -> JsonObject:
    check_fields(body, PAYMENT_FIELDS, "Payment")
    stored = None if body.get("Id") in (None, "") else company.for_update("Payment", body)
    fields: dict[str, Any] = dict(stored) if stored is not None and (sparse_flag(body) or void) else {}
    fields.update(body)
    if stored is not None:
        _unapply(company, stored)
        company.adjust_balance(stored["CustomerRef"]["value"], Decimal(str(stored.get("TotalAmt", 0))))
    check_currency(company.currency, fields)
    customer = company.customer(fields.get("CustomerRef"))
    total = parse_amount(fields.get("TotalAmt"), "TotalAmt")
    if total is None:
        raise faults.required_param("TotalAmt")
    if total < 0:
        raise faults.business_validation("The payment amount cannot be negative.")
    lines = [] if void else _payment_lines(company, fields.get("Line"), customer["Id"])
    applied = sum((Decimal(str(line["Amount"])) for line in lines), Decimal(0))
    if applied > total:
        raise faults.business_validation("The amount applied to invoices exceeds the amount of the payment.")
    doc: JsonObject = {
        "CustomerRef": {"value": customer["Id"], "name": customer["DisplayName"]},
        "DepositToAccountRef": copy.deepcopy(fields.get("DepositToAccountRef") or UNDEPOSITED_FUNDS),
        "TotalAmt": Decimal(0) if void else money(total),
        "UnappliedAmt": Decimal(0) if void else money(total - applied),
        "ProcessPayment": False,
        "domain": "QBO",
        "sparse": False,
    }
    if stored is None:
        doc |= {"Id": company.new_id("Payment"), "SyncToken": "0", "MetaData": company.new_meta()}
    else:
        doc |= {key: copy.deepcopy(stored[key]) for key in ("Id", "SyncToken", "MetaData")}
    doc["TxnDate"] = (parse_date(fields.get("TxnDate"), "TxnDate") or company.today()).isoformat()
    doc["CurrencyRef"] = company.currency_ref()
    for key in ("PaymentRefNum", "PrivateNote"):
        if isinstance(fields.get(key), str):
            doc[key] = fields[key]
    if void:
        note = doc.get("PrivateNote")
        doc["PrivateNote"] = f"Voided - {note}" if note and not str(note).startswith("Voided") else note or "Voided"
    if fields.get("PaymentMethodRef"):
        doc["PaymentMethodRef"] = copy.deepcopy(fields["PaymentMethodRef"])
    doc["LinkedTxn"] = []
    doc["Line"] = lines
    company.entities["Payment"][doc["Id"]] = doc
    if stored is not None:
        company.touch(doc)
    _apply(company, doc)
    company.adjust_balance(customer["Id"], -Decimal(str(doc["TotalAmt"])))
    return doc


def _payment_lines(company: Company, raw: object, customer_id: str) -> list[JsonObject]:
    if raw in (None, ""):
        return []  # an unapplied payment (a credit on the customer's account)
    if not isinstance(raw, list):
        raise faults.invalid_property("Line", raw)
    lines: list[JsonObject] = []
    owed: dict[str, Decimal] = {}
    for entry in raw:
        amount = parse_amount(entry.get("Amount") if isinstance(entry, Mapping) else None, "Amount")
        links = entry.get("LinkedTxn") if isinstance(entry, Mapping) else None
        if amount is None or not isinstance(links, list) or not links:
            raise faults.required_param("Line.Amount" if amount is None else "Line.LinkedTxn")
        out_links = []
        for link in links:
            txn_id, txn_type = str(link.get("TxnId", "")), link.get("TxnType")
            if txn_type != "Invoice":
                raise faults.invalid_property("TxnType", txn_type)
            invoice = company.entities["Invoice"].get(txn_id)
            if invoice is None:
                raise faults.object_not_found()
            if invoice["CustomerRef"]["value"] != customer_id:
                raise faults.txn_cannot_be_linked(f"Invoice {txn_id} belongs to another customer.")
            owed.setdefault(txn_id, Decimal(str(invoice.get("Balance", 0))))
            owed[txn_id] -= amount
            if owed[txn_id] < 0:
                raise faults.business_validation(f"The amount applied exceeds the open balance of Invoice {txn_id}.")
            out_links.append({"TxnId": txn_id, "TxnType": "Invoice"})
        lines.append({"Amount": money(amount), "LinkedTxn": out_links})
    return lines


def _apply(company: Company, payment: JsonObject) -> None:
    for line in payment["Line"]:
        for link in line["LinkedTxn"]:
            invoice = company.entities["Invoice"][link["TxnId"]]
            invoice["Balance"] = money(Decimal(str(invoice["Balance"])) - Decimal(str(line["Amount"])))
            entry = {"TxnId": payment["Id"], "TxnType": "Payment"}
            if entry not in invoice.setdefault("LinkedTxn", []):
                invoice["LinkedTxn"].append(entry)
            company.touch(invoice)


def _unapply(company: Company, payment: JsonObject) -> None:
    for line in payment.get("Line", []):
        for link in line.get("LinkedTxn", []):
            invoice = company.entities["Invoice"].get(str(link.get("TxnId")))
            if invoice is None:
                continue
            invoice["Balance"] = money(Decimal(str(invoice["Balance"])) + Decimal(str(line["Amount"])))
            entry = {"TxnId": payment["Id"], "TxnType": "Payment"}
            invoice["LinkedTxn"] = [txn for txn in invoice.get("LinkedTxn", []) if txn != entry]
            company.touch(invoice)


def delete_payment(company: Company, body: Mapping[str, Any]) -> JsonObject:
    stored = company.for_update("Payment", body)
    _unapply(company, stored)
    company.adjust_balance(stored["CustomerRef"]["value"], Decimal(str(stored.get("TotalAmt", 0))))
    return company.remove("Payment", stored["Id"])
