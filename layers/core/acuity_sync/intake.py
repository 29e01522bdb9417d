"""Webhook intake: the webhook function's whole decision, from a received request to an answer.

Checks run in a fixed order and the first failure answers: size (413), tenant (404), signature (401),
form (400). A signed request is then queued once per connected ledger (200), or recorded and answered 200
when there is nothing to queue. If our own storage or SQS fails the answer is 503, so that Acuity retries
and nothing is lost. Bad input never gets a 5xx.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from acuity_sync.acuity.signature import SIGNATURE_HEADER, signature_matches
from acuity_sync.acuity.webhook import MalformedWebhook, WebhookNotice, parse_webhook_form
from acuity_sync.domain.message import SyncRequest
from acuity_sync.domain.names import LedgerName
from acuity_sync.queues import SendOutcome
from acuity_sync.store.audit import AuditEntry
from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.tenant_cache import CachedProfile

MAX_BODY_BYTES = 8 * 1024


class WebhookOutcome(StrEnum):
    """The `outcome` dimension of the Webhooks metric, one per answer."""

    ACCEPTED = "accepted"
    IGNORED_ACTION = "ignored_action"
    NO_LEDGER = "no_ledger"
    REJECTED_SIZE = "rejected_size"
    REJECTED_TENANT = "rejected_tenant"
    REJECTED_SIGNATURE = "rejected_signature"
    REJECTED_FORM = "rejected_form"
    UNAVAILABLE = "unavailable"
    ERROR = "error"  # a bug of ours (500), logged with its exception; the handler answers it, not the intake


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    tenant_id: str
    body: bytes
    headers: Mapping[str, str]  # names lower-cased
    request_id: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class IntakeResult:
    status: int
    outcome: WebhookOutcome
    message: str  # said to the sender, in plain words
    notice: WebhookNotice | None = None
    queued: tuple[LedgerName, ...] = field(default=())

    def body(self) -> str:
        document: dict[str, object] = {"outcome": str(self.outcome), "message": self.message}
        if self.notice is not None:
            document |= {"kind": self.notice.kind, "id": self.notice.object_id, "action": self.notice.action}
        if self.status == 200:
            document["queued"] = [str(ledger) for ledger in self.queued]
        return json.dumps(document, separators=(",", ":"))


class TenantLookup(Protocol):
    def lookup(self, tenant_id: str) -> CachedProfile: ...
    def reload(self, tenant_id: str) -> CachedProfile: ...
    def is_stale_for_signature(self, entry: CachedProfile) -> bool: ...


class QueueSender(Protocol):
    def send(self, request: SyncRequest, ledgers: tuple[LedgerName, ...]) -> list[SendOutcome]: ...


class AuditRecorder(Protocol):
    def record(self, entry: AuditEntry) -> None: ...


def lower_case_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    return {name.lower(): value for name, value in (headers or {}).items() if isinstance(value, str)}


class WebhookIntake:
    def __init__(self, tenants: TenantLookup, queues: QueueSender, audit: AuditRecorder) -> None:
        self._tenants = tenants
        self._queues = queues
        self._audit = audit

    def receive(self, request: WebhookRequest) -> IntakeResult:
        try:
            return self._receive(request)
        except StoreUnavailable:
            return IntakeResult(
                503, WebhookOutcome.UNAVAILABLE, "temporarily unavailable; Acuity will retry this webhook"
            )

    def _receive(self, request: WebhookRequest) -> IntakeResult:
        if len(request.body) > MAX_BODY_BYTES:
            return IntakeResult(413, WebhookOutcome.REJECTED_SIZE, f"body larger than {MAX_BODY_BYTES} bytes")
        entry = self._tenants.lookup(request.tenant_id)
        if entry.profile is None:
            return IntakeResult(404, WebhookOutcome.REJECTED_TENANT, "no such webhook address")
        verified = self._verified(request, entry)
        if verified is None or verified.profile is None:
            return IntakeResult(401, WebhookOutcome.REJECTED_SIGNATURE, "missing or wrong X-Acuity-Signature")
        try:
            notice = parse_webhook_form(request.body, request.headers.get("content-type"))
        except MalformedWebhook as error:
            return IntakeResult(400, WebhookOutcome.REJECTED_FORM, error.reason)
        if not notice.is_known:
            self._record(
                request,
                notice,
                None,
                "ignored",
                "unknown_action",
                f"Acuity sent an action we do not handle ({notice.action!r}); nothing to sync",
            )
            return IntakeResult(200, WebhookOutcome.IGNORED_ACTION, "action not handled; ignored", notice)
        ledgers = verified.profile.ledgers
        if not ledgers:
            self._record(
                request,
                notice,
                None,
                "not queued",
                "no_ledger_connected",
                "no accounting app is connected yet, so there is nowhere to sync this to",
            )
            return IntakeResult(200, WebhookOutcome.NO_LEDGER, "no accounting app connected", notice)
        return self._enqueue(request, notice, ledgers)

    def _verified(self, request: WebhookRequest, entry: CachedProfile) -> CachedProfile | None:
        presented = request.headers.get(SIGNATURE_HEADER)
        profile = entry.profile
        assert profile is not None
        if signature_matches(request.body, profile.acuity_api_key.reveal(), presented):
            return entry
        if presented and self._tenants.is_stale_for_signature(entry):
            fresh = self._tenants.reload(request.tenant_id)
            if fresh.profile is not None and signature_matches(
                request.body, fresh.profile.acuity_api_key.reveal(), presented
            ):
                return fresh
        return None

    def _enqueue(self, request: WebhookRequest, notice: WebhookNotice, ledgers: tuple[LedgerName, ...]) -> IntakeResult:
        assert notice.kind is not None
        sync_request = SyncRequest(
            tenant_id=request.tenant_id,
            kind=notice.kind,
            object_id=notice.object_id,
            action=notice.action,
            received_at=request.received_at.astimezone(UTC).isoformat(timespec="milliseconds"),
            request_id=request.request_id,
        )
        outcomes = self._queues.send(sync_request, ledgers)
        failed = [outcome.ledger for outcome in outcomes if outcome.error is not None]
        queued = tuple(outcome.ledger for outcome in outcomes if outcome.error is None)
        if failed:
            # Acuity retries a 5xx with a new request id; a ledger that already has its message then gets a
            # second nudge, which is harmless: the sync reads the current state either way.
            names = ", ".join(str(ledger) for ledger in failed)
            return IntakeResult(
                503,
                WebhookOutcome.UNAVAILABLE,
                f"could not queue for {names}; Acuity will retry",
                notice,
                queued,
            )
        return IntakeResult(200, WebhookOutcome.ACCEPTED, "queued", notice, queued)

    def _record(
        self,
        request: WebhookRequest,
        notice: WebhookNotice,
        ledger: LedgerName | None,
        decision: str,
        rule: str,
        detail: str,
    ) -> None:
        self._audit.record(
            AuditEntry(
                tenant_id=request.tenant_id,
                ledger=ledger,
                kind=notice.kind,
                object_id=notice.object_id,
                event=f"webhook {notice.action}",
                decision=decision,
                rule=rule,
                detail=detail,
                request_id=request.request_id,
            )
        )
