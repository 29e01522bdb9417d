"""Xero, declared once (read through ledgers/registry.py): the adapter is adapter.py, the settings options.py,
the chart of accounts and the settings check accounts.py, the rate gate limits.py.

OAuth (../shared/research/xero_freshbooks.md A4): `POST https://identity.xero.com/connect/token`, HTTP Basic, the
form `grant_type=refresh_token&refresh_token=..`; answers `expires_in` (1800) but no refresh expiry: an unused
refresh token lapses after 60 days. Consent (A4): `login.xero.com/identity/connect/authorize` with the scopes a
post-March-2026 app asks for (granular; `offline_access` for a refresh token) and PKCE (Xero's PKCE flow, S256); the
owner may grant several organisations, listed by `GET /connections` (connect.py). Disconnect: `DELETE
/connections/{id}` for the organisation.
"""

from __future__ import annotations

from datetime import timedelta

from acuity_sync.domain.budget import Budget
from acuity_sync.domain.names import LedgerName
from acuity_sync.ledgers.base import (
    AdapterFactory,
    AdapterInputs,
    Ledger,
    LedgerDeclaration,
    OAuthRules,
    Revocation,
)
from acuity_sync.ledgers.xero.accounts import AccountCharts, review_account_choices
from acuity_sync.ledgers.xero.connect import find_companies, release_company, settings_lists
from acuity_sync.ledgers.xero.options import DISPLAY_NAME, XeroSettings

# Per organisation: 60/min, 5 concurrent, 5,000/day (1,000 on Starter). 0.9/s + burst 5: <= 59 a minute.
XERO_BUDGET = Budget(rate_per_second=0.9, burst=5.0, daily_cap=5000, max_concurrent=5)
XERO_STARTER_BUDGET = Budget(rate_per_second=0.9, burst=5.0, daily_cap=1000, max_concurrent=5)


def _adapter_factory() -> AdapterFactory[XeroSettings]:
    # Imported here: reading the declaration (settings, OAuth, budget) loads no HTTP adapter.
    from acuity_sync.ledgers.xero.adapter import XeroLedger

    charts = AccountCharts()  # per container, like the company info

    def build(inputs: AdapterInputs, settings: XeroSettings) -> Ledger:
        options = settings.xero
        return XeroLedger(
            http=inputs.http,
            tenant_id=inputs.company_id,  # Xero's tenant id: the organisation the owner connected
            access_token=inputs.access_token,
            api_url=inputs.api_url,
            invoice_account_id=options.invoice_account_id,
            payment_account_id=options.payment_account_id,
            tax_type=options.tax_type,
            pace=inputs.pace,
            charts=charts,
        )

    return build


XERO = LedgerDeclaration(
    name=LedgerName.XERO,
    display_name=DISPLAY_NAME,
    settings_model=XeroSettings,
    oauth=OAuthRules(
        token_url="https://identity.xero.com/connect/token",  # noqa: S106 - a URL
        access_lifetime=timedelta(minutes=30),
        refresh_lifetime=timedelta(days=60),  # "Unused refresh tokens expire after 60 days"
        authorize_url="https://login.xero.com/identity/connect/authorize",
        scopes=(
            "offline_access",
            "accounting.contacts",
            "accounting.invoices",
            "accounting.payments",
            "accounting.settings.read",
        ),
        pkce=True,
        revocation=Revocation.CONNECTION,
    ),
    budget=XERO_BUDGET,
    production_api_url="https://api.xero.com",
    sync_function="SyncXeroFunction",
    adapter_factory=_adapter_factory,
    check_settings=review_account_choices,
    find_companies=find_companies,
    release_company=release_company,
    settings_lists=settings_lists,
    calls_per_new_booking=(3, 4),  # a paid invoice is created AUTHORISED: no approval call before its payment
)
