"""The settings form, made from the ledger's settings model itself: every setting, by its key (`mode`,
`customer_fields.phone`, `xero.invoice_account_id`), with its default, as the control its type asks for (a checkbox,
a choice, a list read from the ledger, text); and the form posted back, turned into the settings document that
`connect.settings.change_settings` validates with the very messages `acuity-sync settings set` prints."""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from acuity_sync.domain.documents import Choice
from acuity_sync.domain.settings import LedgerSettings

GENERAL = ""  # problems not about one field


class Kind:
    CHECKBOX = "checkbox"
    SELECT = "select"
    TEXT = "text"
    LINES = "lines"


# A few words beside a setting's name, where the name alone does not say enough.
HELP: dict[str, str] = {
    "mode": "customer only: add the client, no invoice · draft: create the invoice, do not send it · send: create "
    "and e-mail it to the client",
    "invoice_free_appointments": "a $0 appointment (a package, gift certificate or subscription code) still gets an "
    "invoice",
    "sync_orders": "packages, gift certificates and subscriptions get an invoice with their payment",
    "update_on_change": "a reschedule, price change or cancellation updates (or voids) the invoice",
    "sync_payments": "each Acuity payment is recorded against the invoice",
    "tips": "what happens to a payment above the invoice total",
    "invoice_number_template": "empty: the accounting app numbers invoices; e.g. ACU-{id}",
    "quickbooks.service_items": "one line per appointment type: appointment type id = item id",
    "xero.approve_paid_drafts": "in draft mode, approve a paid invoice (never e-mailed) so its payment is recorded",
}


@dataclass(slots=True)
class Field:
    key: str  # the settings key, and the form field's name
    label: str
    kind: str
    value: str  # as the control shows it
    default: str  # the default, in words
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label) for a SELECT
    help: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Shape:
    kind: str
    optional: bool
    enum: type[Enum] | None = None
    group: type[BaseModel] | None = None


def _shape(annotation: Any) -> _Shape:
    optional = False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [arg for arg in get_args(annotation) if arg is not type(None)]
            optional = optional or len(members) < len(get_args(annotation))
            annotation = members[0]
        else:
            break
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _Shape("group", optional, group=annotation)
    if annotation is bool:
        return _Shape(Kind.CHECKBOX, optional)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _Shape(Kind.SELECT, optional, enum=annotation)
    if get_origin(annotation) is dict or annotation is dict:
        return _Shape(Kind.LINES, optional)
    return _Shape(Kind.TEXT, optional)


def _label(key: str) -> str:
    return key.rsplit(".", 1)[-1].replace("_", " ").capitalize()


def _shown(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == Kind.CHECKBOX:
        return "on" if value else "off"
    if kind == Kind.LINES:
        return "\n".join(f"{key}={item}" for key, item in dict(value).items())
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _walk(model: type[BaseModel], prefix: str = "") -> list[tuple[str, _Shape]]:
    found: list[tuple[str, _Shape]] = []
    for name, info in model.model_fields.items():
        if name == "ledger":
            continue
        key = f"{prefix}{name}"
        shape = _shape(info.annotation)
        if shape.group is not None:
            found.extend(_walk(shape.group, f"{key}."))
        else:
            found.append((key, shape))
    return found


def _value_at(document: Mapping[str, Any], key: str) -> Any:
    value: Any = document
    for part in key.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def settings_fields(
    settings: LedgerSettings,
    defaults: LedgerSettings,
    lists: Mapping[str, Sequence[Choice]],
    *,
    posted: Mapping[str, str] | None = None,
    problems: Mapping[str, list[str]] | None = None,
) -> list[Field]:
    """The form's fields, in the model's order. `posted` (the values a refused Save sent) wins over `settings`, so
    the owner's input is kept beside its messages."""
    current = settings.model_dump(mode="python")
    default_document = defaults.model_dump(mode="python")
    fields: list[Field] = []
    for key, shape in _walk(type(settings)):
        kind = shape.kind
        value = _shown(_value_at(current, key), kind)
        if posted is not None and key in posted:
            value = posted[key]
        default = _shown(_value_at(default_document, key), kind) or "none"
        options: list[tuple[str, str]] = []
        choices = lists.get(key)
        if shape.enum is not None:
            options = [(str(member.value), str(member.value).replace("_", " ")) for member in shape.enum]
        elif choices:
            kind = Kind.SELECT
            options = [(choice.id, _choice_label(choice)) for choice in choices]
            if value and value not in {option for option, _ in options}:
                options.append((value, f"{value} (not in the list now)"))
        if kind == Kind.SELECT and shape.optional:
            options.insert(0, ("", "(default)"))
        fields.append(
            Field(
                key=key,
                label=_label(key),
                kind=kind,
                value=value,
                default=default,
                options=options,
                help=HELP.get(key, ""),
                errors=list((problems or {}).get(key, [])),
            )
        )
    return fields


def _choice_label(choice: Choice) -> str:
    if choice.kind == "TaxRate" and choice.code:
        return f"{choice.name} ({choice.code}%)"
    if choice.code:
        return f"{choice.name} ({choice.code})"
    return choice.name or choice.id


class FormProblem(ValueError):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


def settings_document(
    model: type[LedgerSettings], form: Mapping[str, list[str]]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings document a posted form means, and the values as posted (to show again). A checkbox posts a
    hidden "off" and, when ticked, "on" after it: the last value wins. Empty text or "(default)" is null."""
    document: dict[str, Any] = {}
    posted: dict[str, str] = {}
    for key, shape in _walk(model):
        values = form.get(key)
        if not values:
            continue
        raw = values[-1]
        posted[key] = raw
        value: Any
        if shape.kind == Kind.CHECKBOX:
            value = raw == "on"
        elif shape.kind == Kind.LINES:
            value = _lines(key, raw)
        else:
            text = raw.strip()
            value = None if text == "" and shape.optional else text
        target = document
        parts = key.split(".")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return document, posted


def _lines(key: str, text: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, separator, value = line.partition("=")
        if not separator or not name.strip() or not value.strip():
            raise FormProblem(key, f"each line is 'appointment type id = id' (got {line.strip()!r})")
        mapping[name.strip()] = value.strip()
    return mapping


def problems_by_field(lines: Sequence[str], keys: Sequence[str]) -> dict[str, list[str]]:
    """ "field: message" lines by field (the most specific key a line names); the rest under GENERAL."""
    grouped: dict[str, list[str]] = {}
    ordered = sorted(keys, key=len, reverse=True)
    for line in lines:
        named, separator, message = line.partition(": ")
        key = next((k for k in ordered if separator and (named == k or named.startswith(f"{k}."))), None)
        if key is None:
            grouped.setdefault(GENERAL, []).append(line)
        else:
            grouped.setdefault(key, []).append(message if named == key else line)
    return grouped


def field_keys(model: type[LedgerSettings]) -> list[str]:
    return [key for key, _ in _walk(model)]
