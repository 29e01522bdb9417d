"""What the engine bills, whatever Acuity called it: an appointment or an order, reduced to the facts the rules
need. Built from Acuity's current state (the webhook only says which one changed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from acuity_sync.domain.names import EventKind

ZERO = Decimal("0.00")


class CodeKind(StrEnum):
    """What a code on an appointment (`certificate`) is, as Acuity's certificates API says: a package, gift
    certificate or subscription was paid for when it was sold; a coupon is a discount."""

    PACKAGE = "package"
    GIFT = "gift"
    SUBSCRIPTION = "subscription"
    COUPON = "coupon"
    UNKNOWN = "unknown"  # Acuity's certificates API does not know it (any more)

    @property
    def prepaid(self) -> bool:
        return self in (CodeKind.PACKAGE, CodeKind.GIFT, CodeKind.SUBSCRIPTION)


@dataclass(frozen=True, slots=True)
class Client:
    first_name: str
    last_name: str
    email: str | None  # None: booked without one (matched by name and phone, never emailed)
    phone: str = ""
    notes: str = ""
    form_answers: tuple[tuple[str, str], ...] = field(default=())


@dataclass(frozen=True, slots=True)
class ReceivedPayment:
    """One Acuity payment (`transactionID`): at most one ledger payment each."""

    transaction_id: str
    amount: Decimal
    paid_on: date


@dataclass(frozen=True, slots=True)
class Billable:
    kind: EventKind
    source_id: int
    client: Client
    service_date: date  # the appointment's local date in the calendar's time zone, or the order's date
    description: str  # e.g. "Massage (60 min), Thu Dec 3 2026 3:00pm"
    item_key: str  # appointment type id, or "order"
    price: Decimal  # tax-inclusive, to the cent, as Acuity states it (the plan's rules say what is billed)
    currency: str
    canceled: bool = False
    code: str | None = None  # package, gift certificate, subscription or coupon code applied
    payments: tuple[ReceivedPayment, ...] = field(default=())
    code_kind: CodeKind | None = None  # what `code` is; None when it was not looked up
    price_sold: Decimal | None = None  # Acuity's `priceSold`, when it sends one
    created_at: datetime | None = None  # when it was booked in Acuity (`datetimeCreated`, to the second); None for
    # an order, or when Acuity does not say

    @property
    def reference(self) -> str:
        """Our marker on every document we write for it."""
        return f"acuity:{self.kind}:{self.source_id}"

    @property
    def paid_total(self) -> Decimal:
        return sum((payment.amount for payment in self.payments), ZERO)

    def payments_in_order(self) -> tuple[ReceivedPayment, ...]:
        return tuple(sorted(self.payments, key=lambda payment: (payment.paid_on, payment.transaction_id)))
