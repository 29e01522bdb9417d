"""The settings page's form is the settings model itself: every setting of every ledger is a field named as its
key, with its default; a posted form means exactly the settings it shows (a round trip changes nothing), and a
wrong value comes back with the very message `acuity-sync settings set` prints, by its field; the stylesheet is the
one the Content-Security-Policy allows by hash, and cookies are HttpOnly, Secure, SameSite=Lax and path-limited."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from pydantic import ValidationError

from acuity_sync.domain.documents import Choice
from acuity_sync.domain.names import LedgerName
from acuity_sync.ledgers.registry import default_settings, parse_settings, settings_error_messages
from acuity_sync.web.forms import (
    GENERAL,
    FormProblem,
    Kind,
    field_keys,
    problems_by_field,
    settings_document,
    settings_fields,
)
from acuity_sync.web.security import CONTENT_SECURITY_POLICY, CSS, PAGE_HEADERS, SESSION_PATH, set_cookie


def posted(fields: list[Any]) -> dict[str, list[str]]:
    """What a browser posts for these fields as shown: a checkbox's hidden "off", then "on" when ticked."""
    form: dict[str, list[str]] = {}
    for field in fields:
        if field.kind == Kind.CHECKBOX:
            form[field.key] = ["off", "on"] if field.value == "on" else ["off"]
        else:
            form[field.key] = [field.value]
    return form


@pytest.mark.parametrize("ledger", list(LedgerName))
def test_every_setting_is_a_field_named_by_its_key_with_its_default(ledger: LedgerName) -> None:
    defaults = default_settings(ledger)
    fields = settings_fields(defaults, defaults, {})
    keys = [field.key for field in fields]
    assert keys == field_keys(type(defaults))
    assert {"mode", "tips", "customer_fields.phone", "invoice_number_template", "sync_payments"} <= set(keys)
    assert any(key.startswith(f"{ledger}.") for key in keys)
    mode = next(field for field in fields if field.key == "mode")
    assert (mode.kind, mode.value, mode.default) == (Kind.SELECT, "draft", "draft")
    assert [value for value, _ in mode.options] == ["customer_only", "draft", "send"]


@pytest.mark.parametrize("ledger", list(LedgerName))
def test_a_form_posted_as_shown_means_the_same_settings(ledger: LedgerName) -> None:
    settings = parse_settings(
        ledger,
        {
            "mode": "send",
            "sync_orders": False,
            "invoice_number_template": "ACU-{id}",
            "customer_fields": {"notes": True},
            **(
                {"quickbooks": {"service_items": {"27238": "21"}, "default_item_id": "1"}}
                if ledger == "quickbooks"
                else {}
            ),
        },
    )
    fields = settings_fields(settings, default_settings(ledger), {})
    document, _ = settings_document(type(settings), posted(fields))
    assert parse_settings(ledger, document) == settings


def test_lists_read_from_the_ledger_become_choices_and_keep_a_choice_no_longer_listed() -> None:
    settings = parse_settings(LedgerName.XERO, {"xero": {"invoice_account_id": "ebd06280-af70-4bed-97c6-7451a454ad85"}})
    lists = {"xero.invoice_account_id": [Choice("11111111-1111-1111-1111-111111111111", "Sales", "REVENUE", "200")]}
    field = next(
        f
        for f in settings_fields(settings, default_settings(LedgerName.XERO), lists)
        if f.key == "xero.invoice_account_id"
    )
    assert field.kind == Kind.SELECT
    assert field.options[0] == ("", "(default)")
    assert ("11111111-1111-1111-1111-111111111111", "Sales (200)") in field.options
    assert (
        "ebd06280-af70-4bed-97c6-7451a454ad85",
        "ebd06280-af70-4bed-97c6-7451a454ad85 (not in the list now)",
    ) in field.options


def test_wrong_values_come_back_with_the_cli_messages_by_field() -> None:
    model = type(default_settings(LedgerName.QUICKBOOKS))
    form = {"mode": ["sometimes"], "quickbooks.default_item_id": ["Services"], "invoice_number_template": ["ACU"]}
    document, shown = settings_document(model, form)
    assert shown["mode"] == "sometimes"
    with pytest.raises(ValidationError) as refused:
        parse_settings(LedgerName.QUICKBOOKS, document)
    lines = settings_error_messages(refused.value)
    grouped = problems_by_field(lines, field_keys(model))
    assert set(grouped) == {"mode", "quickbooks.default_item_id", "invoice_number_template"}
    assert grouped["mode"] == ["must be one of customer_only, draft, send (got 'sometimes')"]
    assert all(f"{key}: {message}" in lines for key, messages in grouped.items() for message in messages)
    assert problems_by_field(["The invoice account is not active"], field_keys(model)) == {
        GENERAL: ["The invoice account is not active"]
    }


def test_mapping_lines_must_be_id_equals_id() -> None:
    model = type(default_settings(LedgerName.QUICKBOOKS))
    document, _ = settings_document(model, {"quickbooks.service_items": ["27238 = 21\n\n31 =4"]})
    assert document["quickbooks"]["service_items"] == {"27238": "21", "31": "4"}
    with pytest.raises(FormProblem) as problem:
        settings_document(model, {"quickbooks.service_items": ["27238"]})
    assert problem.value.key == "quickbooks.service_items"


def test_the_inline_stylesheet_is_the_one_the_policy_allows_and_nothing_else_runs() -> None:
    digest = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in CONTENT_SECURITY_POLICY
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'none'"
    assert "script-src" not in directives
    assert directives["form-action"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert PAGE_HEADERS["Referrer-Policy"] == "no-referrer"
    assert PAGE_HEADERS["Cache-Control"] == "no-store"


def test_cookies_are_http_only_secure_lax_and_path_limited() -> None:
    cookie = str(set_cookie("acuity_sync_session", "v", SESSION_PATH, 60))
    parts = {part.strip() for part in cookie.split(";")}
    assert {"HttpOnly", "Secure", "SameSite=Lax", "Path=/connect", "Max-Age=60"} <= parts
