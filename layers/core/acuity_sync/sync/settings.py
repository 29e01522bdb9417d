"""A tenant's settings for one ledger (DESIGN.md "Settings (per tenant and ledger)"), validated.

Every setting has a default, so a tenant that never changed anything syncs as `default_settings` says. A
misspelled key is an error (`extra="forbid"`), and every wrong value is explained in words a business owner
understands: `settings_error_messages` turns pydantic's errors into "field: message" lines.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, TypeVar, overload

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from acuity_sync.domain.documents import TaxMode
from acuity_sync.domain.names import LedgerName

# --------------------------------------------------------------------------------------------- choices


class Mode(StrEnum):
    CUSTOMER_ONLY = "customer_only"  # add the client as a customer, no invoice
    DRAFT = "draft"  # invoice created, not sent
    SEND = "send"  # invoice created and emailed to the client at once


class TipHandling(StrEnum):
    """What happens to a payment above the invoice's total (a tip paid at booking, an overpayment)."""

    EXCLUDE = "exclude"  # the invoice is never raised; the audit trail records the surplus
    SEPARATE_LINE = "separate_line"  # a tip line is added, apart from the service lines


_Choice = TypeVar("_Choice", bound=StrEnum)


def _shown(value: object) -> str:
    """A value as the owner typed it: text quoted, everything else as JSON."""
    if isinstance(value, str):
        return repr(value)
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return repr(value)


def _one_of(choices: type[_Choice]) -> Callable[[object], _Choice]:
    """pydantic's own enum message quotes Python reprs; ours lists the words the owner can type."""
    names = ", ".join(choice.value for choice in choices)

    def check(value: object) -> _Choice:
        if isinstance(value, choices):
            return value
        if isinstance(value, str):
            try:
                return choices(value.strip().lower())
            except ValueError:
                pass
        raise PydanticCustomError(
            "choice", "must be one of {names} (got {got})", {"names": names, "got": _shown(value)}
        )

    return check


ModeSetting = Annotated[Mode, BeforeValidator(_one_of(Mode))]
TipSetting = Annotated[TipHandling, BeforeValidator(_one_of(TipHandling))]
TaxSetting = Annotated[TaxMode, BeforeValidator(_one_of(TaxMode))]


