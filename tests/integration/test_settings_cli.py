"""`acuity-sync settings get|set`, run in-process against moto in server mode with the template's resources."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from acuity_sync.domain.names import LedgerName
from acuity_sync.ledgers.registry import parse_settings
from acuity_sync.secret import Secret
from acuity_sync.store.kms import SecretBox
from acuity_sync.store.settings import SettingsStore, VersionedSettings
from acuity_sync.store.tenants import TenantProfile, TenantStore
from acuity_sync_toolkit.cli import main
from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.xero import FakeXero
from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack
from acuity_sync_toolkit.stack.connections import connect

REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}
STACK_VARIABLES = (
    "ACUITY_SYNC_STACK",
    "ACUITY_SYNC_TABLE",
    "ACUITY_SYNC_KMS_KEY_ID",
    "ACUITY_SYNC_WEBHOOK_BASE_URL",
    "AWS_ENDPOINT_URL",
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
)


@pytest.fixture(scope="module")
def stack(server_stack: ProvisionedStack) -> ProvisionedStack:
    """The CLI reaches AWS at an endpoint, as a user's would: the stack on this module's moto server (conftest.py)."""
    return server_stack


@pytest.fixture
def tenant(stack: ProvisionedStack, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh tenant per test (the server is shared by the module)."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    for name in STACK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    dynamodb = boto3.client("dynamodb", endpoint_url=stack.endpoint_url, region_name=REGION)
    kms = boto3.client("kms", endpoint_url=stack.endpoint_url, region_name=REGION)
    tenant_id = secrets.token_hex(16)
    TenantStore(dynamodb, stack.table_name, SecretBox(kms, stack.kms_key_arn)).create(
        TenantProfile(tenant_id, "Studio", "1001", Secret("acuity-key"))
    )
    return tenant_id


def run(stack: ProvisionedStack, *arguments: str) -> int:
    location = [
        "--table",
        stack.table_name,
        "--kms-key-id",
        stack.kms_key_arn,
        "--webhook-base-url",
        "https://example.test/webhooks/acuity/",
        "--endpoint-url",
        str(stack.endpoint_url),
        "--region",
        REGION,
        "--dev-state",
        "/nonexistent/dev.json",
    ]
    return main(["settings", *arguments, *location])


def run_json(stack: ProvisionedStack, capsys: pytest.CaptureFixture[str], *arguments: str) -> dict[str, Any]:
    assert run(stack, *arguments) == 0
    output = capsys.readouterr()
    assert output.err == ""
    document: dict[str, Any] = json.loads(output.out)
    return document


def test_get_prints_the_defaults_at_version_0(
    stack: ProvisionedStack, tenant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    document = run_json(stack, capsys, "get", "--tenant", tenant, "--ledger", "quickbooks")
    assert (document["tenant_id"], document["ledger"], document["version"]) == (tenant, "quickbooks", 0)
    assert "updated_at" not in document
    settings = document["settings"]
    assert settings["mode"] == "draft"
    assert settings["invoice_free_appointments"] is True
    assert settings["tips"] == "exclude"
    assert settings["quickbooks"] == {
        "tax_mode": None,
        "tax_code_id": None,
        "default_item_id": None,
        "service_items": {},
    }


def test_set_validates_saves_and_prints_the_new_settings(
    stack: ProvisionedStack, tenant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    document = run_json(
        stack,
        capsys,
        "set",
        "--tenant",
        tenant,
        "--ledger",
        "quickbooks",
        "mode=send",
        "invoice_free_appointments=false",
        "quickbooks.default_item_id=1",
        "quickbooks.service_items.27238=21",
        "customer_fields.notes=true",
        "invoice_number_template=ACU-{id}",
    )
    assert document["version"] == 1
    settings = document["settings"]
    assert settings["mode"] == "send"
    assert settings["invoice_free_appointments"] is False
    assert settings["quickbooks"]["default_item_id"] == "1"
    assert settings["quickbooks"]["service_items"] == {"27238": "21"}
    assert settings["customer_fields"] == {"phone": True, "notes": True, "intake_forms": False}
    assert settings["invoice_number_template"] == "ACU-{id}"

    again = run_json(stack, capsys, "get", "--tenant", tenant, "--ledger", "quickbooks")
    assert again["version"] == 1
    assert again["settings"] == settings
    assert again["updated_at"]


def test_each_set_builds_on_the_last(stack: ProvisionedStack, tenant: str, capsys: pytest.CaptureFixture[str]) -> None:
    run_json(stack, capsys, "set", "--tenant", tenant, "--ledger", "xero", "mode=customer_only")
    account = "EBD06280-AF70-4BED-97C6-7451A454AD85"
    assert run(stack, "set", "--tenant", tenant, "--ledger", "xero", f"xero.invoice_account_id={account}") == 0
    output = capsys.readouterr()
    assert "not connected to Xero yet: the accounts are checked at the first sync" in output.err
    document = json.loads(output.out)
    assert document["version"] == 2
    assert document["settings"]["mode"] == "customer_only"
    assert document["settings"]["xero"]["invoice_account_id"] == account.lower()
    other = run_json(stack, capsys, "get", "--tenant", tenant, "--ledger", "freshbooks")
    assert other["version"] == 0


def test_numbers_are_never_floats(stack: ProvisionedStack, tenant: str, capsys: pytest.CaptureFixture[str]) -> None:
    document = run_json(
        stack,
        capsys,
        "set",
        "--tenant",
        tenant,
        "--ledger",
        "freshbooks",
        "freshbooks.tax_mode=inclusive",
        "freshbooks.tax_name=QST",
        "freshbooks.tax_percent=9.975",
    )
    assert document["settings"]["freshbooks"] == {"tax_mode": "inclusive", "tax_name": "QST", "tax_percent": "9.975"}


def test_null_clears_a_setting(stack: ProvisionedStack, tenant: str, capsys: pytest.CaptureFixture[str]) -> None:
    run_json(stack, capsys, "set", "--tenant", tenant, "--ledger", "xero", "invoice_number_template=ACU-{id}")
    document = run_json(stack, capsys, "set", "--tenant", tenant, "--ledger", "xero", "invoice_number_template=null")
    assert document["settings"]["invoice_number_template"] is None
    assert document["version"] == 2


def test_wrong_values_are_explained_and_nothing_is_written(
    stack: ProvisionedStack, tenant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run(
        stack,
        "set",
        "--tenant",
        tenant,
        "--ledger",
        "quickbooks",
        "mode=sent",
        "invoice_free_apointments=false",
        "invoice_number_template=STUDIO-ACU-{id}",
    )
    assert status == 2
    output = capsys.readouterr()
    assert output.out == ""
    lines = output.err.splitlines()
    assert lines[0] == "acuity-sync: the quickbooks settings were not changed:"
    assert "  mode: must be one of customer_only, draft, send (got 'sent')" in lines
    assert "  invoice_free_apointments: is not a setting; did you mean 'invoice_free_appointments'?" in lines
    assert any(line.startswith("  invoice_number_template: is too long for QuickBooks") for line in lines)
    assert any("at most 21 (DocNumber)" in line for line in lines)
    assert run_json(stack, capsys, "get", "--tenant", tenant, "--ledger", "quickbooks")["version"] == 0


def test_an_unknown_tenant_is_a_clear_error(
    stack: ProvisionedStack, tenant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    unknown = secrets.token_hex(16)
    for action in (["get"], ["set", "mode=send"]):
        assert run(stack, action[0], "--tenant", unknown, "--ledger", "xero", *action[1:]) == 2
        output = capsys.readouterr()
        assert output.out == ""
        assert f"no tenant '{unknown}' in table {stack.table_name}" in output.err


@pytest.mark.parametrize(
    ("assignment", "said"),
    [
        ("mode", "expected KEY=VALUE, e.g. mode=send (got 'mode')"),
        ("=send", "expected KEY=VALUE"),
        ("quickbooks..default_item_id=1", "expected KEY=VALUE"),
        ("ledger=xero", "the ledger of a settings document cannot be changed"),
        ("mode.value=send", "mode is a single setting, not a group: cannot set mode.value"),
    ],
)
def test_malformed_assignments_are_refused(
    stack: ProvisionedStack, tenant: str, capsys: pytest.CaptureFixture[str], assignment: str, said: str
) -> None:
    assert run(stack, "set", "--tenant", tenant, "--ledger", "quickbooks", assignment) == 2
    assert said in capsys.readouterr().err
    assert run_json(stack, capsys, "get", "--tenant", tenant, "--ledger", "quickbooks")["version"] == 0


def test_an_unknown_ledger_is_a_usage_error(
    stack: ProvisionedStack, tenant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        run(stack, "get", "--tenant", tenant, "--ledger", "sage")
    assert caught.value.code == 2
    assert "invalid choice: 'sage'" in capsys.readouterr().err


def test_a_concurrent_change_is_reported_not_overwritten(
    stack: ProvisionedStack, tenant: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    read = SettingsStore.get

    def read_then_someone_else_writes(store: SettingsStore, tenant_id: str, ledger: LedgerName) -> VersionedSettings:
        current = read(store, tenant_id, ledger)
        store.put(tenant_id, ledger, parse_settings(ledger, {"mode": "customer_only"}), current.version)
        return current  # now stale: the CLI's write must not win

    monkeypatch.setattr(SettingsStore, "get", read_then_someone_else_writes)
    assert run(stack, "set", "--tenant", tenant, "--ledger", "xero", "mode=send") == 2
    output = capsys.readouterr()
    assert output.out == ""
    assert "were changed by someone else since version 0 was read (now version 1)" in output.err
    monkeypatch.setattr(SettingsStore, "get", read)
    document = run_json(stack, capsys, "get", "--tenant", tenant, "--ledger", "xero")
    assert (document["version"], document["settings"]["mode"]) == (1, "customer_only")


# ----------------------------------------------------------------------------------------------- Xero's accounts
@pytest.fixture
def xero(stack: ProvisionedStack, tenant: str) -> Iterator[tuple[FakeXero, str]]:
    """The tenant connected to an organisation at the fake Xero."""
    organisation = str(uuid.uuid4())
    with FakeXero(clock=FakeClock(frozen=True), per_minute=1000) as fake:
        fake.add_organisation(organisation, name="Calm Clinic")
        connect(stack, fake, tenant, organisation, endpoint_url=stack.endpoint_url)
        yield fake, organisation


def account_id(fake: FakeXero, organisation: str, kind: str, code: str | None) -> str:
    accounts = fake.state(organisation)["Accounts"]
    return next(str(a["AccountID"]) for a in accounts if a["Type"] == kind and a.get("Code") == code)


def test_a_xero_account_of_the_wrong_kind_is_refused_with_those_that_qualify(
    stack: ProvisionedStack, tenant: str, xero: tuple[FakeXero, str], capsys: pytest.CaptureFixture[str]
) -> None:
    fake, organisation = xero
    bank = account_id(fake, organisation, "BANK", "090")
    status = run(
        stack,
        "set",
        "--tenant",
        tenant,
        "--ledger",
        "xero",
        f"xero.invoice_account_id={bank}",
        "--xero-api-url",
        fake.url,
    )
    assert status == 2
    output = capsys.readouterr()
    assert output.out == ""
    assert "is not an active revenue or sales account" in output.err
    assert "Sales (200)" in output.err  # the accounts that qualify are listed
    assert run_json(stack, capsys, "get", "--tenant", tenant, "--ledger", "xero")["version"] == 0  # nothing written


def test_a_xero_bank_account_without_a_code_can_be_chosen_for_payments(
    stack: ProvisionedStack, tenant: str, xero: tuple[FakeXero, str], capsys: pytest.CaptureFixture[str]
) -> None:
    fake, organisation = xero
    codeless_bank = account_id(fake, organisation, "BANK", None)
    document = run_json(
        stack,
        capsys,
        "set",
        "--tenant",
        tenant,
        "--ledger",
        "xero",
        f"xero.payment_account_id={codeless_bank}",
        "--xero-api-url",
        fake.url,
    )
    assert document["settings"]["xero"]["payment_account_id"] == codeless_bank
    reads = [request.path for request in fake.requests(organisation)]
    assert reads == ["/api.xro/2.0/Accounts"]  # one read of the chart, nothing written to Xero
