"""One QuickBooks Online company's state: its entities as QBO renders them, ids, SyncTokens, names, items.

Entities are stored as the JSON QBO answers with (key order as recorded), money as Decimal, `Id` and `SyncToken` as
strings, `MetaData` times in the company's zone. Ids come from three sequences, as the sandbox shows: names
(Customer; create__customer.yml's 70 is followed by batch__basic.yml's Vendor 71), items, and transactions
(Invoice, Payment and CreditMemo share one). A deleted entity leaves the store for `deleted` (kept for the
admin view); reading it is 610.

Invoices, payments and credit memos are written by `transactions.py`; this module holds what they share.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.quickbooks import faults
from acuity_sync_toolkit.fakes.quickbooks.jsontext import JsonObject, local_date, meta_time
from acuity_sync_toolkit.fakes.quickbooks.values import check_currency, check_fields, ref_value, sparse_flag

ENTITIES = ("Customer", "Item", "Invoice", "Payment", "CreditMemo")
RESOURCES = {entity.lower(): entity for entity in ENTITIES}  # the path's lowercase name -> the entity
_SEQUENCE = {"Customer": "name", "Item": "item", "Invoice": "txn", "Payment": "txn", "CreditMemo": "txn"}

CURRENCY_NAMES = {
    "USD": "United States Dollar",
    "CAD": "Canadian Dollar",
    "GBP": "British Pound Sterling",
    "EUR": "Euro",
    "AUD": "Australian Dollar",
    "NZD": "New Zealand Dollar",
    "INR": "Indian Rupee",
    "ZAR": "South African Rand",
}

# Fields every entity accepts on a write (read-only ones are ignored).
COMMON_FIELDS = frozenset({"Id", "SyncToken", "MetaData", "domain", "sparse", "status"})
CUSTOMER_FIELDS = COMMON_FIELDS | {
    "Title", "GivenName", "MiddleName", "FamilyName", "Suffix", "DisplayName", "FullyQualifiedName", "CompanyName",
    "PrintOnCheckName", "Active", "PrimaryPhone", "AlternatePhone", "Mobile", "Fax", "PrimaryEmailAddr", "WebAddr",
    "BillAddr", "ShipAddr", "OtherAddr", "Notes", "Job", "BillWithParent", "ParentRef", "Level", "Taxable",
    "Balance", "BalanceWithJobs", "OpenBalanceDate", "CurrencyRef", "PreferredDeliveryMethod", "ResaleNum",
    "DefaultTaxCodeRef", "SalesTermRef", "PaymentMethodRef", "TaxExemptionReasonId", "ARAccountRef",
    "PrimaryTaxIdentifier", "SecondaryTaxIdentifier", "BusinessNumber", "GSTIN", "GSTRegistrationType",
    "IsProject", "ClientEntityId", "CustomerTypeRef", "Source", "V4IDPseudonym", "TaxRegistrationNumber",
}  # fmt: skip
_CUSTOMER_READ_ONLY = frozenset({"Balance", "BalanceWithJobs", "FullyQualifiedName", "Level", "V4IDPseudonym"})
_NAME_PARTS = ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")
ITEM_FIELDS = COMMON_FIELDS | {
    "Name", "Sku", "Description", "Active", "SubItem", "ParentRef", "Level", "FullyQualifiedName", "Taxable",
    "SalesTaxIncluded", "UnitPrice", "Type", "IncomeAccountRef", "PurchaseDesc", "PurchaseTaxIncluded",
    "PurchaseCost", "ExpenseAccountRef", "AssetAccountRef", "TrackQtyOnHand", "QtyOnHand", "InvStartDate",
    "SalesTaxCodeRef", "PurchaseTaxCodeRef", "ClassRef", "Source", "TaxClassificationRef",
}  # fmt: skip
ITEM_TYPES = ("Service", "NonInventory", "Inventory", "Category", "Group", "Bundle")


class Company:
    """A company (realm) and everything in it. Not thread-safe: the server serialises access."""

    def __init__(
        self,
        realm_id: str,
        clock: FakeClock,
        *,
        name: str,
        country: str,
        currency: str,
        automated_sales_tax: bool,
        custom_fields: Iterable[str] = (),
        admin_user: str = "Sandbox Admin",
    ) -> None:
        self.realm_id = realm_id
        self.clock = clock
        self.name = name
        self.country = country
        self.currency = currency
        self.automated_sales_tax = automated_sales_tax
        self.custom_fields = tuple(custom_fields)
        self.admin_user = admin_user
        self.created = clock.now()
        self.entities: dict[str, dict[str, JsonObject]] = {entity: {} for entity in ENTITIES}
        self.deleted: dict[str, dict[str, JsonObject]] = {entity: {} for entity in ENTITIES}
        self.emails: list[JsonObject] = []
        self.voided: set[str] = set()  # ids of voided transactions
        self._next = {"name": 1, "item": 1, "txn": 1, "address": 1, "doc": 1001}
        self.seed("Item", self._services_item())

    # ------------------------------------------------------------------ ids, metadata, lookups

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        return local_date(self.now())

    def new_id(self, entity: str) -> str:
        kind = _SEQUENCE[entity]
        value = self._next[kind]
        self._next[kind] = value + 1
        return str(value)

    def next_address_id(self) -> str:
        value = self._next["address"]
        self._next["address"] = value + 1
        return str(value)

    def next_doc_number(self) -> str:
        used = {str(txn.get("DocNumber")) for txn in self.entities["Invoice"].values()}
        while str(self._next["doc"]) in used:
            self._next["doc"] += 1
        value = self._next["doc"]
        self._next["doc"] = value + 1
        return str(value)

    def new_meta(self) -> JsonObject:
        stamp = meta_time(self.now())
        return {"CreateTime": stamp, "LastUpdatedTime": stamp}

    def touch(self, stored: JsonObject) -> None:
        """A write: SyncToken goes up by one, LastUpdatedTime moves to now."""
        stored["SyncToken"] = str(int(str(stored.get("SyncToken", "0"))) + 1)
        stored.setdefault("MetaData", self.new_meta())["LastUpdatedTime"] = meta_time(self.now())

    def snapshot(self) -> bytes:
        """Everything a write may change, to `restore` when the write fails half-way. Taken before every write:
        pickled, which copies these plain documents several times faster than a deepcopy (a soak's companies hold
        thousands of documents)."""
        return pickle.dumps(
            (self.entities, self.deleted, self.emails, self.voided, self._next), pickle.HIGHEST_PROTOCOL
        )

    def restore(self, snapshot: bytes) -> None:
        self.entities, self.deleted, self.emails, self.voided, self._next = pickle.loads(snapshot)  # noqa: S301 - our own bytes

    def seed(self, entity: str, document: Mapping[str, Any]) -> JsonObject:
        """Store `document` as given (prior state for a test); an Id is assigned when it has none."""
        if entity not in self.entities:
            raise ValueError(f"unknown entity {entity!r}")
        stored = copy.deepcopy(dict(document))
        stored.setdefault("Id", self.new_id(entity))
        stored["Id"] = str(stored["Id"])
        stored.setdefault("SyncToken", "0")
        stored.setdefault("MetaData", self.new_meta())
        if str(stored["Id"]).isdigit():
            kind = _SEQUENCE[entity]
            self._next[kind] = max(self._next[kind], int(stored["Id"]) + 1)
        self.entities[entity][stored["Id"]] = stored
        return stored

    def get(self, entity: str, entity_id: object) -> JsonObject:
        """The stored entity (not a copy); 2030 for an id that is not a number, 610 when there is none."""
        text = str(entity_id)
        if not text.isdigit():
            raise faults.invalid_id(text)
        stored = self.entities[entity].get(str(int(text)))
        if stored is None:
            raise faults.object_not_found()
        return stored

    def for_update(self, entity: str, body: Mapping[str, Any]) -> JsonObject:
        """The entity an update names by Id, after checking its SyncToken (missing: 2020; stale: 5010)."""
        stored = self.get(entity, body.get("Id"))
        token = body.get("SyncToken")
        if token is None or token == "":
            raise faults.required_param("SyncToken")
        if str(token) != str(stored.get("SyncToken")):
            raise faults.stale_object(self.admin_user)
        return stored

    def remove(self, entity: str, entity_id: str) -> JsonObject:
        stored = self.entities[entity].pop(entity_id)
        stored["status"] = "Deleted"
        self.deleted[entity][entity_id] = stored
        return {"domain": "QBO", "status": "Deleted", "Id": entity_id}

    def currency_ref(self) -> JsonObject:
        return {"value": self.currency, "name": CURRENCY_NAMES.get(self.currency, self.currency)}

    def customer(self, ref: object) -> JsonObject:
        """The customer a CustomerRef names: 2020 when missing, 2500 when unknown, 610 when inactive."""
        value = ref_value(ref)
        if value is None:
            raise faults.required_param("CustomerRef")
        stored = self.entities["Customer"].get(value)
        if stored is None:
            raise faults.invalid_reference("Customer", value)
        if stored.get("Active") is False:
            raise faults.object_not_found()
        return stored

    def item(self, ref: object) -> JsonObject:
        value = ref_value(ref) or "1"  # a line without ItemRef takes the default "Services" item
        stored = self.entities["Item"].get(value)
        if stored is None:
            raise faults.invalid_reference("Item", value)
        if stored.get("Active") is False:
            raise faults.object_not_found()
        return stored

    def adjust_balance(self, customer_id: str, delta: Decimal) -> None:
        """A customer's open balance follows its transactions; QBO moves LastUpdatedTime, not SyncToken."""
        stored = self.entities["Customer"].get(customer_id)
        if stored is None or delta == 0:
            return
        for key in ("Balance", "BalanceWithJobs"):
            stored[key] = Decimal(str(stored.get(key, 0))) + delta
        stored.setdefault("MetaData", self.new_meta())["LastUpdatedTime"] = meta_time(self.now())

    # ------------------------------------------------------------------ customers

    def write_customer(self, body: Mapping[str, Any]) -> JsonObject:
        check_fields(body, CUSTOMER_FIELDS, "Customer")
        check_currency(self.currency, body)
        if body.get("Id") in (None, ""):
            return self._create_customer(body)
        stored = self.for_update("Customer", body)
        if sparse_flag(body):
            fields = {key: value for key, value in stored.items() if key in CUSTOMER_FIELDS}
            fields.update(body)
        else:  # a full update: what the body leaves out goes back to its default
            fields = dict(body)
        display = self._display_name(fields)
        self._check_name_free(display, stored["Id"])
        if "PrintOnCheckName" not in body and stored.get("PrintOnCheckName") == stored.get("DisplayName"):
            fields.pop("PrintOnCheckName", None)  # it follows the display name unless set on its own
        document = self._customer_document(stored["Id"], stored["SyncToken"], stored["MetaData"], fields, display)
        for key in ("Balance", "BalanceWithJobs"):
            document[key] = stored.get(key, Decimal(0))
        self.entities["Customer"][stored["Id"]] = document
        self.touch(document)
        return document

    def _create_customer(self, body: Mapping[str, Any]) -> JsonObject:
        display = self._display_name(body)
        self._check_name_free(display, None)
        document = self._customer_document(self.new_id("Customer"), "0", self.new_meta(), body, display)
        self.entities["Customer"][document["Id"]] = document
        return document

    def _display_name(self, fields: Mapping[str, Any]) -> str:
        display = fields.get("DisplayName")
        if isinstance(display, str) and display.strip():
            return display.strip()
        parts = [str(fields[part]).strip() for part in _NAME_PARTS if isinstance(fields.get(part), str)]
        joined = " ".join(part for part in parts if part)
        if not joined:
            raise faults.required_param("DisplayName")
        return joined

    def _check_name_free(self, display: str, own_id: str | None) -> None:
        """DisplayName is unique, ignoring case, among all customers, inactive ones too (6240)."""
        wanted = display.casefold()
        for other in self.entities["Customer"].values():
            if other["Id"] != own_id and str(other.get("DisplayName", "")).strip().casefold() == wanted:
                raise faults.duplicate_name()

    def _customer_document(
        self, entity_id: str, sync_token: str, meta: JsonObject, fields: Mapping[str, Any], display: str
    ) -> JsonObject:
        """A customer in create__customer.yml's key order; given fields fill in around the defaults."""
        us = self.country == "US"
        given = {key: copy.deepcopy(value) for key, value in fields.items() if key in CUSTOMER_FIELDS}
        for key in ("BillAddr", "ShipAddr"):
            if isinstance(given.get(key), dict):
                address_id = str(given[key].get("Id") or self.next_address_id())
                given[key] = {"Id": address_id, **{k: v for k, v in given[key].items() if k != "Id"}}
        document: JsonObject = {"Taxable": given.get("Taxable", us)}
        for key in ("BillAddr", "ShipAddr"):
            if key in given:
                document[key] = given[key]
        document |= {
            "Job": bool(given.get("Job", False)),
            "BillWithParent": bool(given.get("BillWithParent", False)),
            "Balance": Decimal(0),
            "BalanceWithJobs": Decimal(0),
            "CurrencyRef": self.currency_ref(),
            "PreferredDeliveryMethod": given.get("PreferredDeliveryMethod", "Print"),
            "domain": "QBO",
            "sparse": False,
            "Id": entity_id,
            "SyncToken": sync_token,
            "MetaData": copy.deepcopy(meta),
        }
        for key in _NAME_PARTS:
            if key in given:
                document[key] = given[key]
        document["FullyQualifiedName"] = display
        if "CompanyName" in given:
            document["CompanyName"] = given["CompanyName"]
        document["DisplayName"] = display
        document["PrintOnCheckName"] = given.get("PrintOnCheckName") or display
        document["Active"] = given.get("Active", True) is not False
        skip = set(document) | _CUSTOMER_READ_ONLY | COMMON_FIELDS | {"DefaultTaxCodeRef"}
        document |= {key: value for key, value in given.items() if key not in skip}
        if "DefaultTaxCodeRef" in given:
            document["DefaultTaxCodeRef"] = given["DefaultTaxCodeRef"]
        elif us:
            document["DefaultTaxCodeRef"] = {"value": "2"}
        return document

    # ------------------------------------------------------------------ items

    def _services_item(self) -> JsonObject:
        """The sandbox's default item (create__invoice.yml's ItemRef {"value": "1", "name": "Services"})."""
        return {
            "Name": "Services",
            "Active": True,
            "FullyQualifiedName": "Services",
            "Taxable": False,
            "UnitPrice": Decimal(0),
            "Type": "Service",
            "IncomeAccountRef": {"value": "1", "name": "Services"},
            "PurchaseCost": Decimal(0),
            "TrackQtyOnHand": False,
            "domain": "QBO",
            "sparse": False,
            "Id": "1",
            "SyncToken": "0",
            "MetaData": self.new_meta(),
        }

    def write_item(self, body: Mapping[str, Any]) -> JsonObject:
        check_fields(body, ITEM_FIELDS, "Item")
        creating = body.get("Id") in (None, "")
        stored = None if creating else self.for_update("Item", body)
        fields = dict(stored or {}) if sparse_flag(body) else {}
        fields.update({key: value for key, value in body.items() if key not in COMMON_FIELDS})
        name = fields.get("Name")
        if not isinstance(name, str) or not name.strip():
            raise faults.required_param("Name")
        if any(
            other["Id"] != (stored or {}).get("Id") and str(other.get("Name", "")).casefold() == name.casefold()
            for other in self.entities["Item"].values()
        ):
            raise faults.duplicate_name()
        item_type = fields.get("Type", "Service")
        if item_type not in ITEM_TYPES:
            raise faults.invalid_property("Type", item_type)
        document = self._services_item() | {key: value for key, value in fields.items() if key not in COMMON_FIELDS}
        document |= {"Name": name.strip(), "FullyQualifiedName": name.strip(), "Type": item_type}
        if stored is None:
            document |= {"Id": self.new_id("Item"), "SyncToken": "0", "MetaData": self.new_meta()}
        else:
            document |= {"Id": stored["Id"], "SyncToken": stored["SyncToken"], "MetaData": stored["MetaData"]}
            self.touch(document)
        self.entities["Item"][document["Id"]] = document
        return document

    # ------------------------------------------------------------------ company info and preferences

    def company_info(self) -> JsonObject:
        address = {"Id": "1", "Line1": "2600 Marine Way", "City": "Mountain View", "PostalCode": "94043"}
        return {
            "CompanyName": self.name,
            "LegalName": self.name,
            "CompanyAddr": address,
            "CustomerCommunicationAddr": address,
            "LegalAddr": address,
            "PrimaryPhone": {},
            "CompanyStartDate": local_date(self.created).isoformat(),
            "FiscalYearStartMonth": "January",
            "Country": self.country,
            "Email": {"Address": "noreply@quickbooks.com"},
            "WebAddr": {},
            "SupportedLanguages": "en",
            "NameValue": [
                {"Name": "NeoEnabled", "Value": "true"},
                {"Name": "OfferingSku", "Value": "QuickBooks Online Plus"},
                {"Name": "SubscriptionStatus", "Value": "SUBSCRIBED"},
                {"Name": "PayrollFeature", "Value": "false"},
                {"Name": "AccountantFeature", "Value": "false"},
            ],
            "domain": "QBO",
            "sparse": False,
            "Id": "1",
            "SyncToken": "0",
            "MetaData": {"CreateTime": meta_time(self.created), "LastUpdatedTime": meta_time(self.created)},
        }

    def preferences(self) -> JsonObject:
        """The home currency lives here (CurrencyPrefs.HomeCurrency), not in CompanyInfo; PartnerTaxEnabled is
        present only for a company on automated sales tax."""
        tax: JsonObject = {"UsingSalesTax": True}
        if self.automated_sales_tax:
            tax["PartnerTaxEnabled"] = True
        return {
            "AccountingInfoPrefs": {"TrackDepartments": False, "ClassTrackingPerTxn": False, "BookCloseDate": None},
            "SalesFormsPrefs": {
                "CustomTxnNumbers": True,
                "AllowDeposit": False,
                "AllowDiscount": True,
                "DefaultTerms": {"value": "3"},
                "ETransactionEnabledStatus": "NotApplicable",
            },
            "TaxPrefs": tax,
            "CurrencyPrefs": {"MultiCurrencyEnabled": False, "HomeCurrency": {"value": self.currency}},
            "domain": "QBO",
            "sparse": False,
            "Id": "1",
            "SyncToken": "0",
            "MetaData": {"CreateTime": meta_time(self.created), "LastUpdatedTime": meta_time(self.created)},
        }

    def summary(self) -> JsonObject:
        return {
            "realm_id": self.realm_id,
            "company_name": self.name,
            "country": self.country,
            "currency": self.currency,
            "automated_sales_tax": self.automated_sales_tax,
            "custom_fields": list(self.custom_fields),
        }

    def state(self) -> JsonObject:
        """Every entity as stored, deleted ones included, and the e-mails sent."""
        return {
            "company": self.summary(),
            **{entity: [copy.deepcopy(doc) for doc in self.entities[entity].values()] for entity in ENTITIES},
            "deleted": {entity: list(map(copy.deepcopy, self.deleted[entity].values())) for entity in ENTITIES},
            "emails": copy.deepcopy(self.emails),
        }
