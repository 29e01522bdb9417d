"""FreshBooks' part of the connect flow (../shared/research/xero_freshbooks.md B2): a consent is the user's, and
`GET /auth/api/v1/users/me` lists the businesses they belong to (`business_memberships[].business`); the owner
chooses one, and its `account_id` is the company (the accounting paths' `/accounting/account/{account_id}`)."""

from __future__ import annotations

from acuity_sync.ledgers.base import Company, GrantedAccess
from acuity_sync.ledgers.consent import consent_call
from acuity_sync.ledgers.freshbooks.options import DISPLAY_NAME

ME_PATH = "/auth/api/v1/users/me"


def find_companies(access: GrantedAccess) -> list[Company]:
    me = consent_call(access, "GET", f"{access.api_url.rstrip('/')}{ME_PATH}", DISPLAY_NAME) or {}
    companies: list[Company] = []
    for membership in (me.get("response") or {}).get("business_memberships") or []:
        business = membership.get("business") or {}
        account_id = business.get("account_id")
        if account_id:  # not business.id: the accounting API is addressed by the account id
            companies.append(Company(str(account_id), str(business.get("name") or account_id)))
    return companies
