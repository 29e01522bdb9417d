"""The message the webhook puts on each ledger's FIFO queue: small, versioned, ids only."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from acuity_sync.domain.names import EventKind

MESSAGE_VERSION = 1


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

    @property
    def group_id(self) -> str:
        """One writer per appointment: SQS FIFO serialises each group."""
        return f"{self.tenant_id}#{self.kind}#{self.object_id}"

    def to_json(self) -> str:
        document: dict[str, Any] = {"v": MESSAGE_VERSION, **asdict(self)}
        document["kind"] = str(self.kind)
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
        )
