"""Parked events back on their queue once their condition holds, through the one Requeuer (sync/requeue.py) with
`Origin.RESUME`:

- `ResumeOn.TIME`: their resume time has come (a daily limit, a long Retry-After): the GSI lists them by that time;
- `ResumeOn.RECONNECT`: the connection was written since they were parked and is connected (the owner reconnected;
  a successful refresh counts too, for a park that a ledger's 403 caused without marking the connection);
- `ResumeOn.SETTINGS_CHANGE`: the tenant's settings for that ledger were saved since they were parked (the connect
  function's settings page resumes them at once; this catches changes made any other way).

The last two lists hold events whose condition may never hold: they are walked from a position kept between runs,
`limit` events a run, so that the ones behind them are checked too. Requeueing clears a park only if it is still
the one read, so a double resume (the settings page and this) is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from acuity_sync.domain.message import Origin
from acuity_sync.domain.names import LedgerName
from acuity_sync.observability import MetricName, count, logger
from acuity_sync.store.connections import ConnectionStatus, ConnectionStore
from acuity_sync.store.parking import ParkedEvent, ParkingLot, ResumeOn
from acuity_sync.store.settings import SettingsStore, StoredSettingsInvalid
from acuity_sync.sync.requeue import Requeuer

# Settings keep their saving time to the second: a save in the same second as the park may have come after it.
SETTINGS_TIME_RESOLUTION = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class ResumeCount:
    resumed: int = 0
    failed: int = 0  # the queue did not take them; they stay parked for the next run
    checked: int = 0


class Resumer:
    def __init__(
        self,
        parking: ParkingLot,
        requeuer: Requeuer,
        connections: ConnectionStore,
        settings: SettingsStore,
    ) -> None:
        self._parking = parking
        self._requeuer = requeuer
        self._connections = connections
        self._settings = settings

    def resume_due(self, now: datetime, limit: int) -> ResumeCount:
        """The events whose resume time is before `now`, earliest first (each one resumed leaves the list)."""
        due = self._parking.due(ResumeOn.TIME, before=now, limit=limit)
        return self._requeue(due, checked=len(due))

    def resume_waiting(self, resume_on: ResumeOn, after: str | None, limit: int) -> tuple[ResumeCount, str | None]:
        """Up to `limit` events of the RECONNECT or SETTINGS_CHANGE list from position `after`: those whose
        condition holds are resumed. Returns where to go on from (None: the list's end was reached)."""
        if resume_on is ResumeOn.TIME:
            raise ValueError("events waiting for a time are resumed by resume_due")
        events, position = self._parking.waiting(resume_on, after=after, limit=limit)
        holds = _ConditionCache(self._connections, self._settings)
        ready = [event for event in events if holds(event)]
        return self._requeue(ready, checked=len(events)), position

    def _requeue(self, events: list[ParkedEvent], checked: int) -> ResumeCount:
        resumed = failed = 0
        for event in events:
            result = self._requeuer.requeue([event], Origin.RESUME)
            if result.requeued:
                resumed += 1
                count(MetricName.EVENTS_RESUMED, ledger=event.ledger, reason=event.reason)
            failed += result.failed
        return ResumeCount(resumed, failed, checked)


class _ConditionCache:
    """Whether a parked event's condition holds now, reading each connection or settings item once per run."""

    def __init__(self, connections: ConnectionStore, settings: SettingsStore) -> None:
        self._connections = connections
        self._settings = settings
        self._connected_since: dict[tuple[str, LedgerName], datetime | None] = {}
        self._settings_saved: dict[tuple[str, LedgerName], datetime | None] = {}

    def __call__(self, event: ParkedEvent) -> bool:
        key = (event.request.tenant_id, event.ledger)
        if event.resume_on is ResumeOn.RECONNECT:
            since = self._cached(self._connected_since, key, self._connection_written)
            return since is not None and since > event.parked_at
        saved = self._cached(self._settings_saved, key, self._settings_written)
        return saved is not None and saved + SETTINGS_TIME_RESOLUTION > event.parked_at

    @staticmethod
    def _cached(
        cache: dict[tuple[str, LedgerName], datetime | None],
        key: tuple[str, LedgerName],
        read: Callable[[str, LedgerName], datetime | None],
    ) -> datetime | None:
        if key not in cache:
            cache[key] = read(*key)
        return cache[key]

    def _connection_written(self, tenant_id: str, ledger: LedgerName) -> datetime | None:
        """When a connected connection was last written; None when it is not connected (or missing)."""
        stored = self._connections.read(tenant_id, ledger)
        if stored is None or stored.status is not ConnectionStatus.CONNECTED:
            return None
        return stored.updated_at

    def _settings_written(self, tenant_id: str, ledger: LedgerName) -> datetime | None:
        try:
            current = self._settings.get(tenant_id, ledger)
        except StoredSettingsInvalid as error:
            logger.warning("stored settings are invalid; their parked events wait", extra={"error": str(error)})
            return None
        return datetime.fromisoformat(current.updated_at) if current.updated_at else None
