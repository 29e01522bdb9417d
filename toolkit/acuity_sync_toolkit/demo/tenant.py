"""The demo tenant of the local stack. Its id and Acuity credentials are fixed and public so that the signed
sample events in events/ verify against it; a real tenant's id is random (store/tenants.new_tenant_id)."""

from __future__ import annotations

from acuity_sync.domain.names import ALL_LEDGERS, LedgerName
from acuity_sync.secret import Secret
from acuity_sync.store.tenants import TenantProfile

DEMO_TENANT_ID = "demo-studio-tenant-0001"
DEMO_ACUITY_USER_ID = 10001
DEMO_ACUITY_API_KEY = "demo-acuity-api-key-not-secret-0001"
DEMO_TIMEZONE = "America/New_York"
DEMO_CURRENCY = "USD"


def demo_profile(acuity_base_url: str, ledgers: tuple[LedgerName, ...] = ALL_LEDGERS) -> TenantProfile:
    return TenantProfile(
        tenant_id=DEMO_TENANT_ID,
        name="Demo Studio",
        acuity_user_id=str(DEMO_ACUITY_USER_ID),
        acuity_api_key=Secret(DEMO_ACUITY_API_KEY),
        acuity_base_url=acuity_base_url,
        currency=DEMO_CURRENCY,
        timezone=DEMO_TIMEZONE,
        ledgers=ledgers,
    )
