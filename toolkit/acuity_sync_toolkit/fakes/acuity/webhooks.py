"""Which webhooks a change fires, with which form body: Acuity's events, their order, both `action` spellings.

Notifications are made under the state's lock, when the change is made; `delivery.py` sends them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from acuity_sync_toolkit.fakes.acuity.entities import Account, Appointment, Webhook
from acuity_sync_toolkit.fakes.acuity.errors import JsonObject

WEBHOOK_EVENTS = (
    "appointment.scheduled",
    "appointment.rescheduled",
    "appointment.canceled",
    "appointment.changed",
    "order.completed",
)
MAX_WEBHOOKS_PER_ACCOUNT = 25


@dataclass(frozen=True, slots=True)
class Notification:
    """One webhook delivery: the same body is re-sent on each attempt."""

    account_id: int
    webhook_id: int
    event: str
    action: str
    target: str
    body: bytes


def change_events(old: Appointment, new: Appointment, before: JsonObject, after: JsonObject) -> list[str]:
    """The events a change fires, in Acuity's order: the specific one first, then the catch-all `changed`."""
    if new.canceled and not old.canceled:
        return ["appointment.canceled", "appointment.changed"]
    if new.start != old.start:
        return ["appointment.rescheduled", "appointment.changed"]
    if before != after:
        return ["appointment.changed"]
    return []


def webhook_action(event: str, action_format: str) -> str:
    """The `action` value: `scheduled` (plain, as static webhooks send) or `appointment.scheduled` (event)."""
    if action_format == "event":
        return event
    return event.removeprefix("appointment.")


def appointment_webhook_body(action: str, rendered: Mapping[str, Any]) -> bytes:
    return (
        f"action={action}&id={rendered['id']}&calendarID={rendered['calendarID']}"
        f"&appointmentTypeID={rendered['appointmentTypeID']}"
    ).encode("ascii")


def order_webhook_body(action: str, order_id: int) -> bytes:
    return f"action={action}&id={order_id}".encode("ascii")


def hooks_for(account: Account, event: str) -> list[Webhook]:
    return [hook for hook in account.webhooks.values() if hook.event == event]


def appointment_notifications(
    account: Account, events: Sequence[str], rendered: Mapping[str, Any]
) -> list[Notification]:
    notifications: list[Notification] = []
    for event in events:
        action = webhook_action(event, account.action_format)
        body = appointment_webhook_body(action, rendered)
        notifications.extend(
            Notification(account.user_id, hook.id, event, action, hook.target, body)
            for hook in hooks_for(account, event)
        )
    return notifications


def order_notifications(account: Account, order_id: int) -> list[Notification]:
    return [
        Notification(account.user_id, hook.id, hook.event, action, hook.target, order_webhook_body(action, order_id))
        for hook in hooks_for(account, "order.completed")
        for action in [webhook_action(hook.event, account.action_format)]
    ]
