"""What of an appointment or order a sync depends on, as one short string: the sync records it for the state it
synced from (store/seen.py), and reconciliation compares it with what Acuity lists now, so that an appointment
whose webhook never came, or came for an older state, is found without reading anything else.

Only fields that Acuity's list and its single read both carry, and that change what is written to a ledger (the
client, the date and time, the type, the price, what was paid, a code, canceled), so that the same appointment read
either way has the same fingerprint; display strings and links are left out."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from acuity_sync.acuity.models import Appointment, Order, format_money


def appointment_fingerprint(appointment: Appointment) -> str:
    return _digest(
        {
            "id": appointment.id,
            "client": [appointment.first_name, appointment.last_name, appointment.email, appointment.phone],
            "notes": appointment.notes,
            "forms": [[value.name, value.value] for form in appointment.forms for value in form.values],
            "at": appointment.datetime.isoformat(),
            "zone": appointment.calendar_timezone,
            "type": [appointment.type, appointment.appointment_type_id, appointment.duration],
            "price": format_money(appointment.price),
            "paid": format_money(appointment.amount_paid),
            "code": appointment.certificate,
            "canceled": appointment.canceled,
        }
    )


def order_fingerprint(order: Order) -> str:
    return _digest(
        {
            "id": order.id,
            "client": [order.first_name, order.last_name, order.email, order.phone],
            "notes": order.notes,
            "title": order.title,
            "total": format_money(order.total),
            "status": str(order.status),
            "time": order.time.isoformat(),
        }
    )


def _digest(fields: dict[str, Any]) -> str:
    text = json.dumps(fields, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
