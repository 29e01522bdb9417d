"""Xero's part of the connect flow (../shared/research/xero_freshbooks.md A4): a consent may open several
organisations, listed by `GET /connections` (the owner chooses one); disconnecting deletes that organisation's
connection (`DELETE /connections/{id}`, 204), which ends our app's access to it."""

from __future__ import annotations

from acuity_sync.domain.documents import Choice
from acuity_sync.ledgers.base import Company, GrantedAccess, Ledger
from acuity_sync.ledgers.consent import consent_call
from acuity_sync.ledgers.xero.accounts import invoice_accounts, payment_accounts
from acuity_sync.ledgers.xero.options import DISPLAY_NAME

CONNECTIONS_PATH = "/connections"


def _connections(access: GrantedAccess) -> list[dict[str, object]]:
    listed = consent_call(access, "GET", f"{access.api_url.rstrip('/')}{CONNECTIONS_PATH}", DISPLAY_NAME) or []
    return [entry for entry in listed if isinstance(entry, dict)]


def find_companies(access: GrantedAccess) -> list[Company]:
    """The organisations the consent opened (practice managers' other tenant types left out)."""
    return [
        Company(str(entry["tenantId"]), str(entry.get("tenantName") or entry["tenantId"]))
        for entry in _connections(access)
        if entry.get("tenantType", "ORGANISATION") == "ORGANISATION" and entry.get("tenantId")
    ]


def release_company(access: GrantedAccess, tenant_id: str) -> None:
    """Deletes our app's connection to the organisation (nothing to do when it is gone already)."""
    for entry in _connections(access):
        if entry.get("tenantId") == tenant_id and entry.get("id"):
            url = f"{access.api_url.rstrip('/')}{CONNECTIONS_PATH}/{entry['id']}"
            consent_call(access, "DELETE", url, DISPLAY_NAME)


def settings_lists(ledger: Ledger) -> dict[str, list[Choice]]:
    """The accounts that qualify for invoices and for payments, and the tax rates (for `xero.tax_type`)."""
    from acuity_sync.ledgers.xero.adapter import XeroLedger

    chart = ledger.list_accounts()
    rates = ledger.list_tax_rates() if isinstance(ledger, XeroLedger) else []
    return {
        "xero.invoice_account_id": invoice_accounts(chart),
        "xero.payment_account_id": payment_accounts(chart),
        "xero.tax_type": rates,
    }
