"""QuickBooks Online's part of the connect flow: the company a consent opened is the `realmId` of the redirect
(../shared/research/quickbooks.md §4, "Callback"); its name comes from `GET companyinfo/{realmId}`."""

from __future__ import annotations

import re

from acuity_sync.domain.documents import Choice
from acuity_sync.domain.errors import Rejected
from acuity_sync.ledgers.base import Company, GrantedAccess, Ledger
from acuity_sync.ledgers.consent import consent_call
from acuity_sync.ledgers.quickbooks.options import DISPLAY_NAME

MINOR_VERSION = "75"
_REALM = re.compile(r"[0-9]{1,32}")


def find_companies(access: GrantedAccess) -> list[Company]:
    realm_id = access.callback.get("realmId", "")
    if not _REALM.fullmatch(realm_id):
        raise Rejected("realmId", f"{DISPLAY_NAME} did not say which company was connected (no realmId)")
    url = f"{access.api_url.rstrip('/')}/v3/company/{realm_id}/companyinfo/{realm_id}?minorversion={MINOR_VERSION}"
    info = consent_call(access, "GET", url, DISPLAY_NAME) or {}
    name = str((info.get("CompanyInfo") or {}).get("CompanyName") or "")
    return [Company(realm_id, name or f"company {realm_id}")]


def settings_lists(ledger: Ledger) -> dict[str, list[Choice]]:
    """The service items (for `quickbooks.default_item_id`) and tax codes (for `quickbooks.tax_code_id`)."""
    from acuity_sync.ledgers.quickbooks.adapter import QuickBooksLedger

    items = ledger.list_items()
    codes = ledger.list_tax_codes() if isinstance(ledger, QuickBooksLedger) else []
    return {"quickbooks.default_item_id": items, "quickbooks.tax_code_id": codes}
