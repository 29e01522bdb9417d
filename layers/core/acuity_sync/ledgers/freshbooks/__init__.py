"""FreshBooks, declared once (read through ledgers/registry.py): the adapter is adapter.py, the settings
options.py.

OAuth (../shared/research/xero_freshbooks.md B2): `POST https://api.freshbooks.com/auth/oauth/token` with
client_id and client_secret in the body (JSON, as FreshBooks' own documentation shows; its Python SDK sends the
same fields as a form), plus redirect_uri; answers `expires_in` (12 h); the refresh token never expires but is
single-use. Consent (B2): `auth.freshbooks.com/oauth/authorize`, the scopes as registered with the app (the
parameter is optional); the consent is the user's, and `users/me` lists their businesses to choose from
(connect.py). Revoke: `POST /auth/oauth/revoke` with `{client_id, client_secret, token}` (a secondary source, the
FreshBooks Postman documentation as scraped; research B2).
"""

from __future__ import annotations

from datetime import timedelta

from acuity_sync.domain.budget import Budget
from acuity_sync.domain.names import LedgerName
from acuity_sync.ledgers.base import (
    AdapterFactory,
    AdapterInputs,
    ClientAuthentication,
    Ledger,
    LedgerDeclaration,
    OAuthRules,
    Revocation,
)
from acuity_sync.ledgers.freshbooks.connect import find_companies
from acuity_sync.ledgers.freshbooks.options import DISPLAY_NAME, FreshBooksSettings

# FreshBooks publishes no limits; a polite pace that one sync never notices.
FRESHBOOKS_BUDGET = Budget(rate_per_second=4.0, burst=4.0, max_concurrent=5)


def _adapter_factory() -> AdapterFactory[FreshBooksSettings]:
    # Imported here: reading the declaration (settings, OAuth, budget) loads no HTTP adapter.
    from acuity_sync.ledgers.freshbooks.adapter import FreshBooksLedger

    def build(inputs: AdapterInputs, settings: FreshBooksSettings) -> Ledger:
        options = settings.freshbooks
        return FreshBooksLedger(
            http=inputs.http,
            account_id=inputs.company_id,  # the accounting account id, read from users/me at connect time
            access_token=inputs.access_token,
            api_url=inputs.api_url,
            tax_name=options.tax_name,
            tax_percent=options.tax_percent,
            pace=inputs.pace,
        )

    return build


FRESHBOOKS = LedgerDeclaration(
    name=LedgerName.FRESHBOOKS,
    display_name=DISPLAY_NAME,
    settings_model=FreshBooksSettings,
    oauth=OAuthRules(
        token_url="https://api.freshbooks.com/auth/oauth/token",  # noqa: S106 - a URL
        client_authentication=ClientAuthentication.JSON_BODY,
        access_lifetime=timedelta(hours=12),
        refresh_lifetime=None,  # "never expires, but can only be used once"
        wants_redirect_uri=True,
        authorize_url="https://auth.freshbooks.com/oauth/authorize",
        revocation=Revocation.TOKEN,
        revoke_url="https://api.freshbooks.com/auth/oauth/revoke",
    ),
    budget=FRESHBOOKS_BUDGET,
    production_api_url="https://api.freshbooks.com",
    sync_function="SyncFreshBooksFunction",
    adapter_factory=_adapter_factory,
    find_companies=find_companies,
)
