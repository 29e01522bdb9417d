"""The body of an Acuity webhook: a form with only ids in it (`action`, `id`, and for appointments
`calendarID` and `appointmentTypeID`). It is a nudge: the sync reads the current state from Acuity."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from acuity_sync.domain.names import EventKind

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
MAX_ID_DIGITS = 19  # an id Acuity could send fits a signed 64-bit integer


# Acuity sends `scheduled` for static webhooks; dynamic subscriptions are named `appointment.scheduled`,
# and which spelling arrives in `action` is not documented for every registration: accept both.
_APPOINTMENT_ACTIONS = frozenset({"scheduled", "rescheduled", "canceled", "changed"})
_ORDER_ACTIONS = frozenset({"order.completed"})


class MalformedWebhook(ValueError):
    """The request is not an Acuity webhook form we can read; `reason` is said to the sender."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class WebhookNotice:
    """What a signed webhook tells us: which appointment or order changed, and how Acuity named it."""

    kind: EventKind | None  # None: a signed action we do not handle
    object_id: int
    action: str  # normalised: `scheduled`, `order.completed`, or the unknown action as sent

    @property
    def is_known(self) -> bool:
        return self.kind is not None


def normalise_action(action: str) -> tuple[EventKind | None, str]:
    bare = action.removeprefix("appointment.")
    if bare in _APPOINTMENT_ACTIONS:
        return EventKind.APPOINTMENT, bare
    if action in _ORDER_ACTIONS:
        return EventKind.ORDER, action
    return None, action


def is_form_content_type(content_type: str | None) -> bool:
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == FORM_CONTENT_TYPE


def parse_webhook_form(body: bytes, content_type: str | None) -> WebhookNotice:
    """Read the form; raise MalformedWebhook with a reason a person understands."""
    if not is_form_content_type(content_type):
        raise MalformedWebhook(f"expected Content-Type {FORM_CONTENT_TYPE}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedWebhook("the body is not valid UTF-8") from error
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict")
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedWebhook("the body is not a valid form") from error
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in ("action", "id") and name in fields and fields[name] != value:
            raise MalformedWebhook(f"the form has two different values for {name!r}")
        fields.setdefault(name, value)
    action = fields.get("action", "").strip()
    if not action:
        raise MalformedWebhook("the form has no action")
    raw_id = fields.get("id", "").strip()
    if not (raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= MAX_ID_DIGITS):
        raise MalformedWebhook("the form has no numeric id")
    kind, normalised = normalise_action(action)
    return WebhookNotice(kind=kind, object_id=int(raw_id), action=normalised)
