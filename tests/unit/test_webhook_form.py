from __future__ import annotations

import pytest

from acuity_sync.acuity.webhook import MalformedWebhook, parse_webhook_form
from acuity_sync.domain.names import EventKind

FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("action", "kind", "normalised"),
    [
        ("scheduled", EventKind.APPOINTMENT, "scheduled"),
        ("rescheduled", EventKind.APPOINTMENT, "rescheduled"),
        ("canceled", EventKind.APPOINTMENT, "canceled"),
        ("changed", EventKind.APPOINTMENT, "changed"),
        ("appointment.scheduled", EventKind.APPOINTMENT, "scheduled"),
        ("appointment.rescheduled", EventKind.APPOINTMENT, "rescheduled"),
        ("appointment.canceled", EventKind.APPOINTMENT, "canceled"),
        ("appointment.changed", EventKind.APPOINTMENT, "changed"),
        ("order.completed", EventKind.ORDER, "order.completed"),
    ],
)
def test_both_spellings_of_every_action_are_understood(action: str, kind: EventKind, normalised: str) -> None:
    notice = parse_webhook_form(f"action={action}&id=54321&calendarID=27238".encode(), FORM)
    assert (notice.kind, notice.object_id, notice.action) == (kind, 54321, normalised)
    assert notice.is_known


def test_an_unknown_action_is_read_but_not_known() -> None:
    notice = parse_webhook_form(b"action=appointment.noshow&id=7", FORM)
    assert notice.kind is None
    assert not notice.is_known
    assert notice.action == "appointment.noshow"


def test_order_of_fields_and_extra_fields_do_not_matter() -> None:
    notice = parse_webhook_form(b"appointmentTypeID=1&id=42&foo=bar&action=changed", FORM)
    assert (notice.kind, notice.object_id) == (EventKind.APPOINTMENT, 42)


def test_content_type_with_charset_and_other_case_is_accepted() -> None:
    notice = parse_webhook_form(b"action=changed&id=1", "Application/X-WWW-Form-Urlencoded; charset=UTF-8")
    assert notice.object_id == 1


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"action=changed&id=1", "application/json", "Content-Type"),
        (b"action=changed&id=1", None, "Content-Type"),
        (b"action=changed&id=\xff", FORM, "UTF-8"),
        (b"action=changed&id=%ff", FORM, "valid form"),
        (b"action=changed&id", FORM, "valid form"),
        (b"id=1", FORM, "no action"),
        (b"action=&id=1", FORM, "no action"),
        (b"action=changed", FORM, "numeric id"),
        (b"action=changed&id=12a", FORM, "numeric id"),
        (b"action=changed&id=-1", FORM, "numeric id"),
        (b"action=changed&id=%EF%BC%91", FORM, "numeric id"),  # a full-width digit
        (b"action=changed&id=" + b"9" * 20, FORM, "numeric id"),
        (b"action=changed&id=1&id=2", FORM, "two different values"),
        (b"", FORM, "no action"),
    ],
)
def test_malformed_forms_say_why(body: bytes, content_type: str | None, reason: str) -> None:
    with pytest.raises(MalformedWebhook) as raised:
        parse_webhook_form(body, content_type)
    assert reason in raised.value.reason


def test_a_repeated_identical_field_is_accepted() -> None:
    assert parse_webhook_form(b"action=changed&id=5&id=5", FORM).object_id == 5
