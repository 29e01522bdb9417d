"""A tenant's settings for one ledger (DESIGN.md "Settings (per tenant and ledger)"): what every ledger shares, and
the words a business owner reads when a value is wrong. Each ledger's own options and its settings model are in
its package (ledgers/<ledger>/options.py); the registry (ledgers/registry.py) parses a document for a ledger.

Every setting has a default, so a tenant that never changed anything syncs as the defaults say. A misspelled key
is an error (`extra="forbid"`), and every wrong value is explained in words a business owner understands:
`describe_errors` turns pydantic's errors into "field: message" lines.
"""

from __future__ import annotations

import difflib
import json
import re
from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, ClassVar, Self, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator
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


def shown(value: object) -> str:
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
        raise PydanticCustomError("choice", "must be one of {names} (got {got})", {"names": names, "got": shown(value)})

    return check


ModeSetting = Annotated[Mode, BeforeValidator(_one_of(Mode))]
TipSetting = Annotated[TipHandling, BeforeValidator(_one_of(TipHandling))]
TaxSetting = Annotated[TaxMode, BeforeValidator(_one_of(TaxMode))]


# --------------------------------------------------------------------------------------------- Acuity ids
_DIGITS = re.compile(r"[0-9]{1,20}")


def _appointment_type_id(value: object) -> int:
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not _DIGITS.fullmatch(text) or int(text) == 0:
        raise PydanticCustomError(
            "appointment_type_id",
            "must be an Acuity appointment type id, a number such as 27238 (got {got})",
            {"got": shown(value)},
        )
    return int(text)


def without_nulls(value: object) -> object:
    """For a mapping by appointment type: `quickbooks.service_items.27238=null` removes that entry (the type
    then falls back to the ledger's default)."""
    if isinstance(value, Mapping):
        return {key: item for key, item in value.items() if item is not None}
    return value


AppointmentTypeId = Annotated[int, BeforeValidator(_appointment_type_id)]

