"""The message the webhook puts on each ledger's FIFO queue: small, versioned, ids only."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any

from acuity_sync.domain.names import EventKind

MESSAGE_VERSION = 1


class Origin(StrEnum):
    """What put the message on the queue. Every origin but the webhook re-enqueues through the same queue and
    group with a fresh deduplication id (DESIGN.md principle 2)."""

    WEBHOOK = "webhook"  # Acuity said it changed
    RESUME = "resume"  # a parked event whose condition now holds (its time, a reconnect, a settings change)
    REPLAY = "replay"  # an operator's replay of a dead-letter queue or of parked events
    RECONCILE = "reconcile"  # found missing or different by the reconciliation Acuity's lost webhooks need
    BACKFILL = "backfill"  # booked before the connection, and asked for by the owner or an operator


@dataclass(frozen=True, slots=True)
class SyncRequest:
    """Sync this appointment or order for this tenant. `received_at` lets a consumer reuse a snapshot that
    was fetched after the webhook arrived; `request_id` traces it back to the webhook."""

    tenant_id: str
    kind: EventKind
    object_id: int
    action: str
    received_at: str  # ISO 8601, UTC
    request_id: str
    origin: Origin = Origin.WEBHOOK

    @property
    def group_id(self) -> str:
        """One writer per appointment: SQS FIFO serialises each group."""
        return f"{self.tenant_id}#{self.kind}#{self.object_id}"

    def requeued(self, origin: Origin, request_id: str, received_at: str) -> SyncRequest:
        """The same appointment or order asked again: a fresh request id (the queue's deduplication id) and the
        time it was asked, so that a snapshot older than this is not reused."""
        return replace(self, origin=origin, request_id=request_id, received_at=received_at)

    def to_json(self) -> str:
        document: dict[str, Any] = {"v": MESSAGE_VERSION, **asdict(self)}
        document["kind"] = str(self.kind)
        if self.origin is Origin.WEBHOOK:
            del document["origin"]  # the webhook's message is as it always was; older consumers read it alike
        else:
            document["origin"] = str(self.origin)
        return json.dumps(document, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, body: str) -> SyncRequest:
        document = json.loads(body)
        if document.get("v") != MESSAGE_VERSION:
            raise ValueError(f"unsupported message version {document.get('v')!r}")
        return cls(
            tenant_id=str(document["tenant_id"]),
            kind=EventKind(document["kind"]),
            object_id=int(document["object_id"]),
            action=str(document["action"]),
            received_at=str(document["received_at"]),
            request_id=str(document["request_id"]),
            origin=Origin(document.get("origin", Origin.WEBHOOK)),
        )
