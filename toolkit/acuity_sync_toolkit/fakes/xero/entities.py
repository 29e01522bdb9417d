"""One Xero organisation: its chart of accounts, contacts, invoices, payments and credit notes, with Xero's rules.

Rules (../shared/research/xero_freshbooks.md A1.1-A1.6): a contact Name is unique among active contacts; an
invoice is created DRAFT, SUBMITTED or AUTHORISED; DRAFT/SUBMITTED may be edited, approved or DELETED; AUTHORISED
may be edited while unpaid and VOIDED while unpaid; PAID, VOIDED and DELETED invoices cannot be changed; only a
non-DRAFT invoice can be emailed; a payment goes to an AUTHORISED invoice, for at most its AmountDue, into a BANK
account or one with EnablePaymentsToAccount.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from acuity_sync_toolkit.fakes.parameters import NOT_SUPPORTED
from acuity_sync_toolkit.fakes.xero.accepted import CONTACT
from acuity_sync_toolkit.fakes.xero.values import (
    CENTS,
    JsonObject,
    XeroError,
    money,
    ms_date,
    new_id,
    number,
    parse_day,
)

TAX_RATES = {"OUTPUT": Decimal("0.15"), "NONE": Decimal(0), "TAX001": Decimal("0.10")}
LINE_AMOUNT_TYPES = ("Exclusive", "Inclusive", "NoTax")
EDITABLE = ("DRAFT", "SUBMITTED", "AUTHORISED")
SEARCHED = ("Name", "FirstName", "LastName", "ContactNumber", "EmailAddress")  # GET /Contacts?searchTerm=
HISTORY_DETAILS_LIMIT = 2500  # a history note's Details (as our adapter assumes: UNCONFIRMED)
_WHERE = re.compile(r'^\s*(\w+)\s*==\s*"([^"]*)"\s*$')
COMPUTED = frozenset(CONTACT.ignored)  # a contact's fields that Xero sets itself


def default_accounts() -> list[JsonObject]:
    def account(code: str | None, name: str, kind: str, cls: str, **extra: Any) -> JsonObject:
        found: JsonObject = {"AccountID": new_id(), "Name": name, "Type": kind, "Class": cls, "Status": "ACTIVE"}
        if code is not None:
            found["Code"] = code
        found.update({"TaxType": "NONE", "EnablePaymentsToAccount": False, **extra})
        return found

    return [
        account("200", "Sales", "REVENUE", "REVENUE", TaxType="OUTPUT"),
        account("210", "Appointments", "SALES", "REVENUE", TaxType="OUTPUT"),
        account("260", "Other Revenue", "REVENUE", "REVENUE", TaxType="OUTPUT"),
        account(None, "Business Bank Account", "BANK", "ASSET", BankAccountType="BANK"),
        account("090", "Checking Account", "BANK", "ASSET", BankAccountType="BANK"),
        account("610", "Accounts Receivable", "CURRENT", "ASSET", SystemAccount="DEBTORS"),
        account("880", "Owner Drawings", "CURRENT", "ASSET", EnablePaymentsToAccount=True),
        account("400", "Advertising", "OVERHEADS", "EXPENSE"),
    ]


def where_filter(where: str | None) -> list[tuple[str, str]]:
    """`EmailAddress=="a@b.c" AND Name=="x"` as (field, value) pairs; other syntax is refused."""
    if not where:
        return []
    pairs = []
    for clause in re.split(r"\s+AND\s+|&&", where):
        match = _WHERE.match(clause)
        if match is None:
            raise XeroError(f'The where clause {clause!r} is {NOT_SUPPORTED} (it applies Field=="value" clauses)')
        pairs.append((match.group(1), match.group(2)))
    return pairs


def matches(entity: JsonObject, pairs: list[tuple[str, str]]) -> bool:
    return all(str(entity.get(name, "")).lower() == value.lower() for name, value in pairs)


@dataclass
class Organisation:
    tenant_id: str
    name: str
    base_currency: str
    created: datetime
    accounts: list[JsonObject] = field(default_factory=default_accounts)
    contacts: dict[str, JsonObject] = field(default_factory=dict)
    invoices: dict[str, JsonObject] = field(default_factory=dict)
    payments: dict[str, JsonObject] = field(default_factory=dict)
    credit_notes: dict[str, JsonObject] = field(default_factory=dict)
    emails: list[str] = field(default_factory=list)  # InvoiceIDs emailed, in order
    history: dict[str, list[JsonObject]] = field(default_factory=dict)  # ContactID -> notes, oldest first
    numbers: int = 0

    def __post_init__(self) -> None:
        for account in self.accounts:
            account.setdefault("UpdatedDateUTC", ms_date(self.created))  # If-Modified-Since reads it

    def as_json(self) -> JsonObject:
        digest = hashlib.sha1(self.tenant_id.encode(), usedforsecurity=False).hexdigest()
        return {
            "OrganisationID": self.tenant_id,
            "Name": self.name,
            "LegalName": self.name,
            "BaseCurrency": self.base_currency,
            "CountryCode": "US" if self.base_currency == "USD" else "NZ",
            "OrganisationType": "COMPANY",
            "OrganisationStatus": "ACTIVE",
            "IsDemoCompany": False,
            "Version": "US" if self.base_currency == "USD" else "GLOBAL",
            "PaysTax": True,
            "CreatedDateUTC": ms_date(self.created),
            "Timezone": "UTC",
            # What the spec's example adds; lock dates are left out, as the fake locks no period.
            "APIKey": digest[:30].upper(),
            "TaxNumber": f"{int(digest, 16) % 10**9:09d}",
            "FinancialYearEndDay": 31,
            "FinancialYearEndMonth": 12 if self.base_currency == "USD" else 3,
            "SalesTaxBasis": "ACCRUALS",
            "SalesTaxPeriod": "QUARTERLY1",
            "DefaultSalesTax": "Tax Inclusive",
            "DefaultPurchasesTax": "Tax Inclusive",
            "OrganisationEntityType": "COMPANY",
            "ShortCode": f"!{self.tenant_id[:5]}",
            "Edition": "BUSINESS",
            "Class": "STANDARD",
            "Addresses": [],
            "Phones": [],
            "ExternalLinks": [],
            "PaymentTerms": {},
        }

    # ------------------------------------------------------------------ accounts

    def account(self, ref: Any, what: str) -> JsonObject:
        ref = ref if isinstance(ref, dict) else {}
        for account in self.accounts:
            if ref.get("AccountID") and account["AccountID"] == ref["AccountID"]:
                return account
            if ref.get("Code") and account.get("Code") == ref["Code"]:
                return account
        raise XeroError(f"{what}: Account could not be found")

    def account_by(self, account_id: Any, code: Any) -> JsonObject:
        return self.account({"AccountID": account_id, "Code": code}, "LineItem")

    # ------------------------------------------------------------------ contacts

    def save_contact(self, data: JsonObject, *, create_only: bool, now: datetime) -> JsonObject:
        contact_id = data.get("ContactID")
        existing = self.contacts.get(str(contact_id)) if contact_id else None
        if contact_id and existing is None:
            raise XeroError("Contact could not be found", status=404 if not create_only else 400)
        if existing is not None and create_only:
            raise XeroError("A contact with this ContactID already exists")
        name = data.get("Name", existing["Name"] if existing else None)
        if not name or not str(name).strip():
            raise XeroError("The contact name must be specified")
        for other in self.contacts.values():
            if other is not existing and other["ContactStatus"] == "ACTIVE" and other["Name"] == name:
                raise XeroError(
                    f"The contact name {name} is already assigned to another contact. "
                    "The contact name must be unique across all active contacts."
                )
        contact = existing or {
            "ContactID": new_id(),
            "ContactStatus": "ACTIVE",
            "IsSupplier": False,
            "IsCustomer": False,
            "Addresses": [],
            "Phones": [],
            "ContactGroups": [],
            "ContactPersons": [],
            "HasValidationErrors": False,
        }
        # What Xero computes itself (IsCustomer, UpdatedDateUTC...) is never stored as a client sent it.
        contact.update({key: value for key, value in data.items() if key != "ContactID" and key not in COMPUTED})
        contact["UpdatedDateUTC"] = ms_date(now)
        self.contacts[contact["ContactID"]] = contact
        return contact

    def add_history(self, contact_id: str, data: JsonObject, now: datetime) -> JsonObject:
        details = data.get("Details")
        if not isinstance(details, str) or not details.strip():
            raise XeroError("The note's Details must be given")
        if len(details) > HISTORY_DETAILS_LIMIT:
            raise XeroError(f"The note's Details must be at most {HISTORY_DETAILS_LIMIT} characters")
        record: JsonObject = {
            "Details": details,
            "Changes": "Note",
            "User": "Acuity Sync",
            "DateUTC": ms_date(now),
            "DateUTCString": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        }
        self.history.setdefault(contact_id, []).append(record)
        return record

    def find_contacts(self, where: str | None, search_term: str | None = None) -> list[JsonObject]:
        """`where` equalities, and `searchTerm`: "a case-insensitive text search across the Name, FirstName,
        LastName, ContactNumber and EmailAddress fields" (the spec's GET /Contacts)."""
        pairs = where_filter(where)
        term = (search_term or "").lower()
        return [
            contact
            for contact in self.contacts.values()
            if matches(contact, pairs)
            and (not term or any(term in str(contact.get(name, "")).lower() for name in SEARCHED))
        ]

    # ------------------------------------------------------------------ lines and totals

    def lines(self, data: Any, amount_types: str) -> tuple[list[JsonObject], Decimal, Decimal]:
        if not isinstance(data, list) or not data:
            raise XeroError("At least one line item is required")
        lines, subtotal, tax_total = [], Decimal(0), Decimal(0)
        for index, raw in enumerate(data):
            where = f"LineItems[{index}]"
            quantity = money(raw.get("Quantity", 1), f"{where}.Quantity")
            unit = self._unit_amount(raw, quantity, where)
            account = self.account_by(raw.get("AccountID"), raw.get("AccountCode"))
            tax_type = str(raw.get("TaxType") or account.get("TaxType", "NONE"))
            if tax_type not in TAX_RATES:
                raise XeroError(f"{where}: the TaxType code {tax_type} does not exist or cannot be used")
            rate = Decimal(0) if amount_types == "NoTax" else TAX_RATES[tax_type]
            amount = (quantity * unit).quantize(Decimal("0.01"))
            if amount_types == "Inclusive":
                tax = (amount - amount / (1 + rate)).quantize(Decimal("0.01"))
                net = amount - tax
            else:
                tax = (amount * rate).quantize(Decimal("0.01"))
                net = amount
            subtotal, tax_total = subtotal + net, tax_total + tax
            line: JsonObject = {
                "LineItemID": raw.get("LineItemID") or new_id(),
                "Description": raw.get("Description", ""),
                "Quantity": float(quantity),
                "UnitAmount": float(unit),
                "AccountCode": account.get("Code", ""),
                "AccountID": account["AccountID"],
                "TaxType": tax_type,
                "TaxAmount": number(tax),
                "LineAmount": number(amount),
                "Tracking": [],
                "ValidationErrors": [],
            }
            lines.append(line)
        return lines, subtotal, tax_total

    @staticmethod
    def _unit_amount(raw: JsonObject, quantity: Decimal, where: str) -> Decimal:
        """UnitAmount to two places (four only with `unitdp=4`, which the fake does not take); a LineAmount given
        alone sets it, and one given with it must agree with Quantity x UnitAmount."""
        line_amount = money(raw["LineAmount"], f"{where}.LineAmount") if "LineAmount" in raw else None
        if "UnitAmount" not in raw and line_amount is not None and quantity:
            return (line_amount / quantity).quantize(CENTS, rounding=ROUND_HALF_UP)
        unit = money(raw.get("UnitAmount", 0), f"{where}.UnitAmount").quantize(CENTS, rounding=ROUND_HALF_UP)
        if line_amount is not None and (quantity * unit).quantize(CENTS) != line_amount.quantize(CENTS):
            raise XeroError(f"{where}: the LineAmount {line_amount} is not the Quantity times the UnitAmount")
        return unit

    def contact_of(self, data: JsonObject) -> JsonObject:
        ref = data.get("Contact")
        contact_id = ref.get("ContactID") if isinstance(ref, dict) else None
        contact = self.contacts.get(str(contact_id))
        if contact is None:
            raise XeroError("The Contact could not be found; give its ContactID")
        return {
            "ContactID": contact["ContactID"],
            "Name": contact["Name"],
            "Addresses": [],
            "Phones": [],
            "ContactGroups": [],
            "ContactPersons": [],
            "HasValidationErrors": False,
        }

    def today(self, now: datetime) -> date:
        return now.date()

    def parse_date(self, value: Any, field_name: str, now: datetime) -> str:
        return str(parse_day(value, field_name, self.today(now)))
