"""From what Acuity says now (an appointment and its payments, or an order) to the Billable the plan reads."""

from __future__ import annotations

from collections.abc import Sequence

from acuity_sync.acuity.models import Appointment, Order, OrderStatus, Payment
from acuity_sync.domain.billable import Billable, Client, CodeKind, ReceivedPayment
from acuity_sync.domain.names import EventKind


def describe_appointment(appointment: Appointment) -> str:
    """e.g. "Massage (60 min), Thu Dec 3 2026 3:00pm": the invoice line and memo."""
    start = appointment.local_start
    when = (
        f"{start:%a %b} {start.day} {start.year} {start.hour % 12 or 12}:{start:%M}{'am' if start.hour < 12 else 'pm'}"
    )
    return f"{appointment.type or 'Appointment'} ({appointment.duration} min), {when}"


def billable_from_appointment(
    appointment: Appointment, payments: Sequence[Payment], currency: str, code_kind: CodeKind | None = None
) -> Billable:
    """`code_kind`: what the appointment's code (`certificate`) is, as Acuity's certificates API says (looked up
    by the sync service, cached per tenant)."""
    answers = tuple((value.name, value.value) for form in appointment.forms for value in form.values if value.value)
    return Billable(
        kind=EventKind.APPOINTMENT,
        source_id=appointment.id,
        client=Client(
            first_name=appointment.first_name,
            last_name=appointment.last_name,
            email=appointment.email.strip() or None,
            phone=appointment.phone,
            notes=appointment.notes,
            form_answers=answers,
        ),
        service_date=appointment.local_date,
        description=describe_appointment(appointment),
        item_key=str(appointment.appointment_type_id),
        price=appointment.price,
        currency=currency,
        canceled=appointment.canceled,
        code=appointment.certificate,
        payments=tuple(
            ReceivedPayment(payment.transaction_id, payment.amount, payment.local_date(appointment.zone))
            for payment in payments
        ),
        code_kind=code_kind if appointment.certificate is not None else None,
        price_sold=appointment.price_sold,
        created_at=appointment.datetime_created,
    )


ORDER_ITEM_KEY = "order"


def billable_from_order(order: Order, currency: str) -> Billable:
    """An order paid in Acuity's store is paid in full (Acuity has no payments endpoint for orders): one payment,
    referenced by the order id. No `created_at`: Acuity sends an order's one webhook when it is completed, so the
    rule booked_before_connection (an old booking changed later) does not arise for orders."""
    paid = order.status in (OrderStatus.PAID, OrderStatus.DELIVERED)
    return Billable(
        kind=EventKind.ORDER,
        source_id=order.id,
        client=Client(order.first_name, order.last_name, order.email.strip() or None, order.phone, order.notes),
        service_date=order.local_date,
        description=order.title or f"Order {order.id}",
        item_key=ORDER_ITEM_KEY,
        price=order.total,
        currency=currency,
        payments=(ReceivedPayment(f"acuity-order-{order.id}", order.total, order.local_date),) if paid else (),
    )
