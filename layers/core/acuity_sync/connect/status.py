"""What the settings page says about each ledger: connected or not, whether it needs a reconnect, the company, the
last sync, how many events wait parked and the latest problem in words."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from acuity_sync.domain.names import LedgerName
from acuity_sync.ledgers.registry import ledger_declaration
from acuity_sync.store.connections import ConnectionStatus, ConnectionStore
from acuity_sync.store.parking import ParkingLot
from acuity_sync.store.records import LastSync, RecordStore

PARKED_SHOWN = 100  # counted up to this; "100 or more" beyond


class State(StrEnum):
    CONNECTED = "connected"
    NEEDS_RECONNECT = "needs_reconnect"
    NOT_CONNECTED = "not_connected"


@dataclass(frozen=True, slots=True)
class LedgerStatus:
    ledger: LedgerName
    display_name: str
    state: State
    company_id: str = ""
    company_name: str = ""
    last_sync: LastSync | None = None
    parked: int = 0
    parked_capped: bool = False  # at least `parked`
    last_problem: str = ""  # why it needs a reconnect, else the latest parked event's reason in words


def ledger_status(
    tenant_id: str, ledger: LedgerName, connections: ConnectionStore, records: RecordStore, parking: ParkingLot
) -> LedgerStatus:
    name = ledger_declaration(ledger).display_name
    stored = connections.read(tenant_id, ledger)
    parked = parking.for_ledger(tenant_id, ledger, limit=PARKED_SHOWN)
    latest = max(parked, key=lambda event: event.parked_at, default=None)
    if stored is None:
        state = State.NOT_CONNECTED
    elif stored.status is ConnectionStatus.NEEDS_REAUTH:
        state = State.NEEDS_RECONNECT
    else:
        state = State.CONNECTED
    problem = stored.reauth_reason if stored is not None and state is State.NEEDS_RECONNECT else ""
    if not problem and latest is not None:
        problem = latest.detail
    return LedgerStatus(
        ledger=ledger,
        display_name=name,
        state=state,
        company_id=stored.company_id if stored else "",
        company_name=stored.company_name if stored else "",
        last_sync=records.last_sync(tenant_id, ledger),
        parked=len(parked),
        parked_capped=len(parked) >= PARKED_SHOWN,
        last_problem=problem,
    )
