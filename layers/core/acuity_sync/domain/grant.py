"""The tokens a ledger's OAuth token endpoint hands out (auth/oauth.py reads them from its answer; the store keeps
them sealed, store/connections.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from acuity_sync.secret import Secret


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What a token endpoint handed out; expiries are computed from when the request was sent (conservative)."""

    access_token: Secret
    refresh_token: Secret
    access_expires_at: datetime
    refresh_expires_at: datetime | None  # None: the refresh token does not expire by time
