"""Settings per tenant and ledger: defaults, every rule, and the words a business owner reads when a value is wrong."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from acuity_sync.domain.documents import TaxMode
from acuity_sync.domain.names import ALL_LEDGERS, LedgerName
from acuity_sync.domain.settings import CustomerFields, Mode, TipHandling, render_invoice_number
from acuity_sync.ledgers.freshbooks.options import FreshBooksSettings
from acuity_sync.ledgers.quickbooks.options import QUICKBOOKS_DOC_NUMBER_MAX, QuickBooksSettings
from acuity_sync.ledgers.registry import LEDGER_SETTINGS, default_settings, parse_settings, settings_error_messages
from acuity_sync.ledgers.xero.options import XeroSettings

ACCOUNT = "ebd06280-af70-4bed-97c6-7451a454ad85"
BANK = "13918178-849a-4823-9a31-57b7eac713d7"


def messages(ledger: LedgerName, document: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        parse_settings(ledger, document)
    return settings_error_messages(caught.value)


# --------------------------------------------------------------------------------------------- defaults
@pytest.mark.parametrize("ledger", ALL_LEDGERS)
def test_the_defaults_mirror_the_design(ledger: LedgerName) -> None:
    settings = default_settings(ledger)
    assert settings.ledger == ledger
    assert settings.mode is Mode.DRAFT
    assert settings.invoice_free_appointments is True
    assert settings.sync_orders is True
    assert settings.update_on_change is True
    assert settings.sync_payments is True
    assert settings.tips is TipHandling.EXCLUDE
    assert settings.customer_fields == CustomerFields(phone=True, notes=False, intake_forms=False)
    assert settings.invoice_number_template is None
    assert settings.invoice_number(54321) is None
    assert settings.sync_from is None  # from the connection's time


def test_tax_defaults_follow_principle_4() -> None:
    assert default_settings(LedgerName.QUICKBOOKS, country="US").quickbooks.tax_mode is TaxMode.NON_TAXABLE
    assert default_settings(LedgerName.QUICKBOOKS, country="us").quickbooks.tax_mode is TaxMode.NON_TAXABLE
    assert default_settings(LedgerName.QUICKBOOKS, country="GB").quickbooks.tax_mode is TaxMode.INCLUSIVE
    assert default_settings(LedgerName.QUICKBOOKS, country="CA").quickbooks.tax_mode is TaxMode.INCLUSIVE
    xero = default_settings(LedgerName.XERO, country="US")
    assert isinstance(xero, XeroSettings)
    assert xero.xero.tax_mode is TaxMode.INCLUSIVE
    freshbooks = default_settings(LedgerName.FRESHBOOKS, country="GB")
    assert isinstance(freshbooks, FreshBooksSettings)
    assert freshbooks.freshbooks.tax_mode is TaxMode.NON_TAXABLE


def test_quickbooks_without_a_country_follows_the_company_once_connected() -> None:
    settings = default_settings(LedgerName.QUICKBOOKS)
    assert isinstance(settings, QuickBooksSettings)
    assert settings.quickbooks.tax_mode is None
    assert settings.tax_mode_for(TaxMode.NON_TAXABLE) is TaxMode.NON_TAXABLE
    assert settings.tax_mode_for(TaxMode.INCLUSIVE) is TaxMode.INCLUSIVE
    chosen = parse_settings(LedgerName.QUICKBOOKS, {"quickbooks": {"tax_mode": "ledger_default"}})
    assert chosen.tax_mode_for(TaxMode.NON_TAXABLE) is TaxMode.LEDGER_DEFAULT


def test_xero_and_freshbooks_tax_modes_are_their_own() -> None:
    assert default_settings(LedgerName.XERO).tax_mode_for(TaxMode.NON_TAXABLE) is TaxMode.INCLUSIVE
    assert default_settings(LedgerName.FRESHBOOKS).tax_mode_for(TaxMode.INCLUSIVE) is TaxMode.NON_TAXABLE


@pytest.mark.parametrize("ledger", ALL_LEDGERS)
def test_settings_round_trip_through_json(ledger: LedgerName) -> None:
    settings = parse_settings(ledger, {"mode": "send", "tips": "separate_line", "invoice_number_template": "A-{id}"})
    again = parse_settings(ledger, json.loads(settings.model_dump_json()))
    assert again == settings
    assert LEDGER_SETTINGS.validate_json(settings.model_dump_json()) == settings


def test_settings_are_frozen() -> None:
    settings = default_settings(LedgerName.XERO)
    with pytest.raises(ValidationError):
        settings.mode = Mode.SEND


def test_the_union_picks_the_model_by_ledger() -> None:
    assert isinstance(LEDGER_SETTINGS.validate_python({"ledger": "xero"}), XeroSettings)
    assert isinstance(LEDGER_SETTINGS.validate_python({"ledger": "freshbooks"}), FreshBooksSettings)
    with pytest.raises(ValidationError) as caught:
        LEDGER_SETTINGS.validate_python({"ledger": "sage", "mode": "send"})
    assert settings_error_messages(caught.value) == ["ledger: must be one of quickbooks, xero, freshbooks (got 'sage')"]


def test_a_union_error_is_located_without_the_tag() -> None:
    with pytest.raises(ValidationError) as caught:
        LEDGER_SETTINGS.validate_python({"ledger": "quickbooks", "quickbooks": {"default_item_id": "Massage"}})
    [line] = settings_error_messages(caught.value)
    assert line.startswith("quickbooks.default_item_id: must be a QuickBooks id")


# --------------------------------------------------------------------------------------------- common rules
def test_mode_lists_the_choices() -> None:
    assert messages(LedgerName.QUICKBOOKS, {"mode": "sent"}) == [
        "mode: must be one of customer_only, draft, send (got 'sent')"
    ]
    assert messages(LedgerName.XERO, {"mode": True}) == ["mode: must be one of customer_only, draft, send (got true)"]


def test_choices_forgive_letter_case_and_spaces() -> None:
    settings = parse_settings(LedgerName.QUICKBOOKS, {"mode": " Send ", "tips": "SEPARATE_LINE"})
    assert settings.mode is Mode.SEND
    assert settings.tips is TipHandling.SEPARATE_LINE


def test_tips_list_the_choices() -> None:
    assert messages(LedgerName.FRESHBOOKS, {"tips": "include"}) == [
        "tips: must be one of exclude, separate_line (got 'include')"
    ]


@pytest.mark.parametrize(
    "name", ["invoice_free_appointments", "sync_orders", "update_on_change", "sync_payments", "customer_fields.phone"]
)
def test_switches_are_true_or_false(name: str) -> None:
    document: dict[str, Any] = {name: "maybe"}
    if name.startswith("customer_fields."):
        document = {"customer_fields": {"phone": "maybe"}}
    assert messages(LedgerName.QUICKBOOKS, document) == [f"{name}: must be true or false (got 'maybe')"]


def test_switches_turn_off() -> None:
    settings = parse_settings(
        LedgerName.XERO,
        {"invoice_free_appointments": False, "sync_orders": False, "update_on_change": False, "sync_payments": False},
    )
    switches = (settings.invoice_free_appointments, settings.sync_orders, settings.update_on_change)
    assert switches == (False, False, False)
    assert settings.sync_payments is False


def test_a_misspelled_key_is_an_error_with_a_suggestion() -> None:
    assert messages(LedgerName.QUICKBOOKS, {"invoice_free_appointment": False}) == [
        "invoice_free_appointment: is not a setting; did you mean 'invoice_free_appointments'?"
    ]
    assert messages(LedgerName.XERO, {"xero": {"payment_acount_id": BANK}}) == [
        "xero.payment_acount_id: is not a setting; did you mean 'payment_account_id'?"
    ]


def test_an_unknown_key_lists_the_settings_there() -> None:
    [line] = messages(LedgerName.FRESHBOOKS, {"customer_fields": {"birthday": True}})
    assert line == "customer_fields.birthday: is not a setting; the settings here are phone, notes, intake_forms"


def test_another_ledgers_section_is_not_a_setting() -> None:
    [line] = messages(LedgerName.QUICKBOOKS, {"xero": {}})
    assert line.startswith("xero: is not a setting")


def test_name_and_email_cannot_be_turned_off() -> None:
    assert messages(LedgerName.QUICKBOOKS, {"customer_fields": {"email": False}}) == [
        "customer_fields.email: first name, last name and email are always copied to the customer; "
        "they cannot be turned off"
    ]


def test_optional_customer_fields() -> None:
    settings = parse_settings(
        LedgerName.XERO, {"customer_fields": {"phone": False, "notes": True, "intake_forms": True}}
    )
    assert settings.customer_fields == CustomerFields(phone=False, notes=True, intake_forms=True)


def test_a_group_must_be_a_group() -> None:
    assert messages(LedgerName.QUICKBOOKS, {"customer_fields": "phone"}) == [
        "customer_fields: must be a group of settings written as {...} (got 'phone')"
    ]


def test_the_ledger_cannot_be_changed() -> None:
    assert messages(LedgerName.QUICKBOOKS, {"ledger": "xero"}) == [
        "ledger: these are the quickbooks settings; the ledger cannot be changed (got 'xero')"
    ]


def test_every_problem_gets_its_own_line() -> None:
    lines = messages(LedgerName.QUICKBOOKS, {"mode": "sent", "tips": 3, "sync_orders": "x"})
    assert sorted(line.split(":")[0] for line in lines) == ["mode", "sync_orders", "tips"]
    assert all(": " in line for line in lines)


# --------------------------------------------------------------------------------------------- invoice numbers
def test_a_template_numbers_invoices() -> None:
    settings = parse_settings(LedgerName.QUICKBOOKS, {"invoice_number_template": "ACU-{id}"})
    assert settings.invoice_number(1234567890) == "ACU-1234567890"
    assert render_invoice_number("{id}/A", 7) == "7/A"


@pytest.mark.parametrize("template", ["ACU", "ACU-{id}-{id}", ""])
def test_a_template_needs_the_id_once(template: str) -> None:
    [line] = messages(LedgerName.XERO, {"invoice_number_template": template})
    assert line.startswith("invoice_number_template: must contain {id} exactly once")


@pytest.mark.parametrize(
    ("template", "shown"),
    [("ACU-{date}-{id}", "{date}"), ("{ID}-{id}", "{ID}"), ("{}{id}", "{}"), ("ACU}-{id}", "a lone brace")],
)
def test_only_the_id_placeholder_is_allowed(template: str, shown: str) -> None:
    [line] = messages(LedgerName.QUICKBOOKS, {"invoice_number_template": template})
    assert line == f"invoice_number_template: only the placeholder {{id}} is allowed (got {shown} in {template!r})"


def test_a_template_is_plain_text() -> None:
    [line] = messages(LedgerName.QUICKBOOKS, {"invoice_number_template": " ACU-{id}"})
    assert "without leading or trailing spaces" in line
    [line] = messages(LedgerName.QUICKBOOKS, {"invoice_number_template": "ACU\t{id}"})
    assert "plain text" in line


def test_quickbooks_numbers_fit_docnumber() -> None:
    longest_allowed = "A" * (QUICKBOOKS_DOC_NUMBER_MAX - 12) + "{id}"  # 12 digits are kept for the Acuity id
    assert parse_settings(LedgerName.QUICKBOOKS, {"invoice_number_template": longest_allowed})
    [line] = messages(LedgerName.QUICKBOOKS, {"invoice_number_template": "STUDIO-ACU-{id}"})
    assert line == (
        "invoice_number_template: is too long for QuickBooks: 'STUDIO-ACU-{id}' makes numbers of up to 23 characters "
        "with a 12-digit Acuity id, and QuickBooks allows at most 21 (DocNumber); keep the text around {id} to 9 "
        "characters or fewer"
    )


def test_xero_allows_longer_numbers() -> None:
    settings = parse_settings(LedgerName.XERO, {"invoice_number_template": "STUDIO-ACU-{id}"})
    assert settings.invoice_number(42) == "STUDIO-ACU-42"
    [line] = messages(LedgerName.XERO, {"invoice_number_template": "X" * 250 + "{id}"})
    assert "Xero allows at most 255 (InvoiceNumber)" in line


def test_a_template_can_be_removed() -> None:
    assert parse_settings(LedgerName.FRESHBOOKS, {"invoice_number_template": None}).invoice_number(1) is None


# --------------------------------------------------------------------------------------------- QuickBooks
def test_quickbooks_items_map_appointment_types() -> None:
    settings = parse_settings(
        LedgerName.QUICKBOOKS,
        {"quickbooks": {"default_item_id": 1, "service_items": {"27238": 21, "27239": "22"}, "tax_code_id": "5"}},
    )
    assert isinstance(settings, QuickBooksSettings)
    options = settings.quickbooks
    assert options.default_item_id == "1"  # ids are strings in QuickBooks, whatever was typed
    assert options.service_items == {27238: "21", 27239: "22"}
    assert options.item_for(27238) == "21"
    assert options.item_for(99999) == "1"
    assert options.tax_code_id == "5"
    assert json.loads(settings.model_dump_json())["quickbooks"]["service_items"] == {"27238": "21", "27239": "22"}


def test_a_null_mapping_falls_back_to_the_default_item() -> None:
    settings = parse_settings(LedgerName.QUICKBOOKS, {"quickbooks": {"service_items": {"27238": None, "5": "9"}}})
    assert isinstance(settings, QuickBooksSettings)
    assert settings.quickbooks.service_items == {5: "9"}


def test_quickbooks_items_are_ids_not_names() -> None:
    assert messages(LedgerName.QUICKBOOKS, {"quickbooks": {"default_item_id": "Massage"}}) == [
        "quickbooks.default_item_id: must be a QuickBooks id, a number such as '21' (got 'Massage'); names are not "
        "accepted, because QuickBooks refers to items and tax codes by id"
    ]
    [line] = messages(LedgerName.QUICKBOOKS, {"quickbooks": {"default_item_id": True}})
    assert line.endswith("(got true); names are not accepted, because QuickBooks refers to items and tax codes by id")


def test_appointment_types_are_acuity_ids() -> None:
    assert messages(LedgerName.QUICKBOOKS, {"quickbooks": {"service_items": {"Massage": "21"}}}) == [
        "quickbooks.service_items.Massage: must be an Acuity appointment type id, a number such as 27238 "
        "(got 'Massage')"
    ]


def test_quickbooks_tax_mode_lists_the_choices() -> None:
    assert messages(LedgerName.QUICKBOOKS, {"quickbooks": {"tax_mode": "exclusive"}}) == [
        "quickbooks.tax_mode: must be one of inclusive, non_taxable, ledger_default (got 'exclusive')"
    ]


# --------------------------------------------------------------------------------------------- Xero
def test_xero_accounts_are_account_ids() -> None:
    settings = parse_settings(
        LedgerName.XERO,
        {"xero": {"invoice_account_id": ACCOUNT.upper(), "payment_account_id": BANK, "tax_type": " output2 "}},
    )
    assert isinstance(settings, XeroSettings)
    assert settings.xero.invoice_account_id == ACCOUNT  # stored as Xero writes them: lower case
    assert settings.xero.payment_account_id == BANK
    assert settings.xero.tax_type == "OUTPUT2"


def test_xero_account_codes_are_refused_with_the_reason() -> None:
    assert messages(LedgerName.XERO, {"xero": {"payment_account_id": "090"}}) == [
        f"xero.payment_account_id: must be a Xero AccountID such as '{ACCOUNT}' (got '090'); account codes such as "
        "'200' are not accepted, because bank accounts may have no code"
    ]


def test_xero_payments_and_invoices_use_different_accounts() -> None:
    [line] = messages(LedgerName.XERO, {"xero": {"invoice_account_id": ACCOUNT, "payment_account_id": ACCOUNT}})
    assert line.startswith("xero.payment_account_id: is the same account as invoice_account_id")


def test_a_xero_tax_type_needs_a_taxed_mode() -> None:
    [line] = messages(LedgerName.XERO, {"xero": {"tax_mode": "non_taxable", "tax_type": "OUTPUT2"}})
    assert line.startswith("xero.tax_type: is used only when tax_mode is inclusive or ledger_default")
    [line] = messages(LedgerName.XERO, {"xero": {"tax_type": "20% VAT"}})
    assert line.startswith("xero.tax_type: must be a Xero tax type such as 'OUTPUT2'")


def test_xero_paid_drafts_are_approved_unless_the_owner_says_skip() -> None:
    settings = default_settings(LedgerName.XERO)
    assert isinstance(settings, XeroSettings)
    assert settings.xero.approve_paid_drafts is True
    skip = parse_settings(LedgerName.XERO, {"mode": "draft", "xero": {"approve_paid_drafts": False}})
    assert isinstance(skip, XeroSettings)
    assert skip.xero.approve_paid_drafts is False
    assert messages(LedgerName.QUICKBOOKS, {"quickbooks": {"approve_paid_drafts": False}})[0].startswith(
        "quickbooks.approve_paid_drafts: is not a setting"
    )


# --------------------------------------------------------------------------------------------- FreshBooks
def test_freshbooks_has_no_ledger_default_tax() -> None:
    [line] = messages(LedgerName.FRESHBOOKS, {"freshbooks": {"tax_mode": "ledger_default"}})
    assert line.startswith("freshbooks.tax_mode: ledger_default is not available for FreshBooks")


def test_freshbooks_inclusive_tax_needs_a_named_rate() -> None:
    [line] = messages(LedgerName.FRESHBOOKS, {"freshbooks": {"tax_mode": "inclusive", "tax_name": "HST"}})
    assert line.startswith("freshbooks: tax_mode inclusive needs the tax to back out of Acuity's prices")
    settings = parse_settings(
        LedgerName.FRESHBOOKS, {"freshbooks": {"tax_mode": "inclusive", "tax_name": "QST", "tax_percent": "9.975"}}
    )
    assert isinstance(settings, FreshBooksSettings)
    assert settings.freshbooks.tax_percent == Decimal("9.975")
    assert json.loads(settings.model_dump_json())["freshbooks"]["tax_percent"] == "9.975"  # money-safe: text


@pytest.mark.parametrize(
    ("percent", "expected"),
    [
        ("0", "freshbooks.tax_percent: must be more than 0 (got '0')"),
        ("100", "freshbooks.tax_percent: must be less than 100 (got '100')"),
        ("9.9751", "freshbooks.tax_percent: must have at most 3 decimal places (got '9.9751')"),
        ("lots", "freshbooks.tax_percent: must be a number (got 'lots')"),
    ],
)
def test_freshbooks_tax_percent(percent: str, expected: str) -> None:
    document = {"freshbooks": {"tax_mode": "inclusive", "tax_name": "HST", "tax_percent": percent}}
    assert messages(LedgerName.FRESHBOOKS, document) == [expected]


def test_freshbooks_tax_name_is_not_empty() -> None:
    document = {"freshbooks": {"tax_mode": "inclusive", "tax_name": "", "tax_percent": 13}}
    assert messages(LedgerName.FRESHBOOKS, document) == ["freshbooks.tax_name: must not be empty"]


# --------------------------------------------------------------------------------------------- sync_from
@pytest.mark.parametrize("ledger", ALL_LEDGERS)
def test_sync_from_is_a_date_kept_through_json(ledger: LedgerName) -> None:
    settings = parse_settings(ledger, {"sync_from": "2026-11-01"})
    assert settings.sync_from == date(2026, 11, 1)
    assert parse_settings(ledger, json.loads(settings.model_dump_json())) == settings
    assert parse_settings(ledger, {"sync_from": None}).sync_from is None


def test_sync_from_must_be_a_date() -> None:
    assert messages(LedgerName.XERO, {"sync_from": "last week"}) == [
        "sync_from: must be a date such as 2026-01-31 (got 'last week')"
    ]
    assert messages(LedgerName.XERO, {"sync_from": "2026-11-01T10:00:00"}) == [
        "sync_from: must be a date such as 2026-01-31, without a time (got '2026-11-01T10:00:00')"
    ]
