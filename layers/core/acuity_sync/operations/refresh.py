"""Refresh tokens renewed before they lapse for lack of use (Xero's die after 60 days unused, QuickBooks' after
100): the connections whose refresh token lapses within `ahead` (the GSI's `REFRESH#{ledger}` list, earliest
first) are refreshed through the token keeper, under its lease, exactly as a sync would refresh them, so a refresh
racing a sync's never uses a single-use token twice."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from acuity_sync.auth.tokens import TokenKeeper
from acuity_sync.domain.errors import NeedsReauth, Transient
from acuity_sync.domain.names import LedgerName
from acuity_sync.observability import MetricName, count, logger
from acuity_sync.store.connections import ConnectionStore
from acuity_sync.store.errors import StoreUnavailable

# Ten days before the refresh token lapses: a connection that has not synced for 50 days (Xero) or 90 (QuickBooks)
# is renewed, with days to spare for a run that fails.
REFRESH_AHEAD = timedelta(days=10)
REFRESHED, NEEDS_REAUTH, FAILED = "refreshed", "needs_reauth", "failed"  # the metric's outcomes


@dataclass(slots=True)
class RefreshCount:
    refreshed: int = 0
    needs_reauth: int = 0
    failed: int = 0

    def add(self, outcome: str) -> None:
        if outcome == REFRESHED:
            self.refreshed += 1
        elif outcome == NEEDS_REAUTH:
            self.needs_reauth += 1
        else:
            self.failed += 1


class TokenRefresher:
    def __init__(self, connections: ConnectionStore, keeper: TokenKeeper, ledgers: Iterable[LedgerName]) -> None:
        self._connections = connections
        self._keeper = keeper
        self._ledgers = tuple(ledgers)  # those the keeper has an OAuth client for

    def refresh_due(
        self, now: datetime, limit: int, *, ahead: timedelta = REFRESH_AHEAD, keep_going: Callable[[], bool]
    ) -> RefreshCount:
        """Up to `limit` connections per ledger, earliest lapse first, while `keep_going()`."""
        result = RefreshCount()
        for ledger in self._ledgers:
            for tenant_id, _lapses_at in self._connections.due_for_refresh(ledger, now + ahead)[:limit]:
                if not keep_going():
                    return result
                outcome = self._refresh(tenant_id, ledger, now + ahead)
                if outcome is None:
                    continue
                result.add(outcome)
                count(MetricName.TOKEN_REFRESHES, ledger=ledger, outcome=outcome)
        return result

    def _refresh(self, tenant_id: str, ledger: LedgerName, before: datetime) -> str | None:
        """The outcome; None when the connection is no longer due (the list is the index's, which may lag a
        sync's refresh: a second refresh would be harmless, but it is a call for nothing)."""
        stored = self._connections.read(tenant_id, ledger)
        if stored is None or stored.refresh_expires_at is None or stored.refresh_expires_at >= before:
            return None
        try:
            self._keeper.credentials(tenant_id, ledger, force_refresh=True)
        except NeedsReauth:
            # The keeper marked it and counted ConnectionsNeedingReauth: its events park until the owner reconnects.
            return NEEDS_REAUTH
        except (Transient, StoreUnavailable) as error:
            logger.warning(
                "a refresh token could not be renewed now; the next run tries again", extra={"error": str(error)}
            )
            return FAILED
        return REFRESHED
