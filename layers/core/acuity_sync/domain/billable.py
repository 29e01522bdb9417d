"""What the engine bills, whatever Acuity called it: an appointment or an order, reduced to the facts the rules
need. Built from Acuity's current state (the webhook only says which one changed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from acuity_sync.domain.names import EventKind

ZERO = Decimal("0.00")


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
    price: Decimal  # tax-inclusive, to the cent: what the invoice must net to
    currency: str
    canceled: bool = False
    code: str | None = None  # package, gift certificate, subscription or coupon code applied
    payments: tuple[ReceivedPayment, ...] = field(default=())

    @property
    def reference(self) -> str:
        """Our marker on every document we write for it."""
        return f"acuity:{self.kind}:{self.source_id}"

    @property
    def paid_total(self) -> Decimal:
        return sum((payment.amount for payment in self.payments), ZERO)

    def payments_in_order(self) -> tuple[ReceivedPayment, ...]:
        return tuple(sorted(self.payments, key=lambda payment: (payment.paid_on, payment.transaction_id)))
