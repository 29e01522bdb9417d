"""Parked events back on their ledger's queue: when their condition holds (the maintenance function), when the owner
reconnects or changes a setting (the connect function), or when an operator replays them (the CLI). Each goes
through the same queue and group as a webhook, with a fresh deduplication id (DESIGN.md principle 2), so the engine's
records and intents make a second run write nothing twice. Its park is cleared only once the queue took it, and only
if it was not parked again meanwhile: an event is never dropped between the two."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from acuity_sync.domain.message import Origin
from acuity_sync.observability import logger
from acuity_sync.queues import LedgerQueues
from acuity_sync.store.parking import ParkedEvent, ParkingLot


@dataclass(frozen=True, slots=True)
class RequeueResult:
    requeued: int
    failed: int  # the queue did not take them: they stay parked, for the next try


class Requeuer:
    def __init__(
        self,
        parking: ParkingLot,
        queues: LedgerQueues,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._parking = parking
        self._queues = queues
        self._clock = clock
        self._new_id = new_id

    def requeue(self, events: Iterable[ParkedEvent], origin: Origin) -> RequeueResult:
        requeued = failed = 0
        for event in events:
            request = event.request.requeued(origin, f"{origin}-{self._new_id()}", self._clock().isoformat())
            (sent,) = self._queues.send(request, (event.ledger,))
            if sent.error is not None:
                logger.warning(
                    "a parked event could not be queued again; it stays parked",
                    extra={"ledger": event.ledger, "group": request.group_id, "error": sent.error},
                )
                failed += 1
                continue
            self._parking.clear_exactly(event)
            requeued += 1
        return RequeueResult(requeued, failed)