# --------------------------------------------------------------------------------------------- invoice numbers
ID_PLACEHOLDER = "{id}"
# Room kept for the Acuity id in a number. Acuity documents no bound on its ids; 12 digits is more than they
# use today, so a template accepted now keeps fitting as ids grow instead of failing on the day they do.
ID_DIGITS_RESERVED = 12
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
            {"placeholder": ID_PLACEHOLDER, "got": shown(template)},
        )
    rest = template.replace(ID_PLACEHOLDER, "")
    if "{" in rest or "}" in rest:
        others = ", ".join(_PLACEHOLDER.findall(rest)) or "a lone brace"
        raise PydanticCustomError(
            "invoice_number_template",
            "only the placeholder {placeholder} is allowed (got {others} in {got})",
            {"placeholder": ID_PLACEHOLDER, "others": others, "got": shown(template)},
        )
    if any(not character.isprintable() for character in template) or template != template.strip():
        raise PydanticCustomError(
            "invoice_number_template",
            "must be plain text without leading or trailing spaces (got {got})",
            {"got": shown(template)},
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
                "got": shown(template),
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
class SettingsGroup(BaseModel):
    """A group of settings: frozen, and a key it does not know is refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class CustomerFields(SettingsGroup):
    """What is copied to the ledger's customer. First name, last name and e-mail always are."""

    ALWAYS: ClassVar[tuple[str, ...]] = ("first_name", "last_name", "email")

    # On by default: a client without an e-mail is matched by name and phone, which needs the phone stored.
    phone: bool = True
    notes: bool = False
    # Off by default: intake forms may hold health details the owner may not want in the books.
    intake_forms: bool = False


class LedgerSettings(SettingsGroup):
    """What every ledger shares. Each ledger's model (ledgers/<ledger>/options.py) adds `ledger`, a literal that
    tells the models apart, and its own options under its name; and says what the shared methods below mean
    for it."""

    INVOICE_NUMBER_MAX: ClassVar[int]
    INVOICE_NUMBER_FIELD: ClassVar[str]
    LEDGER_LABEL: ClassVar[str]

    if TYPE_CHECKING:
        # A field of each ledger's model, declared after the ones below: the stored JSON keeps that order.
        @property
        def ledger(self) -> LedgerName: ...

    # Draft by default: nothing reaches a client's inbox until the owner chooses to send.
    mode: ModeSetting = Mode.DRAFT
    invoice_free_appointments: bool = True
    sync_orders: bool = True
    update_on_change: bool = True
    sync_payments: bool = True
    tips: TipSetting = TipHandling.EXCLUDE
    customer_fields: CustomerFields = Field(default_factory=CustomerFields)
    invoice_number_template: str | None = None  # None: the ledger numbers invoices itself
    # What was booked before this date (the calendar's days) is not synced; None: from when the ledger was
    # connected, as Acuity's own integrations start (a backfill brings older bookings in either way).
    sync_from: date | None = None

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

    @abstractmethod
    def tax_mode_for(self, company_default: TaxMode) -> TaxMode:
        """The tax mode in force: the owner's choice, or the company's default (from the ledger adapter)."""

    def approve_paid_drafts(self) -> bool:
        """Where the ledger pays only approved invoices (CompanyInfo.payments_need_approved_invoice), whether a
        paid appointment's draft is approved (never emailed) so that its payment is recorded; when not, the
        payment is skipped under the rule `payment_needs_approved_invoice`. Ledgers with the choice override it."""
        return True

    @classmethod
    def defaults_for(cls, country: str | None = None) -> Self:  # noqa: ARG003 - the same for every ledger
        """The settings of a tenant that changed nothing. `country` is the ledger company's (ISO 3166 alpha-2),
        for a ledger whose defaults depend on it."""
        return cls()


# --------------------------------------------------------------------------------------------- messages
def _root(
    error: ValidationError, loc: Sequence[int | str], models: Iterable[type[LedgerSettings]]
) -> tuple[type[BaseModel] | None, list[int | str]]:
    """The settings model an error's location starts from; a tagged union puts the ledger first."""
    path = list(loc)
    by_name = {model.__name__: model for model in models}
    if error.title in by_name:
        return by_name[error.title], path
    if error.title.startswith("tagged-union") and path:
        by_ledger = {str(model.model_fields["ledger"].default): model for model in by_name.values()}
        if str(path[0]) in by_ledger:
            return by_ledger[str(path[0])], path[1:]
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
    "date_type": "must be a date such as 2026-01-31 (got {got})",
    "date_parsing": "must be a date such as 2026-01-31 (got {got})",
    "date_from_datetime_parsing": "must be a date such as 2026-01-31 (got {got})",
    "date_from_datetime_inexact": "must be a date such as 2026-01-31, without a time (got {got})",
}


def _words(detail: ErrorDetails, model: type[BaseModel] | None, path: list[int | str]) -> tuple[list[int | str], str]:
    kind, got, context = detail["type"], shown(detail.get("input")), detail.get("ctx", {})
    if kind == "extra_forbidden":
        return path, _unknown_setting(model, path)
    if kind == "literal_error" and path == ["ledger"] and model is not None:
        expected = model.model_fields["ledger"].default
        return path, f"these are the {expected} settings; the ledger cannot be changed (got {got})"
    if kind in {"union_tag_invalid", "union_tag_not_found"}:
        return ["ledger"], f"must be one of {', '.join(LedgerName)} (got {shown(context.get('tag'))})"
    if kind in _WORDS:
        return path, _WORDS[kind].format(**context, got=got)
    return path, detail["msg"]  # our own PydanticCustomErrors are worded already


def describe_errors(error: ValidationError, models: Iterable[type[LedgerSettings]]) -> list[str]:
    """One "field: message" line per problem, in a business owner's words. `models` are the ledgers' settings
    models (the registry's), so that a misspelled key is answered with the settings it could have meant."""
    models = tuple(models)
    lines = []
    for detail in error.errors(include_url=False):
        model, path = _root(error, detail["loc"], models)
        if path and path[-1] == "[key]":
            path = path[:-1]  # a mapping's key: the key itself is already the last part
        path, message = _words(detail, model, path)
        field = ".".join(str(part) for part in path)
        lines.append(f"{field}: {message}" if field else message)
    return lines
