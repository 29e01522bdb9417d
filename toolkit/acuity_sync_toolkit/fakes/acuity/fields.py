"""What a business may set on an appointment, an order or its account, and how each field is checked: stored as
given, with the type Acuity returns; computed fields are accepted (so a whole appointment can be posted back) and
ignored."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from acuity_sync_toolkit.fakes.acuity.errors import JsonObject, bad_request

ACTION_FORMATS = ("plain", "event")
ORDER_STATUSES = ("paid", "unpaid", "delivered")
PAYMENT_PROCESSORS = ("stripe", "paypal", "paypal_pro", "braintree", "authorizenet", "square")

# Stored as given, with the type Acuity returns and the default for a booking made by the business.
_Check = Callable[[object], bool]


def _is_str(value: object) -> bool:
    return isinstance(value, str)


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)


def _is_int_list(value: object) -> bool:
    return isinstance(value, list) and all(is_int(item) for item in value)


def _is_object_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def _or_null(check: _Check) -> _Check:
    return lambda value: value is None or check(value)


DETAIL_FIELDS: dict[str, tuple[_Check, str]] = {
    "firstName": (_is_str, "a string"),
    "lastName": (_is_str, "a string"),
    "phone": (_is_str, "a string"),
    "email": (_is_str, "a string"),
    "type": (_is_str, "a string"),
    "appointmentTypeID": (is_int, "an integer"),
    "classID": (_or_null(is_int), "an integer or null"),
    "addonIDs": (_is_int_list, "a list of integers"),
    "category": (_is_str, "a string"),
    "calendar": (_is_str, "a string"),
    "calendarID": (is_int, "an integer"),
    "certificate": (_or_null(_is_str), "a string or null"),
    "location": (_is_str, "a string"),
    "notes": (_is_str, "a string"),
    "canClientCancel": (_is_bool, "a boolean"),
    "canClientReschedule": (_is_bool, "a boolean"),
    "labels": (_or_null(_is_object_list), "a list of labels or null"),
    "forms": (_is_object_list, "a list of forms"),
    "isVerified": (_is_bool, "a boolean"),
    "scheduledBy": (_or_null(_is_str), "a string or null"),
}
# Fields handled one by one (parsed, or state rather than details).
SPECIAL_FIELDS = frozenset(
    {
        "id",
        "datetime",
        "datetimeCreated",
        "duration",
        "price",
        "priceSold",
        "amountPaid",
        "canceled",
        "noShow",
        "timezone",
        "calendarTimezone",
        "formsText",
        "paymentProcessor",  # admin only: the processor of the payment that amountPaid records
    }
)
# Always computed by Acuity: accepted (so a whole appointment can be posted back) and ignored.
DERIVED_FIELDS = frozenset(
    {"date", "time", "endTime", "dateCreated", "paid", "confirmationPage", "confirmationPagePaymentLink"}
)
APPOINTMENT_FIELDS = frozenset({*DETAIL_FIELDS, *SPECIAL_FIELDS, *DERIVED_FIELDS})
IMMUTABLE_FIELDS = frozenset({"id", "datetimeCreated"})

ORDER_DETAIL_FIELDS = ("firstName", "lastName", "phone", "email", "title", "notes")
ACCOUNT_PROFILE_FIELDS = frozenset({"name", "email", "timezone", "currency", "action_format", "plan"})


def check_known_fields(fields: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise bad_request(f"Unknown field(s): {', '.join(unknown)}.")


def validated_details(fields: Mapping[str, Any]) -> JsonObject:
    details: JsonObject = {}
    for name, value in fields.items():
        if name in DETAIL_FIELDS:
            check, description = DETAIL_FIELDS[name]
            if not check(value):
                raise bad_request(f"{name} must be {description}.")
            details[name] = value
    return details


def parse_duration(value: object) -> int:
    minutes = value if is_int(value) else int(value) if isinstance(value, str) and value.isdigit() else None
    if not isinstance(minutes, int) or minutes <= 0:
        raise bad_request('duration must be a positive number of minutes, such as "60".')
    return minutes


def parse_bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise bad_request(f"{name} must be a boolean.")
    return value
