"""Invoices and credit memos (sales documents): create, update, void, delete, send.

Rules from quickbooks.md §1 and the recordings:

- The server numbers the lines, fills in ItemRef.name, adds the SubTotalLineDetail line, TxnTaxDetail, DocNumber
  (when absent: the next free number from 1001), DueDate (TxnDate + 30 days), CurrencyRef (the company's),
  CustomerRef.name, and copies the customer's BillAddr/ShipAddr (create__invoice.yml). It does not copy the
  customer's e-mail into BillEmail (create__invoice.yml: the customer has one, the invoice none).
- An update names Id and SyncToken (stale: 5010). `sparse: true` changes only what is sent (a `Line` replaces
  every line); without it, the fields left out go back to their defaults.
- Void zeroes every amount and quantity and puts "Voided" before PrivateNote (void__invoice.yml); refused while a
  payment is applied (community reports). Delete answers `{"domain", "status": "Deleted", "Id"}`.
- No tax engine: TotalTax is always 0, whatever GlobalTaxCalculation says.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from acuity_sync_toolkit.fakes.parameters import NotSupported
from acuity_sync_toolkit.fakes.quickbooks import faults
from acuity_sync_toolkit.fakes.quickbooks.entities import COMMON_FIELDS, Company
from acuity_sync_toolkit.fakes.quickbooks.jsontext import JsonObject, meta_time, money
from acuity_sync_toolkit.fakes.quickbooks.payments import applied
from acuity_sync_toolkit.fakes.quickbooks.values import (
    check_currency,
    check_fields,
    parse_amount,
    parse_date,
    parse_enum,
    ref_value,
    sparse_flag,
)

_SALES_FIELDS = COMMON_FIELDS | {
    "Line", "CustomerRef", "TxnDate", "DocNumber", "PrivateNote", "BillEmail", "BillEmailCc", "BillEmailBcc",
    "CustomerMemo", "GlobalTaxCalculation", "TxnTaxDetail", "BillAddr", "ShipAddr", "ShipFromAddr", "CurrencyRef",
    "ExchangeRate", "ClassRef", "DepartmentRef", "SalesTermRef", "CustomField", "PrintStatus", "EmailStatus",
    "ApplyTaxAfterDiscount", "TotalAmt", "Balance", "HomeBalance", "HomeTotalAmt", "LinkedTxn", "TxnSource",
    "TransactionLocationType", "TaxExemptionRef", "AutoDocNumber", "FreeFormAddress", "ShipMethodRef",
    "ShipDate", "TrackingNum", "DeliveryInfo", "RecurDataRef", "TxnStatus", "Tag", "ProjectRef", "PONumber",
}  # fmt: skip
INVOICE_FIELDS = _SALES_FIELDS | {
    "DueDate", "AllowIPNPayment", "AllowOnlinePayment", "AllowOnlineCreditCardPayment", "AllowOnlineACHPayment",
    "Deposit", "DepositToAccountRef", "InvoiceLink", "PaymentMethodRef", "PaymentRefNum",
}  # fmt: skip
CREDIT_MEMO_FIELDS = _SALES_FIELDS | {"RemainingCredit", "PaymentMethodRef", "PaymentRefNum", "DepositToAccountRef"}

EMAIL_STATUSES = ("NotSet", "NeedToSend", "EmailSent")
PRINT_STATUSES = ("NotSet", "NeedToPrint", "PrintComplete")
TAX_CALCULATIONS = ("TaxInclusive", "TaxExcluded", "NotApplicable")
DOC_NUMBER_MAX = 21
_ALLOW_FLAGS = ("AllowIPNPayment", "AllowOnlinePayment", "AllowOnlineCreditCardPayment", "AllowOnlineACHPayment")
_COPIED = ("CustomerMemo",)  # as sent (the other references a sale may carry are refused: accepted.py)


def _lines(company: Company, raw: object, old: list[JsonObject], tax_code_required: bool) -> list[JsonObject]:
    """The lines as stored (ids kept for lines that name an existing one), then the subtotal line."""
    if not isinstance(raw, list) or not raw:
        raise faults.required_param("Line")
    old_ids = {str(line.get("Id")) for line in old if line.get("Id") is not None}
    next_id = max((int(i) for i in old_ids if i.isdigit()), default=0) + 1
    out: list[JsonObject] = []
    subtotal = Decimal(0)
    for entry in raw:
        if not isinstance(entry, Mapping):
            raise faults.invalid_property("Line", entry)
        if entry.get("DetailType") == "SubTotalLineDetail":
            continue  # always recomputed
        line_id = str(entry.get("Id"))
        if line_id not in old_ids:
            line_id, next_id = str(next_id), next_id + 1
        line = _line(company, entry, {"Id": line_id, "LineNum": len(out) + 1}, subtotal)
        if line["DetailType"] == "SalesItemLineDetail":
            if tax_code_required and "TaxCodeRef" not in line["SalesItemLineDetail"]:
                raise faults.business_validation("Make sure all your transactions have a VAT rate before you save.")
            subtotal += line["Amount"]
        out.append(line)
    out.append({"Amount": money(subtotal), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
    return out


def _line(company: Company, entry: Mapping[str, Any], line: JsonObject, subtotal: Decimal) -> JsonObject:
    kind = entry.get("DetailType")
    if isinstance(entry.get("Description"), str):
        line["Description"] = entry["Description"]
    amount = parse_amount(entry.get("Amount"), "Amount")
    if kind == "SalesItemLineDetail":
        if amount is None:
            raise faults.required_param("Amount")
        return line | {"Amount": money(amount), "DetailType": kind, kind: _sales_detail(company, entry, amount)}
    if kind == "DescriptionOnly":
        return line | {
            "DetailType": kind,
            "DescriptionLineDetail": copy.deepcopy(entry.get("DescriptionLineDetail", {})),
        }
    if kind == "DiscountLineDetail":
        detail = dict(entry.get(kind) or {})
        percent = parse_amount(detail.get("DiscountPercent"), "DiscountPercent")
        if detail.get("PercentBased") and percent is not None:
            amount = subtotal * percent / 100
        return line | {"Amount": money(amount or Decimal(0)), "DetailType": kind, kind: detail}
    raise faults.invalid_property("DetailType", kind)


def _sales_detail(company: Company, entry: Mapping[str, Any], amount: Decimal) -> JsonObject:
    given = entry.get("SalesItemLineDetail") or {}
    if not isinstance(given, Mapping):
        raise faults.invalid_property("SalesItemLineDetail", given)
    item = company.item(given.get("ItemRef"))
    qty, unit_price = parse_amount(given.get("Qty"), "Qty"), parse_amount(given.get("UnitPrice"), "UnitPrice")
    if qty and unit_price and money(qty * unit_price) != money(amount):
        raise faults.amount_mismatch(amount)
    detail: JsonObject = {}
    service_date = parse_date(given.get("ServiceDate"), "ServiceDate")
    if service_date is not None:
        detail["ServiceDate"] = service_date.isoformat()
    detail["ItemRef"] = {"value": item["Id"], "name": item["Name"]}
    if unit_price is not None:
        detail["UnitPrice"] = unit_price
    if qty is not None:
        detail["Qty"] = qty
    tax_code = ref_value(given.get("TaxCodeRef"))
    if tax_code is not None:
        detail["TaxCodeRef"] = {"value": tax_code}
    elif company.country == "US":
        detail["TaxCodeRef"] = {"value": "NON"}
    return detail


def _fields(company: Company, entity: str, body: Mapping[str, Any]) -> tuple[JsonObject | None, dict[str, Any]]:
    """The stored document an update names (None on create) and the fields the write works from."""
    stored = None if body.get("Id") in (None, "") else company.for_update(entity, body)
    fields: dict[str, Any] = dict(stored) if stored is not None and sparse_flag(body) else {}
    fields.update(body)
    for kept in ("DocNumber", "TxnDate"):  # assigned by the server: a full update leaving them out keeps them
        if stored is not None and fields.get(kept) in (None, ""):
            fields[kept] = stored.get(kept)
    check_currency(company.currency, fields)
    return stored, fields


def _sales_document(
    company: Company, entity: str, body: Mapping[str, Any], allowed: frozenset[str], allow_duplicate: bool
) -> JsonObject:
    """The document an invoice or credit memo write produces (not yet stored), before entity-specific fields."""
    check_fields(body, allowed, entity)
    stored, fields = _fields(company, entity, body)
    customer = company.customer(fields.get("CustomerRef"))
    tax_calc = parse_enum(fields.get("GlobalTaxCalculation"), TAX_CALCULATIONS, "GlobalTaxCalculation", None)
    tax_code_required = company.country != "US" and tax_calc != "NotApplicable"
    lines = _lines(company, fields.get("Line"), (stored or {}).get("Line", []), tax_code_required)
    doc: JsonObject = {key: bool(fields.get(key, False)) for key in _ALLOW_FLAGS} if entity == "Invoice" else {}
    doc |= {"domain": "QBO", "sparse": False}
    if stored is None:
        doc |= {"Id": company.new_id(entity), "SyncToken": "0", "MetaData": company.new_meta()}
    else:
        doc |= {key: copy.deepcopy(stored[key]) for key in ("Id", "SyncToken", "MetaData")}
    if company.custom_fields or fields.get("CustomField"):
        doc["CustomField"] = _custom_fields(company, fields.get("CustomField"))
    doc["DocNumber"] = _doc_number(company, entity, fields.get("DocNumber"), doc["Id"], allow_duplicate)
    doc["TxnDate"] = (parse_date(fields.get("TxnDate"), "TxnDate") or company.today()).isoformat()
    doc["CurrencyRef"] = company.currency_ref()
    if isinstance(fields.get("PrivateNote"), str):
        doc["PrivateNote"] = fields["PrivateNote"]
    if entity == "Invoice":
        doc["LinkedTxn"] = copy.deepcopy((stored or {}).get("LinkedTxn", []))
    doc |= {"Line": lines, "TxnTaxDetail": {"TotalTax": Decimal(0)}}
    doc["CustomerRef"] = {"value": customer["Id"], "name": customer["DisplayName"]}
    for key in (*_COPIED, "BillAddr", "ShipAddr"):
        source = fields if fields.get(key) not in (None, "") else customer if key in ("BillAddr", "ShipAddr") else {}
        if source.get(key) not in (None, ""):
            doc[key] = copy.deepcopy(source[key])
    if entity == "Invoice":
        due = parse_date(fields.get("DueDate"), "DueDate") or date.fromisoformat(doc["TxnDate"]) + timedelta(days=30)
        doc["DueDate"] = due.isoformat()
    if tax_calc is not None:
        doc["GlobalTaxCalculation"] = tax_calc
    return _finish(doc, fields, stored)


def _finish(doc: JsonObject, fields: Mapping[str, Any], stored: JsonObject | None) -> JsonObject:
    """Totals, print and e-mail status."""
    lines = doc["Line"]
    discounts = [line["Amount"] for line in lines if line["DetailType"] == "DiscountLineDetail"]
    doc["TotalAmt"] = money(lines[-1]["Amount"] - sum(discounts, Decimal(0)))
    doc["ApplyTaxAfterDiscount"] = False
    doc["PrintStatus"] = parse_enum(fields.get("PrintStatus"), PRINT_STATUSES, "PrintStatus", "NeedToPrint")
    doc["EmailStatus"] = parse_enum(fields.get("EmailStatus"), EMAIL_STATUSES, "EmailStatus", "NotSet")
    bill_email = fields.get("BillEmail")
    if isinstance(bill_email, Mapping) and bill_email.get("Address"):
        doc["BillEmail"] = {"Address": str(bill_email["Address"])}
    elif doc["EmailStatus"] == "NeedToSend":
        raise faults.required_param("BillEmail")
    if stored is not None and "DeliveryInfo" in stored:
        doc["DeliveryInfo"] = copy.deepcopy(stored["DeliveryInfo"])
    return doc


def _custom_fields(company: Company, given: object) -> list[JsonObject]:
    values = {
        str(entry.get("DefinitionId")): entry.get("StringValue")
        for entry in (given if isinstance(given, list) else [])
        if isinstance(entry, Mapping)
    }
    defined = [str(index) for index in range(1, len(company.custom_fields) + 1)]
    for definition in values:
        if definition not in defined:  # a custom field the company does not define is refused, never dropped
            raise faults.not_supported(NotSupported(f"CustomField {definition}", "custom field", defined))
    out: list[JsonObject] = []
    for index, name in enumerate(company.custom_fields, start=1):
        entry: JsonObject = {"DefinitionId": str(index), "Name": name, "Type": "StringType"}
        if values.get(str(index)) not in (None, ""):
            entry["StringValue"] = values[str(index)]
        out.append(entry)
    return out


def _doc_number(company: Company, entity: str, given: object, own_id: str, allow_duplicate: bool) -> str:
    if given is None or given == "":
        return company.next_doc_number()
    number = str(given)
    if len(number) > DOC_NUMBER_MAX:
        raise faults.string_too_long("DocNumber", DOC_NUMBER_MAX, len(number))
    if not allow_duplicate:
        for other in company.entities[entity].values():
            if other["Id"] != own_id and str(other.get("DocNumber")) == number:
                raise faults.duplicate_doc_number(number, entity, other["Id"])
    return number


def _store(company: Company, entity: str, doc: JsonObject, old: JsonObject | None) -> JsonObject:
    company.entities[entity][doc["Id"]] = doc
    if old is not None:
        company.touch(doc)
    return doc


# ------------------------------------------------------------------------------------------ invoices


def write_invoice(company: Company, body: Mapping[str, Any], *, allow_duplicate: bool = False) -> JsonObject:
    """Create, or update (sparse or full); `allow_duplicate` is `include=allowduplicatedocnum`."""
    old = company.entities["Invoice"].get(str(body.get("Id"))) if body.get("Id") not in (None, "") else None
    old_balance = Decimal(str(old["Balance"])) if old else Decimal(0)
    old_customer = str(old["CustomerRef"]["value"]) if old else ""
    doc = _sales_document(company, "Invoice", body, INVOICE_FIELDS, allow_duplicate)
    paid = applied(company, doc)
    if paid > Decimal(str(doc["TotalAmt"])):
        raise faults.business_validation("The invoice total would be less than the payments applied to it.")
    if paid and old is not None and old_customer != doc["CustomerRef"]["value"]:
        raise faults.txn_cannot_be_linked("an invoice with payments applied cannot change customer")
    doc["Balance"] = money(Decimal(str(doc["TotalAmt"])) - paid)
    _store(company, "Invoice", doc, old)
    company.adjust_balance(old_customer, -old_balance)
    company.adjust_balance(doc["CustomerRef"]["value"], Decimal(str(doc["Balance"])))
    return doc


def void_invoice(company: Company, body: Mapping[str, Any]) -> JsonObject:
    stored = company.for_update("Invoice", body)
    if applied(company, stored) > 0:
        raise faults.business_validation("This invoice has a payment applied to it. Delete the payment first.")
    company.adjust_balance(stored["CustomerRef"]["value"], -Decimal(str(stored.get("Balance", 0))))
    _zero(stored)
    if stored["Id"] not in company.voided:
        note = stored.get("PrivateNote")
        voided = f"Voided - {note}" if isinstance(note, str) and note else "Voided"
        ordered = {}
        for key, value in stored.items():
            if key != "PrivateNote":
                ordered[key] = value
            if key == "CurrencyRef":
                ordered["PrivateNote"] = voided
        stored.clear()
        stored.update(ordered)
        company.voided.add(stored["Id"])
    company.touch(stored)
    return stored


def _zero(document: JsonObject) -> None:
    """Void: every amount and quantity becomes 0."""
    for line in document.get("Line", []):
        if "Amount" in line:
            line["Amount"] = Decimal(0)
        detail = line.get("SalesItemLineDetail")
        if isinstance(detail, dict) and "Qty" in detail:
            detail["Qty"] = Decimal(0)
        for txn in line.get("LinkedTxn", []):
            txn.pop("Amount", None)
    for key in ("TotalAmt", "Balance", "UnappliedAmt", "RemainingCredit"):
        if key in document:
            document[key] = Decimal(0)
    if "TxnTaxDetail" in document:
        document["TxnTaxDetail"]["TotalTax"] = Decimal(0)


def delete_transaction(company: Company, entity: str, body: Mapping[str, Any]) -> JsonObject:
    """Delete an invoice (refused while a payment is applied) or a credit memo."""
    stored = company.for_update(entity, body)
    if entity == "Invoice":
        if applied(company, stored) > 0:
            raise faults.business_validation(
                "You must unlink any linked transactions associated with the invoice object before deleting it."
            )
        company.adjust_balance(stored["CustomerRef"]["value"], -Decimal(str(stored.get("Balance", 0))))
    else:
        company.adjust_balance(stored["CustomerRef"]["value"], Decimal(str(stored.get("RemainingCredit", 0))))
    return company.remove(entity, stored["Id"])


def send_invoice(company: Company, invoice_id: str, send_to: str | None) -> JsonObject:
    stored = company.get("Invoice", invoice_id)
    address = send_to or (stored.get("BillEmail") or {}).get("Address")
    if not address:
        raise faults.required_param("BillEmail")
    if send_to:
        stored["BillEmail"] = {"Address": send_to}
    stored["EmailStatus"] = "EmailSent"
    stored["DeliveryInfo"] = {"DeliveryType": "Email", "DeliveryTime": meta_time(company.now())}
    company.touch(stored)
    company.emails.append({"invoice_id": stored["Id"], "to": address, "at": meta_time(company.now())})
    return stored


# ------------------------------------------------------------------------------------------ credit memos


def write_credit_memo(company: Company, body: Mapping[str, Any], *, allow_duplicate: bool = False) -> JsonObject:
    old = company.entities["CreditMemo"].get(str(body.get("Id"))) if body.get("Id") not in (None, "") else None
    doc = _sales_document(company, "CreditMemo", body, CREDIT_MEMO_FIELDS, allow_duplicate)
    doc["Balance"] = doc["RemainingCredit"] = doc["TotalAmt"]
    if old is not None:
        company.adjust_balance(old["CustomerRef"]["value"], Decimal(str(old.get("RemainingCredit", 0))))
    company.adjust_balance(doc["CustomerRef"]["value"], -Decimal(str(doc["RemainingCredit"])))
    return _store(company, "CreditMemo", doc, old)