# --------------------------------------------------------------------------------------------- ids
_DIGITS = re.compile(r"[0-9]{1,20}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_XERO_TAX_TYPE = re.compile(r"[A-Z0-9_]{1,50}")
EXAMPLE_XERO_ACCOUNT_ID = "ebd06280-af70-4bed-97c6-7451a454ad85"


def _quickbooks_id(value: object) -> str:
    # QuickBooks ids are numbers sent as strings; `quickbooks.default_item_id=1` on the command line is a number.
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else None
    if text is None or not _DIGITS.fullmatch(text):
        raise PydanticCustomError(
            "quickbooks_id",
            "must be a QuickBooks id, a number such as '21' (got {got}); names are not accepted, because QuickBooks "
            "refers to items and tax codes by id",
            {"got": _shown(value)},
        )
    return text


def _xero_account_id(value: object) -> str:
    text = value.strip().lower() if isinstance(value, str) else None
    if text is None or not _UUID.fullmatch(text):
        raise PydanticCustomError(
            "xero_account_id",
            "must be a Xero AccountID such as '{example}' (got {got}); account codes such as '200' are not accepted, "
            "because bank accounts may have no code",
            {"example": EXAMPLE_XERO_ACCOUNT_ID, "got": _shown(value)},
        )
    return text


def _xero_tax_type(value: object) -> str:
    text = value.strip().upper() if isinstance(value, str) else None
    if text is None or not _XERO_TAX_TYPE.fullmatch(text):
        raise PydanticCustomError(
            "xero_tax_type",
            "must be a Xero tax type such as 'OUTPUT2' or 'TAX001', as listed under Tax Rates (got {got})",
            {"got": _shown(value)},
        )
    return text


def _appointment_type_id(value: object) -> int:
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not _DIGITS.fullmatch(text) or int(text) == 0:
        raise PydanticCustomError(
            "appointment_type_id",
            "must be an Acuity appointment type id, a number such as 27238 (got {got})",
            {"got": _shown(value)},
        )
    return int(text)


def _without_nulls(value: object) -> object:
    # `quickbooks.service_items.27238=null` removes that mapping: the type falls back to the default item.
    if isinstance(value, Mapping):
        return {key: item for key, item in value.items() if item is not None}
    return value


QuickBooksId = Annotated[str, BeforeValidator(_quickbooks_id)]
XeroAccountId = Annotated[str, BeforeValidator(_xero_account_id)]
XeroTaxType = Annotated[str, BeforeValidator(_xero_tax_type)]
AppointmentTypeId = Annotated[int, BeforeValidator(_appointment_type_id)]


# --------------------------------------------------------------------------------------------- invoice numbers
ID_PLACEHOLDER = "{id}"
# Room kept for the Acuity id in a number. Acuity documents no bound on its ids; 12 digits is more than they
# use today, so a template accepted now keeps fitting as ids grow instead of failing on the day they do.
ID_DIGITS_RESERVED = 12
QUICKBOOKS_DOC_NUMBER_MAX = 21  # QuickBooks' DocNumber (research/quickbooks.md)
XERO_INVOICE_NUMBER_MAX = 255  # Xero's InvoiceNumber
FRESHBOOKS_INVOICE_NUMBER_MAX = 50  # not documented; kept well under anything FreshBooks shows in its UI
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def render_invoice_number(template: str, object_id: int) -> str:
    """The invoice number for an appointment or order, e.g. "ACU-{id}" → "ACU-123456"."""
    return template.replace(ID_PLACEHOLDER, str(object_id))


def _check_template(template: str, ledger_label: str, limit: int, field_name: str) -> str:
    if template.count(ID_PLACEHOLDER) != 1:
        raise PydanticCustomError(
            "invoice_number_template",
            "must contain {placeholder} exactly once, e.g. 'ACU-{placeholder}', so that every appointment gets its "
            "own number (got {got})",
            {"placeholder": ID_PLACEHOLDER, "got": _shown(template)},
        )
    rest = template.replace(ID_PLACEHOLDER, "")
    if "{" in rest or "}" in rest:
        others = ", ".join(_PLACEHOLDER.findall(rest)) or "a lone brace"
        raise PydanticCustomError(
            "invoice_number_template",
            "only the placeholder {placeholder} is allowed (got {others} in {got})",
            {"placeholder": ID_PLACEHOLDER, "others": others, "got": _shown(template)},
        )
    if any(not character.isprintable() for character in template) or template != template.strip():
        raise PydanticCustomError(
            "invoice_number_template",
            "must be plain text without leading or trailing spaces (got {got})",
            {"got": _shown(template)},
        )
    longest = len(rest) + ID_DIGITS_RESERVED
    if longest > limit:
        raise PydanticCustomError(
            "invoice_number_template",
            "is too long for {ledger}: {got} makes numbers of up to {longest} characters with a {digits}-digit Acuity "
            "id, and {ledger} allows at most {limit} ({field}); keep the text around {placeholder} to {room} "
            "characters or fewer",
            {
                "ledger": ledger_label,
                "got": _shown(template),
                "longest": longest,
                "digits": ID_DIGITS_RESERVED,
                "limit": limit,
                "field": field_name,
                "placeholder": ID_PLACEHOLDER,
                "room": limit - ID_DIGITS_RESERVED,
            },
        )
    return template


# --------------------------------------------------------------------------------------------- models
class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CustomerFields(_Settings):
    """What is copied to the ledger's customer. First name, last name and e-mail always are."""

    ALWAYS: ClassVar[tuple[str, ...]] = ("first_name", "last_name", "email")

    # On by default: a client without an e-mail is matched by name and phone, which needs the phone stored.
    phone: bool = True
    notes: bool = False
    # Off by default: intake forms may hold health details the owner may not want in the books.
    intake_forms: bool = False


class QuickBooksOptions(_Settings):
    # None: the company's own default (DESIGN.md principle 4: US companies non-taxable lines, others inclusive),
    # known once QuickBooks is connected.
    tax_mode: TaxSetting | None = None
    tax_code_id: QuickBooksId | None = None  # the TaxCode for inclusive lines; None: each item's own sales tax code
    default_item_id: QuickBooksId | None = None  # the service item for appointment types not in service_items
    service_items: Annotated[dict[AppointmentTypeId, QuickBooksId], BeforeValidator(_without_nulls)] = Field(
        default_factory=dict
    )

    def item_for(self, appointment_type_id: int) -> str | None:
        return self.service_items.get(appointment_type_id, self.default_item_id)


class XeroOptions(_Settings):
    tax_mode: TaxSetting = TaxMode.INCLUSIVE
    tax_type: XeroTaxType | None = None  # e.g. "OUTPUT2"; None: the invoice account's default tax rate
    invoice_account_id: XeroAccountId | None = None  # a REVENUE or SALES account
    payment_account_id: XeroAccountId | None = None  # a BANK account, or one with payments enabled
    # Xero records payments only against approved invoices. In draft mode, a paid appointment's invoice is
    # approved (never emailed) when this is on; when off, the payment is skipped under the rule
    # `payment_needs_approved_invoice` and recorded once the owner approves the invoice.
    approve_paid_drafts: bool = True

    # Field validators run in field order, so `info.data` already holds the fields declared above.
    @field_validator("tax_type")
    @classmethod
    def _tax_type_used(cls, tax_type: str | None, info: ValidationInfo) -> str | None:
        if tax_type is not None and info.data.get("tax_mode") is TaxMode.NON_TAXABLE:
            raise PydanticCustomError(
                "tax_type_unused",
                "is used only when tax_mode is inclusive or ledger_default; remove it (xero.tax_type=null) or "
                "change tax_mode (got {got})",
                {"got": _shown(tax_type)},
            )
        return tax_type

    @field_validator("payment_account_id")
    @classmethod
    def _separate_accounts(cls, account_id: str | None, info: ValidationInfo) -> str | None:
        if account_id is not None and account_id == info.data.get("invoice_account_id"):
            raise PydanticCustomError(
                "same_account",
                "is the same account as invoice_account_id; payments go to a bank account, invoices to a revenue "
                "or sales account",
            )
        return account_id


class FreshBooksOptions(_Settings):
    # FreshBooks adds taxes on top of line amounts. Non-taxable lines keep the total at Acuity's price; inclusive
    # backs the named tax out of each price so that price = line + tax.
    tax_mode: TaxSetting = TaxMode.NON_TAXABLE
    tax_name: str | None = Field(default=None, min_length=1, max_length=40)  # as named in FreshBooks, e.g. "HST"
    tax_percent: Decimal | None = Field(default=None, gt=0, lt=100, decimal_places=3)

    @field_validator("tax_mode")
    @classmethod
    def _not_ledger_default(cls, tax_mode: TaxMode) -> TaxMode:
        if tax_mode is TaxMode.LEDGER_DEFAULT:
            raise PydanticCustomError(
                "freshbooks_tax_mode",
                "ledger_default is not available for FreshBooks: it has no default tax for invoice lines, and a tax "
                "added on top would bill more than Acuity charged; use non_taxable or inclusive",
            )
        return tax_mode

    @model_validator(mode="after")
    def _tax_to_back_out(self) -> FreshBooksOptions:
        if self.tax_mode is TaxMode.INCLUSIVE and (self.tax_name is None or self.tax_percent is None):
            raise PydanticCustomError(
                "freshbooks_tax_missing",
                "tax_mode inclusive needs the tax to back out of Acuity's prices: set tax_name (as named in "
                "FreshBooks, e.g. 'HST') and tax_percent (e.g. 13)",
            )
        return self


class _LedgerSettings(_Settings):
    """What every ledger shares; each ledger adds its own sub-model under its name."""

    INVOICE_NUMBER_MAX: ClassVar[int]
    INVOICE_NUMBER_FIELD: ClassVar[str]
    LEDGER_LABEL: ClassVar[str]

    # Draft by default: nothing reaches a client's inbox until the owner chooses to send.
    mode: ModeSetting = Mode.DRAFT
    invoice_free_appointments: bool = True
    sync_orders: bool = True
    update_on_change: bool = True
    sync_payments: bool = True
    tips: TipSetting = TipHandling.EXCLUDE
    customer_fields: CustomerFields = Field(default_factory=CustomerFields)
    invoice_number_template: str | None = None  # None: the ledger numbers invoices itself

    @field_validator("invoice_number_template")
    @classmethod
    def _template_fits(cls, template: str | None) -> str | None:
        # `cls` is the ledger's model: the length limit is that ledger's.
        if template is None:
            return None
        return _check_template(template, cls.LEDGER_LABEL, cls.INVOICE_NUMBER_MAX, cls.INVOICE_NUMBER_FIELD)

    def invoice_number(self, object_id: int) -> str | None:
        """The number to give an invoice; None lets the ledger number it."""
        template = self.invoice_number_template
        return None if template is None else render_invoice_number(template, object_id)


class QuickBooksSettings(_LedgerSettings):
    INVOICE_NUMBER_MAX = QUICKBOOKS_DOC_NUMBER_MAX
    INVOICE_NUMBER_FIELD = "DocNumber"
    LEDGER_LABEL = "QuickBooks"

    ledger: Literal[LedgerName.QUICKBOOKS] = LedgerName.QUICKBOOKS
    quickbooks: QuickBooksOptions = Field(default_factory=QuickBooksOptions)

    def tax_mode_for(self, company_default: TaxMode) -> TaxMode:
        """The tax mode in force: the owner's choice, else the company's default (from the ledger adapter)."""
        return self.quickbooks.tax_mode or company_default


class XeroSettings(_LedgerSettings):
    INVOICE_NUMBER_MAX = XERO_INVOICE_NUMBER_MAX
    INVOICE_NUMBER_FIELD = "InvoiceNumber"
    LEDGER_LABEL = "Xero"

    ledger: Literal[LedgerName.XERO] = LedgerName.XERO
    xero: XeroOptions = Field(default_factory=XeroOptions)

    def tax_mode_for(self, company_default: TaxMode) -> TaxMode:  # noqa: ARG002 - same signature for every ledger
        return self.xero.tax_mode


class FreshBooksSettings(_LedgerSettings):
    INVOICE_NUMBER_MAX = FRESHBOOKS_INVOICE_NUMBER_MAX
    INVOICE_NUMBER_FIELD = "invoice_number"
    LEDGER_LABEL = "FreshBooks"

    ledger: Literal[LedgerName.FRESHBOOKS] = LedgerName.FRESHBOOKS
    freshbooks: FreshBooksOptions = Field(default_factory=FreshBooksOptions)

    def tax_mode_for(self, company_default: TaxMode) -> TaxMode:  # noqa: ARG002 - same signature for every ledger
        return self.freshbooks.tax_mode


LedgerSettings = Annotated[QuickBooksSettings | XeroSettings | FreshBooksSettings, Field(discriminator="ledger")]
AnyLedgerSettings = QuickBooksSettings | XeroSettings | FreshBooksSettings
LEDGER_SETTINGS: TypeAdapter[AnyLedgerSettings] = TypeAdapter(LedgerSettings)

SETTINGS_MODELS: dict[LedgerName, type[AnyLedgerSettings]] = {
    LedgerName.QUICKBOOKS: QuickBooksSettings,
    LedgerName.XERO: XeroSettings,
    LedgerName.FRESHBOOKS: FreshBooksSettings,
}


@overload
def default_settings(ledger: Literal[LedgerName.QUICKBOOKS], *, country: str | None = None) -> QuickBooksSettings: ...
@overload
def default_settings(ledger: Literal[LedgerName.XERO], *, country: str | None = None) -> XeroSettings: ...
@overload
def default_settings(ledger: Literal[LedgerName.FRESHBOOKS], *, country: str | None = None) -> FreshBooksSettings: ...
@overload
def default_settings(ledger: LedgerName, *, country: str | None = None) -> AnyLedgerSettings: ...
def default_settings(ledger: LedgerName, *, country: str | None = None) -> AnyLedgerSettings:
    """The settings of a tenant that changed nothing. `country` (the ledger company's, ISO 3166 alpha-2) fixes
    QuickBooks' tax mode: US companies get non-taxable lines (automated sales tax), others inclusive amounts;
    without it the mode follows the company once connected (`QuickBooksSettings.tax_mode_for`)."""
    if ledger is LedgerName.QUICKBOOKS and country is not None:
        tax = TaxMode.NON_TAXABLE if country.strip().upper() == "US" else TaxMode.INCLUSIVE
        return QuickBooksSettings(quickbooks=QuickBooksOptions(tax_mode=tax))
    return SETTINGS_MODELS[LedgerName(ledger)]()


@overload
def parse_settings(ledger: Literal[LedgerName.QUICKBOOKS], document: Mapping[str, Any]) -> QuickBooksSettings: ...
@overload
def parse_settings(ledger: Literal[LedgerName.XERO], document: Mapping[str, Any]) -> XeroSettings: ...
@overload
def parse_settings(ledger: Literal[LedgerName.FRESHBOOKS], document: Mapping[str, Any]) -> FreshBooksSettings: ...
@overload
def parse_settings(ledger: LedgerName, document: Mapping[str, Any]) -> AnyLedgerSettings: ...
def parse_settings(ledger: LedgerName, document: Mapping[str, Any]) -> AnyLedgerSettings:
    """Validate a settings document for one ledger (a missing `ledger` key means this one). Raises
    ValidationError; `settings_error_messages` words it for the owner."""
    return SETTINGS_MODELS[LedgerName(ledger)].model_validate({"ledger": str(ledger), **document})


# --------------------------------------------------------------------------------------------- messages
_MODELS_BY_NAME: dict[str, type[BaseModel]] = {
    model.__name__: model for model in (QuickBooksSettings, XeroSettings, FreshBooksSettings)
}


def _root(error: ValidationError, loc: Sequence[int | str]) -> tuple[type[BaseModel] | None, list[int | str]]:
    """The settings model an error's location starts from; a tagged union puts the ledger first."""
    path = list(loc)
    if error.title in _MODELS_BY_NAME:
        return _MODELS_BY_NAME[error.title], path
    if error.title.startswith("tagged-union") and path and str(path[0]) in {str(name) for name in LedgerName}:
        return SETTINGS_MODELS[LedgerName(str(path[0]))], path[1:]
    return None, path


def _known_fields(model: type[BaseModel] | None, parents: Sequence[int | str]) -> list[str]:
    for name in parents:
        if model is None:
            return []
        field = model.model_fields.get(str(name))
        annotation = field.annotation if field is not None else None
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return list(model.model_fields) if model is not None else []


def _unknown_setting(model: type[BaseModel] | None, path: Sequence[int | str]) -> str:
    name = str(path[-1])
    if path[:-1] == ["customer_fields"] and name in CustomerFields.ALWAYS:
        return "first name, last name and email are always copied to the customer; they cannot be turned off"
    known = _known_fields(model, path[:-1])
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"is not a setting; did you mean {close[0]!r}?"
    if known:
        return f"is not a setting; the settings here are {', '.join(known)}"
    return "is not a setting"


# pydantic's error types → our words; `{got}` is the value given, the rest comes from the error's context.
_WORDS: dict[str, str] = {
    "bool_parsing": "must be true or false (got {got})",
    "bool_type": "must be true or false (got {got})",
    "int_parsing": "must be a whole number (got {got})",
    "int_type": "must be a whole number (got {got})",
    "int_from_float": "must be a whole number (got {got})",
    "decimal_parsing": "must be a number (got {got})",
    "decimal_type": "must be a number (got {got})",
    "string_type": "must be text (got {got})",
    "model_type": "must be a group of settings written as {{...}} (got {got})",
    "model_attributes_type": "must be a group of settings written as {{...}} (got {got})",
    "dict_type": "must be a group of settings written as {{...}} (got {got})",
    "missing": "is required",
    "greater_than": "must be more than {gt} (got {got})",
    "less_than": "must be less than {lt} (got {got})",
    "decimal_max_places": "must have at most {decimal_places} decimal places (got {got})",
    "string_too_short": "must not be empty",
    "string_too_long": "must be at most {max_length} characters (got {got})",
}


def _words(detail: ErrorDetails, model: type[BaseModel] | None, path: list[int | str]) -> tuple[list[int | str], str]:
    kind, got, context = detail["type"], _shown(detail.get("input")), detail.get("ctx", {})
    if kind == "extra_forbidden":
        return path, _unknown_setting(model, path)
    if kind == "literal_error" and path == ["ledger"] and model is not None:
        expected = model.model_fields["ledger"].default
        return path, f"these are the {expected} settings; the ledger cannot be changed (got {got})"
    if kind in {"union_tag_invalid", "union_tag_not_found"}:
        return ["ledger"], f"must be one of {', '.join(LedgerName)} (got {_shown(context.get('tag'))})"
    if kind in _WORDS:
        return path, _WORDS[kind].format(**context, got=got)
    return path, detail["msg"]  # our own PydanticCustomErrors are worded already


def settings_error_messages(error: ValidationError) -> list[str]:
    """One "field: message" line per problem, in a business owner's words."""
    lines = []
    for detail in error.errors(include_url=False):
        model, path = _root(error, detail["loc"])
        if path and path[-1] == "[key]":
            path = path[:-1]  # a mapping's key: the key itself is already the last part
        path, message = _words(detail, model, path)
        field = ".".join(str(part) for part in path)
        lines.append(f"{field}: {message}" if field else message)
    return lines
