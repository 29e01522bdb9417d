"""The fake Acuity's codes: package, gift certificate, subscription and coupon codes, as its certificates API shows
them (../shared/research/acuity.md §4.2-4.3), and what booking with one does.

    GET /api/v1/certificates[?email&appointmentTypeID&orderID&productID]
        the account's package, gift certificate and subscription codes (used-up ones too): {id, certificate,
        productID, orderID, appointmentTypeIDs, name, email, type, remainingCounts, remainingMinutes, expiration}
    GET /api/v1/certificates/check?certificate=CODE[&appointmentTypeID=N]
        the code when it can be used now (for that appointment type): a coupon carries couponID, discountType
        ("price" | "percentage") and discountAmount; 400 `invalid_certificate` when the code is unknown, used up or
        not for that type
    POST /_admin/certificates?account=N {"certificate", "type": "package"|"gift"|"subscription"|"coupon",
        "email"?, "appointmentTypeIDs"?, "remainingCounts"?, "discountType"?, "discountAmount"?}   (admin.py)

`type` is written as the admin call gave it; what Acuity itself writes there is UNCONFIRMED (the runtime reads it
with fallbacks: acuity_sync/acuity/models.py Certificate.kind). Booking an appointment with `certificate` set (or
setting it later) redeems the code: a package, subscription or gift certificate with counts left loses one, and a
cancellation by the business gives it back ("credit for the appointment will go back onto the package code"; not
for a no-show); a coupon's discount sets `priceSold` (unless the booking gives one). An unknown or used-up code is
refused, as Acuity refuses it at booking.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from acuity_sync_toolkit.fakes.acuity.errors import FakeAcuityError, JsonObject, bad_request
from acuity_sync_toolkit.fakes.acuity.fields import check_known_fields, is_int
from acuity_sync_toolkit.fakes.acuity.formats import parse_money

CODE_TYPES = ("package", "gift", "subscription", "coupon")
DISCOUNT_TYPES = ("price", "percentage")
DEFAULT_COUNTS = {"package": 10, "gift": 1, "subscription": None}  # None: unlimited while it runs
ADMIN_FIELDS = frozenset(
    {"certificate", "type", "email", "appointmentTypeIDs", "remainingCounts", "discountType", "discountAmount"}
)
_CENTS = Decimal("0.01")


def invalid_certificate(message: str) -> FakeAcuityError:
    return FakeAcuityError(400, "invalid_certificate", message)


@dataclass(slots=True)
class Certificate:
    id: int
    code: str
    type: str  # package | gift | subscription | coupon
    email: str = ""
    appointment_type_ids: list[int] = field(default_factory=list)  # empty: any type
    remaining: int | None = None  # counts left; None: unlimited
    discount_type: str = "price"  # coupons
    discount_amount: Decimal = Decimal("0.00")
    product_id: int | None = None
    order_id: int | None = None
    coupon_id: int | None = None

    @property
    def prepaid(self) -> bool:
        return self.type != "coupon"

    def usable_for(self, appointment_type_id: int | None) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        return (
            appointment_type_id is None
            or not self.appointment_type_ids
            or (appointment_type_id in self.appointment_type_ids)
        )

    def as_json(self) -> JsonObject:
        shown: JsonObject = {
            "id": self.id,
            "certificate": self.code,
            "productID": self.product_id,
            "orderID": self.order_id,
            "appointmentTypeIDs": list(self.appointment_type_ids),
            "name": f"{self.type.title()} {self.code}",
            "email": self.email,
            "type": self.type,
            "remainingCounts": None if self.remaining is None else {"any": self.remaining},
            "remainingMinutes": None,
            "expiration": None,
        }
        if not self.prepaid:
            shown.update(
                {
                    "couponID": self.coupon_id,
                    "productIDs": [],
                    "discountType": self.discount_type,
                    "discountAmount": f"{self.discount_amount:f}",
                }
            )
            for prepaid_only in ("productID", "orderID", "email", "remainingCounts", "remainingMinutes"):
                shown.pop(prepaid_only)
        return shown

    def discounted(self, price: Decimal) -> Decimal:
        """A coupon's price after its discount, never below zero."""
        if self.discount_type == "percentage":
            off = (price * self.discount_amount / 100).quantize(_CENTS, rounding=ROUND_HALF_UP)
        else:
            off = self.discount_amount
        return max(price - off, Decimal("0.00"))


