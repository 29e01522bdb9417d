"""QuickBooks Online, declared once (read through ledgers/registry.py): the adapter is adapter.py, the settings
options.py.

OAuth (../shared/research/quickbooks.md §4): `POST https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer`,
HTTP Basic client_id:secret, form `grant_type=refresh_token&refresh_token=..`; answers `expires_in` (3600) and
`x_refresh_token_expires_in` (about 100 days, rolling). Consent (§4 "Authorize request"): `appcenter.intuit.com/
connect/oauth2` with the accounting scope; the redirect names the company (`realmId`, connect.py). Intuit documents
no PKCE for it. Revoke: `POST developer.api.intuit.com/v2/oauth2/tokens/revoke`, HTTP Basic, `{"token": ...}`.
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
from acuity_sync.ledgers.quickbooks.connect import find_companies, settings_lists
from acuity_sync.ledgers.quickbooks.options import DISPLAY_NAME, QuickBooksSettings

# Per company: 10/s, 500/min, 10 concurrent. 7.5/s + burst 2: <= 9.5 a second, <= 452 a minute. A burst of 2 lets
# a sync take the slot and two calls' tokens in one write (sync/pacing.py).
QUICKBOOKS_BUDGET = Budget(rate_per_second=7.5, burst=2.0, max_concurrent=10)


def _adapter_factory() -> AdapterFactory[QuickBooksSettings]:
    # Imported here: reading the declaration (settings, OAuth, budget) loads no HTTP adapter.
    from acuity_sync.ledgers.quickbooks.adapter import QuickBooksLedger

    def build(inputs: AdapterInputs, settings: QuickBooksSettings) -> Ledger:
        options = settings.quickbooks
        return QuickBooksLedger(
            http=inputs.http,
            realm_id=inputs.company_id,
            access_token=inputs.access_token,
            api_url=inputs.api_url,
            item_for=lambda key: options.item_for(int(key)) if key.isdigit() else options.default_item_id,
            tax_code_id=options.tax_code_id,
            pace=inputs.pace,
        )

    return build


QUICKBOOKS = LedgerDeclaration(
    name=LedgerName.QUICKBOOKS,
    display_name=DISPLAY_NAME,
    settings_model=QuickBooksSettings,
    oauth=OAuthRules(
        token_url="https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",  # noqa: S106 - a URL
        access_lifetime=timedelta(hours=1),
        refresh_lifetime=timedelta(days=100),  # Intuit answers x_refresh_token_expires_in; this is a fallback
        authorize_url="https://appcenter.intuit.com/connect/oauth2",
        scopes=("com.intuit.quickbooks.accounting",),
        revocation=Revocation.TOKEN,
        revoke_url="https://developer.api.intuit.com/v2/oauth2/tokens/revoke",
    ),
    budget=QUICKBOOKS_BUDGET,
    production_api_url="https://quickbooks.api.intuit.com",
    sync_function="SyncQuickBooksFunction",
    adapter_factory=_adapter_factory,
    find_companies=find_companies,
    settings_lists=settings_lists,
)
