"""One FreshBooks business's state: clients, invoices, payments, credit notes, and the rules between them
(research xero_freshbooks.md §B1). Every method takes and returns the JSON objects the API speaks.

Line taxes: `taxAmount1`/`taxAmount2` are the tax's percentage, not an amount ("first tax amount in percentage, up
to 3 decimal places (i.e. "13.175")", freshbooks.com/api/credits; the CData driver says the same of invoice lines).
FreshBooks adds them on top of the lines: a line's `amount` stays qty x unit_cost and the document's `amount` is the
lines plus their taxes. Each line's tax is rounded half-up to the cent (the exact rounding rule is UNCONFIRMED; with
one taxed line per invoice, per-line and per-invoice rounding agree)."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from acuity_sync_toolkit.fakes.freshbooks import errors

Json = dict[str, Any]
CENT = Decimal("0.01")
# A client's fields kept as given (accepted.py: CLIENT_DATA) beside the names, e-mail, organization and currency.
CLIENT_DETAILS = (
    "note", "mob_phone", "bus_phone", "home_phone", "fax", "p_street", "p_street2", "p_city", "p_province", "p_code",
    "p_country", "s_street", "s_street2", "s_city", "s_province", "s_code", "s_country", "vat_name", "vat_number",
    "language",
)  # fmt: skip


def money(value: object, obj: str, name: str) -> Decimal:
    text = value.get("amount") if isinstance(value, Mapping) else value
    try:
        return Decimal(str(text)).quantize(CENT)
    except (InvalidOperation, ValueError):
        raise errors.invalid(obj, name, text) from None


def amount(value: Decimal, code: str) -> Json:
    return {"amount": f"{value.quantize(CENT)}", "code": code}


def _matches(record: Json, filters: Mapping[str, str]) -> bool:
    for name, wanted in filters.items():
        if name.endswith("_like"):
            if wanted.lower() not in str(record.get(name[: -len("_like")]) or "").lower():
                return False
        elif str(record.get(name)) != wanted:
            return False
    return True


@dataclass
class Business:
    account_id: str
    name: str
    currency: str = "USD"
    business_id: int = field(default_factory=lambda: 400000 + secrets.randbelow(99999))
    clients: dict[int, Json] = field(default_factory=dict)
    invoices: dict[int, Json] = field(default_factory=dict)
    payments: dict[int, Json] = field(default_factory=dict)
    credit_notes: dict[int, Json] = field(default_factory=dict)
    emails: list[Json] = field(default_factory=list)  # one per action_email: invoiceid, recipients, subject (body)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(10001))

    # ------------------------------------------------------------------ clients

    def create_client(self, data: Json, now: datetime) -> Json:
        names = ("fname", "lname", "email", "organization")
        if not any(str(data.get(name) or "").strip() for name in names):
            raise errors.required("client", "organization")
        new_id = next(self._ids)
        fname, lname, email = (str(data.get(name) or "") for name in ("fname", "lname", "email"))
        organization = str(data.get("organization") or f"{fname} {lname}".strip() or email)
        stamp = now.strftime("%Y-%m-%d %H:%M:%S")
        client: Json = {
            "accounting_systemid": self.account_id, "allow_email_include_pdf": False, "allow_late_fees": True,
            "allow_late_notifications": True, "bus_phone": "", "company_industry": None, "company_size": None,
            "currency_code": data.get("currency_code") or self.currency, "direct_link_token": None, "email": email,
            "fax": "", "fname": fname, "has_retainer": None, "home_phone": None, "id": new_id, "language": "en",
            "last_activity": None, "last_login": None, "level": 0, "lname": lname, "mob_phone": "",
            "note": data.get("note"), "notified": False, "num_logins": 0, "organization": organization,
            "p_city": "", "p_code": "", "p_country": "", "p_province": "", "p_street": "", "p_street2": "",
            "pref_email": True, "pref_gmail": False, "retainer_id": None, "role": "client", "s_city": "",
            "s_code": "", "s_country": "", "s_province": "", "s_street": "", "s_street2": "",
            "signup_date": stamp, "statement_token": None, "subdomain": None, "updated": stamp, "userid": new_id,
            "username": secrets.token_urlsafe(8), "uuid": _uuid(), "vat_name": None, "vat_number": None,
            "vis_state": 0,
        }  # fmt: skip
        for name in CLIENT_DETAILS:
            if name in data:
                client[name] = data[name]
        self.clients[new_id] = client
        return client

    def client(self, client_id: int) -> Json:
        found = self.clients.get(client_id)
        if found is None:
            raise errors.not_found("client", "userid", client_id)
        return found

    # ------------------------------------------------------------------ invoices

    def create_invoice(self, data: Json, now: datetime) -> Json:
        for name in ("customerid", "create_date"):
            if data.get(name) in (None, ""):
                raise errors.required("invoice", name)
        customer = self._customer(data["customerid"])
        code = str(data.get("currency_code") or customer["currency_code"])
        new_id = next(self._ids)
        invoice: Json = {
            "id": new_id, "invoiceid": new_id, "accountid": self.account_id, "accounting_systemid": self.account_id,
            "customerid": customer["id"], "create_date": data["create_date"], "currency_code": code,
            "invoice_number": str(data.get("invoice_number") or f"{len(self.invoices) + 1:07d}"),
            "po_number": data.get("po_number"), "notes": data.get("notes") or "", "terms": data.get("terms") or "",
            "fname": customer["fname"], "lname": customer["lname"], "organization": customer["organization"],
            "email": customer["email"], "due_offset_days": int(data.get("due_offset_days") or 0),
            "status": 1, "v3_status": "draft", "display_status": "draft", "payment_status": "unpaid",
            "vis_state": 0, "created_at": now.strftime("%Y-%m-%d %H:%M:%S"), "updated": "", "lines": [],
        }  # fmt: skip
        self._set_lines(invoice, data.get("lines") or [], code)
        self._touch(invoice, now)
        self.invoices[new_id] = invoice
        return invoice

    def invoice(self, invoice_id: int) -> Json:
        found = self.invoices.get(invoice_id)
        if found is None:
            raise errors.not_found("invoice", "invoiceid", invoice_id)
        return found

    def update_invoice(self, invoice_id: int, data: Json, now: datetime) -> tuple[Json, list[str] | None]:
        """FreshBooks' phases: vis_state > actions > data; a phase that applies drops the rest silently.
        Returns the invoice and, when it was e-mailed, the recipients."""
        invoice = self.invoice(invoice_id)
        if "vis_state" in data:
            state = data["vis_state"]
            if state not in (0, 1, 2):
                raise errors.invalid("invoice", "vis_state", state)
            invoice["vis_state"] = state
            self._touch(invoice, now)
            return invoice, None
        if invoice["vis_state"] == 1:
            raise errors.deleted("invoice", "invoiceid", invoice_id)
        if data.get("action_email") or data.get("action_mark_as_sent"):
            recipients: list[str] | None = None
            if data.get("action_email"):
                recipients = [str(r) for r in data.get("email_recipients") or [invoice["email"]] if r]
                if not recipients:
                    raise errors.required("invoice", "email_recipients")
                custom = data.get("invoice_customized_email") or {}
                subject = custom.get("subject") if isinstance(custom, dict) else None
                email: Json = {"invoiceid": invoice_id, "recipients": recipients, "subject": subject}
                if isinstance(custom, dict) and custom.get("body") is not None:
                    email["body"] = custom["body"]  # the e-mail's own words, when the request gave them
                self.emails.append(email)
            if invoice["v3_status"] == "draft":
                invoice.update(status=2, v3_status="sent", display_status="sent")
            self._touch(invoice, now)
            return invoice, recipients
        if "customerid" in data:
            invoice["customerid"] = self._customer(data["customerid"])["id"]
        for name in ("create_date", "invoice_number", "po_number", "notes", "terms", "due_offset_days"):
            if name in data:
                invoice[name] = data[name]
        if "lines" in data:
            self._set_lines(invoice, data["lines"] or [], invoice["currency_code"])
        self._touch(invoice, now)
        return invoice, None

    def search(self, records: Mapping[int, Json], filters: Mapping[str, str]) -> list[Json]:
        """Lists hold active and archived records unless `vis_state` is given: deleted ones only on request."""
        return [
            record
            for _, record in sorted(records.items())
            if _matches(record, filters) and ("vis_state" in filters or record.get("vis_state") != 1)
        ]

    # ------------------------------------------------------------------ payments and credit notes

    def create_payment(self, data: Json, now: datetime) -> Json:
        for name in ("invoiceid", "amount", "date"):
            if data.get(name) in (None, ""):
                raise errors.required("payment", name)
        invoice = self.invoice(_int(data["invoiceid"], "payment", "invoiceid"))
        if invoice["vis_state"] == 1:
            raise errors.deleted("invoice", "invoiceid", invoice["id"])
        value = money(data["amount"], "payment", "amount")
        _same_currency(data["amount"], invoice["currency_code"], "payment", "amount")
        if value <= 0:
            raise errors.invalid("payment", "amount", data["amount"])
        new_id = next(self._ids)
        payment: Json = {
            "id": new_id, "logid": new_id, "accounting_systemid": self.account_id, "clientid": invoice["customerid"],
            "invoiceid": invoice["id"], "amount": amount(value, invoice["currency_code"]), "date": data["date"],
            "type": data.get("type") or "Other", "note": data.get("note") or "", "vis_state": 0,
            "overpaymentid": None, "from_credit": False, "creditid": None, "updated": "",
        }  # fmt: skip
        self.payments[new_id] = payment
        self._touch(payment, now)
        self._recount(invoice, now)
        return payment

    def update_payment(self, payment_id: int, data: Json, now: datetime) -> Json:
        """Only `vis_state` (1 deletes the payment; the invoice's outstanding goes back up)."""
        payment = self.payments.get(payment_id)
        if payment is None:
            raise errors.not_found("payment", "paymentid", payment_id)
        state = data.get("vis_state")
        if state not in (0, 1, 2):
            raise errors.invalid("payment", "vis_state", state)
        payment["vis_state"] = state
        self._touch(payment, now)
        self._recount(self.invoice(payment["invoiceid"]), now)
        return payment

    def create_credit_note(self, data: Json, now: datetime) -> Json:
        for name in ("clientid", "create_date"):
            if data.get(name) in (None, ""):
                raise errors.required("credit_note", name)
        customer = self._customer(data["clientid"])
        code = str(data.get("currency_code") or customer["currency_code"])
        new_id = next(self._ids)
        note: Json = {
            "creditid": new_id, "id": new_id, "clientid": customer["id"], "create_date": data["create_date"],
            "currency_code": code, "credit_number": f"CN{len(self.credit_notes) + 1:05d}",
            "notes": data.get("notes") or "", "credit_type": data.get("credit_type") or "credit",
            "status": "draft", "vis_state": 0, "lines": [],
        }  # fmt: skip
        self._set_lines(note, data.get("lines") or [], code)
        self._touch(note, now)
        self.credit_notes[new_id] = note
        return note

    # ------------------------------------------------------------------ internals

    def _customer(self, value: object) -> Json:
        client = self.clients.get(_int(value, "invoice", "customerid"))
        if client is None:
            raise errors.not_found("client", "customerid", value)
        return client

    def _set_lines(self, record: Json, lines: object, code: str) -> None:
        if not isinstance(lines, list):
            raise errors.invalid("invoice", "lines", lines)
        built: list[Json] = []
        total = Decimal(0)
        for number, line in enumerate(lines, start=1):
            if not isinstance(line, dict):
                raise errors.invalid("line", "lines", line)
            cost = money(line.get("unit_cost", {"amount": "0"}), "line", "unit_cost")
            _same_currency(line.get("unit_cost"), code, "line", "unit_cost")
            qty = money(line.get("qty", 1), "line", "qty")
            line_amount = (cost * qty).quantize(CENT)
            total += line_amount
            shaped: Json = {
                "lineid": number, "type": int(line.get("type") or 0), "name": str(line.get("name") or ""),
                "description": str(line.get("description") or ""), "qty": str(qty.normalize()),
                "unit_cost": amount(cost, code), "amount": amount(line_amount, code),
            }  # fmt: skip
            for n in (1, 2):
                percent = _percent(line.get(f"taxAmount{n}"), f"taxAmount{n}")
                shaped[f"taxName{n}"] = line.get(f"taxName{n}")
                shaped[f"taxAmount{n}"] = None if percent is None else str(percent.normalize())
                if percent is not None:
                    total += (line_amount * percent / 100).quantize(CENT, ROUND_HALF_UP)
            built.append(shaped)
        record["lines"] = built
        record["amount"] = amount(total, code)
        if "invoiceid" in record:
            self._recount(record, None)

    def _recount(self, invoice: Json, now: datetime | None) -> None:
        total = money(invoice["amount"], "invoice", "amount")
        paid = sum(
            (money(p["amount"], "payment", "amount") for p in self.payments.values()
             if p["invoiceid"] == invoice["id"] and p["vis_state"] == 0),
            Decimal(0),
        )  # fmt: skip
        code = invoice["currency_code"]
        invoice["paid"] = amount(paid, code)
        invoice["outstanding"] = amount(max(total - paid, Decimal(0)), code)
        if paid == 0 and invoice["v3_status"] in ("paid", "partial"):
            invoice.update(status=2, v3_status="sent", display_status="sent", payment_status="unpaid")
        elif paid > 0 and paid >= total:
            invoice.update(status=4, v3_status="paid", display_status="sent", payment_status="paid")
        elif paid > 0:
            invoice.update(status=8, v3_status="partial", display_status="outstanding", payment_status="partial")
        if now is not None:
            self._touch(invoice, now)

    @staticmethod
    def _touch(record: Json, now: datetime) -> None:
        record["updated"] = now.strftime("%Y-%m-%d %H:%M:%S")


def _same_currency(value: object, code: str, obj: str, name: str) -> None:
    """A money object is in its document's currency: another `code` is refused, never read as the document's."""
    given = value.get("code") if isinstance(value, Mapping) else None
    if given not in (None, "", code):
        raise errors.invalid(obj, f"{name}.code", given, f"{name}.code {given} is not the {code} of its document")


def _percent(value: object, name: str) -> Decimal | None:
    """A line tax's percentage: a decimal string with up to three places, or nothing."""
    if value in (None, ""):
        return None
    try:
        percent = Decimal(str(value))
    except InvalidOperation:
        raise errors.invalid("line", name, value) from None
    if not percent.is_finite() or percent < 0 or percent != percent.quantize(Decimal("0.001")):
        raise errors.invalid("line", name, value)
    return percent


def _int(value: object, obj: str, name: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise errors.invalid(obj, name, value) from None


def _uuid() -> str:
    h = secrets.token_hex(16)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
