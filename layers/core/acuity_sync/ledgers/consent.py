"""The few calls the connect flow makes with a fresh consent's access token, before any connection is stored: whose
books it opened (a ledger's `find_companies`) and what a disconnect releases (`release_company`). Unlike the
adapters' calls they are not paced (one or two per consent) and never refresh a token (the token is minutes old)."""

from __future__ import annotations

from typing import Any

import httpx

from acuity_sync.domain.errors import NeedsReauth, Rejected, Transient
from acuity_sync.ledgers.base import GrantedAccess

CONSENT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def consent_call(
    access: GrantedAccess, method: str, url: str, app_name: str, *, headers: dict[str, str] | None = None
) -> Any:
    """One call with the consent's token; the JSON answer (None for an empty one). Raises NeedsReauth (the token
    was refused: the owner should connect again), Transient (5xx, a timeout) or Rejected (anything else)."""
    sent = {"Authorization": f"Bearer {access.access_token.reveal()}", "Accept": "application/json", **(headers or {})}
    try:
        response = access.http.request(method, url, headers=sent, timeout=CONSENT_TIMEOUT, follow_redirects=False)
    except httpx.TransportError as error:
        # `from None`: the chained httpx error holds the request, and the request holds the token.
        raise Transient(f"{app_name} could not be reached ({type(error).__name__}); try again") from None
    if response.status_code in (401, 403):
        raise NeedsReauth(f"{app_name} did not accept the access it just granted (HTTP {response.status_code})")
    if response.status_code >= 500 or response.status_code == 429:
        raise Transient(f"{app_name} is unavailable (HTTP {response.status_code}); try again in a minute")
    if response.status_code >= 400:
        raise Rejected(str(response.status_code), f"{app_name} refused {method} {httpx.URL(url).path}")
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise Transient(f"{app_name} answered {httpx.URL(url).path} with something that is not JSON") from None