def new_certificate(certificate_id: int, fields: Mapping[str, Any]) -> Certificate:
    """A code from the admin call's fields (checked as Acuity's own POST /certificates would refuse them)."""
    check_known_fields(fields, ADMIN_FIELDS)
    code, kind = fields.get("certificate"), fields.get("type")
    if not isinstance(code, str) or not code.strip():
        raise bad_request("certificate must be a non-empty string.")
    if kind not in CODE_TYPES:
        raise bad_request(f"type must be one of {', '.join(CODE_TYPES)}.")
    types = fields.get("appointmentTypeIDs", [])
    if not isinstance(types, list) or not all(is_int(item) for item in types):
        raise bad_request("appointmentTypeIDs must be a list of integers.")
    email = fields.get("email", "")
    if not isinstance(email, str):
        raise bad_request("email must be a string.")
    remaining = fields.get("remainingCounts", DEFAULT_COUNTS.get(str(kind)))
    if remaining is not None and (not is_int(remaining) or remaining < 0):
        raise bad_request("remainingCounts must be a non-negative integer or null.")
    certificate = Certificate(certificate_id, code.strip(), str(kind), email, list(types))
    if kind == "coupon":
        discount_type = fields.get("discountType", "price")
        if discount_type not in DISCOUNT_TYPES:
            raise bad_request(f"discountType must be one of {', '.join(DISCOUNT_TYPES)}.")
        certificate.discount_type = str(discount_type)
        certificate.discount_amount = parse_money(fields.get("discountAmount", "0.00"), "discountAmount")
        certificate.coupon_id = certificate_id
    else:
        certificate.remaining = remaining
        certificate.product_id = 5000 + certificate_id
    return certificate


def find(certificates: Mapping[str, Certificate], code: str) -> Certificate | None:
    return certificates.get(code.strip().casefold())


def redeem(certificates: Mapping[str, Certificate], code: str, appointment_type_id: int) -> Certificate:
    """Booking with `code`: one use of it, or Acuity's refusal."""
    certificate = find(certificates, code)
    if certificate is None:
        raise invalid_certificate(f"The code {code} is not valid.")
    if not certificate.usable_for(appointment_type_id):
        raise invalid_certificate(f"The code {code} cannot be used for this appointment (used up or not for it).")
    if certificate.remaining is not None:
        certificate.remaining -= 1
    return certificate


def give_back(certificates: Mapping[str, Certificate], code: str) -> None:
    """A cancellation by the business puts the use back on a package code."""
    certificate = find(certificates, code)
    if certificate is not None and certificate.remaining is not None:
        certificate.remaining += 1


def listed(certificates: Mapping[str, Certificate], query: Mapping[str, str | None]) -> list[JsonObject]:
    """GET /certificates: the prepaid codes (not coupons), filtered as asked."""
    found = []
    for certificate in certificates.values():
        if not certificate.prepaid:
            continue
        email, type_id = query.get("email"), query.get("appointmentTypeID")
        order_id, product_id = query.get("orderID"), query.get("productID")
        if email and certificate.email.casefold() != email.casefold():
            continue
        if type_id and certificate.appointment_type_ids and int(type_id) not in certificate.appointment_type_ids:
            continue
        if order_id and str(certificate.order_id) != order_id:
            continue
        if product_id and str(certificate.product_id) != product_id:
            continue
        found.append(certificate.as_json())
    return found


def checked(certificates: Mapping[str, Certificate], code: str | None, appointment_type_id: int | None) -> JsonObject:
    """GET /certificates/check: the code when it can be used now, else Acuity's 400."""
    if not code:
        raise bad_request("certificate is required.")
    certificate = find(certificates, code)
    if certificate is None or not certificate.usable_for(appointment_type_id):
        raise invalid_certificate(f"The code {code} is not valid.")
    return certificate.as_json()
