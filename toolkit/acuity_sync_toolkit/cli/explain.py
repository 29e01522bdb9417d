"""`acuity-sync explain --tenant T (--appointment ID | --order ID) [--ledger L]`: what happened to one appointment or
order, per ledger: each event received and what was decided by which rule (the audit trail), the documents written
(the sync record), and, when it is not synced, why in words and what to do (a park, a message in the dead-letter
queue, a retry pending).

`explain()` is pure: the facts read from the stack in, the answer out. An id the stack has never heard of is said
so, with exit status 1.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from acuity_sync.domain.message import SyncRequest
from acuity_sync.domain.names import EventKind, LedgerName
from acuity_sync.domain.record import SyncRecord
from acuity_sync.domain.steps import Step
from acuity_sync.ledgers.registry import ledger_declaration
from acuity_sync.store.parking import ParkedEvent
from acuity_sync.store.records import RecordKey
from acuity_sync_toolkit.cli.errors import CommandError
from acuity_sync_toolkit.cli.operator import Stores, add_operator_options, ledger_choices, open_stores, target_ledgers
from acuity_sync_toolkit.cli.replay import peek_dead_letters

SYNCED, SKIPPED, PARKED, PENDING, FAILED = "synced", "skipped", "parked", "pending", "failed"
WROTE = {"written", "in step", "intent resolved"}  # decisions that mean the ledger agrees with Acuity
UNKNOWN_EXIT = 1
DLQ_PEEK_MESSAGES = 100  # the dead-letter queue is looked through this far for the object's messages


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    explain = commands.add_parser("explain", help="what happened to one appointment or order, and what to do")
    explain.add_argument("--tenant", required=True)
    which = explain.add_mutually_exclusive_group(required=True)
    which.add_argument("--appointment", type=int, metavar="ID")
    which.add_argument("--order", type=int, metavar="ID")
    explain.add_argument("--ledger", choices=ledger_choices())
    add_operator_options(explain)
    explain.set_defaults(run=_run_explain)


# ------------------------------------------------------------------------------------------------ the facts


@dataclass(frozen=True, slots=True)
class LedgerFacts:
    """What the stack holds of one object for one ledger."""

    ledger: LedgerName
    record: SyncRecord
    pending: Step | None  # a write started and never saved: resolved at the next run
    entries: Sequence[dict[str, str]]  # its audit entries, oldest first
    parked: ParkedEvent | None
    dead_letters: int | None  # its messages in the ledger's dead-letter queue (None: the queue was not read)


@dataclass(frozen=True, slots=True)
class Explanation:
    document: dict[str, Any]  # the --json answer
    lines: list[str]  # the words


def explain(
    tenant_id: str,
    business: str,
    kind: EventKind,
    object_id: int,
    webhook_entries: Sequence[dict[str, str]],
    ledgers: Sequence[LedgerFacts],
) -> Explanation | None:
    """The answer; None when nothing at all is known of the object (no event, record, park or failed message)."""
    known = webhook_entries or any(
        facts.entries or facts.parked or facts.dead_letters or facts.pending or _has_documents(facts.record)
        for facts in ledgers
    )
    if not known:
        return None
    per_ledger: dict[str, Any] = {}
    lines = [f"{_what(kind)} {object_id} of {business} (tenant {tenant_id})"]
    for facts in ledgers:
        events = sorted([*webhook_entries, *facts.entries], key=lambda entry: entry.get("at", ""))
        answer = _ledger(tenant_id, facts, events)
        per_ledger[str(facts.ledger)] = answer
        lines.extend(_words(facts.ledger, answer, [entry.get("event", "") for entry in events]))
    document = {"tenant_id": tenant_id, "kind": str(kind), "object_id": object_id, "ledgers": per_ledger}
    return Explanation(document, lines)


def _ledger(tenant_id: str, facts: LedgerFacts, events: Sequence[dict[str, str]]) -> dict[str, Any]:
    record = facts.record
    state, problem, next_step = _state(tenant_id, facts)
    invoice = record.invoice
    return {
        "state": state,
        "customer_id": record.customer_id,
        "invoice": None
        if invoice is None
        else {"id": invoice.invoice_id, "number": invoice.number, "total": f"{invoice.total:.2f}"},
        "payments": [
            {"transaction_id": p.transaction_id, "payment_id": p.payment_id, "amount": f"{p.amount:.2f}"}
            for p in record.payments
        ],
        "credit_notes": [
            {"reference": n.reference, "credit_note_id": n.credit_note_id, "amount": f"{n.amount:.2f}"}
            for n in record.credit_notes
        ],
        "events": [
            {
                "at": entry.get("at", ""),
                "decision": entry.get("decision", ""),
                "rule": entry.get("rule", ""),
                "detail": entry.get("detail", ""),
            }
            for entry in events
        ],
        "problem": problem,
        "next_step": next_step,
    }


def _state(tenant_id: str, facts: LedgerFacts) -> tuple[str, str | None, str | None]:
    """(state, the problem in words, what to do), from the strongest fact down."""
    ledger = facts.ledger
    name = ledger_declaration(ledger).display_name
    replay_parked = f"acuity-sync replay --ledger {ledger} --parked --tenant {tenant_id}"
    if facts.parked is not None:
        parked = facts.parked
        return PARKED, parked.detail, _park_advice(parked, name, replay_parked)
    if facts.dead_letters:
        return (
            FAILED,
            f"its sync failed every time it was tried and the message went to the {name} dead-letter queue",
            "find the cause in the sync function's logs (its correlation id is tenant#kind#id), fix it, then "
            f"acuity-sync replay --ledger {ledger} --dlq --tenant {tenant_id}",
        )
    if facts.pending is not None:
        return PENDING, "a write to the ledger was started and not confirmed", "nothing: the next sync resolves it"
    if not facts.entries:
        return (
            PENDING,
            f"no sync has run for it in {name} yet: its message may still be on the queue, or its webhook was lost",
            f"acuity-sync reconcile --tenant {tenant_id} (queues it if Acuity has it and the sync has not seen it)",
        )
    latest = facts.entries[-1]
    if latest.get("decision") == "retry later":
        return PENDING, latest.get("detail") or None, "nothing: it is tried again by itself"
    last_request = latest.get("request_id")
    decisions = {entry.get("decision") for entry in facts.entries if entry.get("request_id") == last_request}
    if decisions & WROTE:
        return SYNCED, None, None
    rules = [entry.get("rule", "") for entry in facts.entries if entry.get("request_id") == last_request]
    return SKIPPED, None, _skip_advice(rules, ledger, tenant_id)


def _park_advice(parked: ParkedEvent, name: str, replay: str) -> str:
    reason = parked.reason
    if reason == "needs_reauth":
        return f"reconnect {name} in the settings; its parked events resume by themselves once it is connected"
    if reason == "rejected":
        return (
            f"fix what {name} refused (its words above), in the settings or in {name}: a settings change resumes it "
            f"by itself; otherwise, once fixed: {replay}"
        )
    if reason == "currency_mismatch":
        return f"make {name}'s home currency and Acuity's agree (or connect the company that uses it), then {replay}"
    if reason == "rate_limited":
        when = f" at {parked.resume_at:%Y-%m-%d %H:%M} UTC" if parked.resume_at else ""
        return f"nothing: it resumes by itself{when}, when {name}'s limit resets"
    if reason == "currency_unknown":
        return f"store the business's currency (Acuity's GET /me has none), then {replay}"
    if reason == "acuity_bad_data":
        return "correct the appointment or order in Acuity (what cannot be read is said above): its change syncs it"
    if reason == "acuity_refused":
        return f"store the business's current Acuity API key (Acuity: Integrations → API), then {replay}"
    return f"once the cause is fixed: {replay}"


_SKIP_ADVICE = {
    "customer_only_mode": "set mode=draft (or send) to invoice it",
    "free_appointment_not_invoiced": "set invoice_free_appointments=true to invoice $0 appointments",
    "orders_not_synced": "set sync_orders=true to sync orders",
    "update_on_change_off": "set update_on_change=true to follow changes",
    "sync_payments_off": "set sync_payments=true to record payments",
}


def _skip_advice(rules: Sequence[str], ledger: LedgerName, tenant_id: str) -> str | None:
    for rule in rules:
        advice = _SKIP_ADVICE.get(rule)
        if advice is not None:
            command = f"acuity-sync settings set --tenant {tenant_id} --ledger {ledger} ..."
            return f"nothing, unless it should be synced: {advice} ({command})"
        if rule == "booked_before_connection":
            return (
                f"nothing, unless it should be synced: acuity-sync backfill --tenant {tenant_id} --from DATE --to DATE"
            )
    return None


def _has_documents(record: SyncRecord) -> bool:
    return record.customer_id is not None or record.invoice is not None


def _what(kind: EventKind) -> str:
    return "Appointment" if kind is EventKind.APPOINTMENT else "Order"


def _words(ledger: LedgerName, facts: dict[str, Any], received: Sequence[str]) -> list[str]:
    """One ledger's answer in words; `received` says what arrived for each event ("webhook changed", "resume
    changed" ...)."""
    name = ledger_declaration(ledger).display_name
    lines = [f"  {name}: {facts['state']}"]
    documents = []
    if facts["customer_id"]:
        documents.append(f"customer {facts['customer_id']}")
    if facts["invoice"]:
        invoice = facts["invoice"]
        number = invoice["number"] or "(numbered by the ledger)"
        documents.append(f"invoice {number} (id {invoice['id']}), total {invoice['total']}")
    documents.extend(f"payment {p['amount']} ({p['transaction_id']} → {p['payment_id']})" for p in facts["payments"])
    documents.extend(f"credit note {n['amount']} ({n['credit_note_id']})" for n in facts["credit_notes"])
    if documents:
        lines.append("    " + "; ".join(documents))
    for event, arrived in zip(facts["events"], received, strict=True):
        rule = f" ({event['rule']})" if event["rule"] and event["rule"] != "sync" else ""
        when = event["at"][:19].replace("T", " ")
        lines.append(f"    {when}  {arrived}: {event['decision']}{rule} — {event['detail']}")
    if facts["problem"]:
        lines.append(f"    why: {facts['problem']}")
    if facts["next_step"]:
        lines.append(f"    what to do: {facts['next_step']}")
    return lines


# ------------------------------------------------------------------------------------------------ reading the stack


def _run_explain(arguments: argparse.Namespace) -> int:
    stores = open_stores(arguments)
    profile = stores.profile(arguments.tenant)
    kind = EventKind.APPOINTMENT if arguments.appointment is not None else EventKind.ORDER
    object_id = int(arguments.appointment if arguments.appointment is not None else arguments.order)
    ledgers = target_ledgers(profile, arguments.ledger) if arguments.ledger else tuple(LedgerName)
    facts = [_facts(stores, profile.tenant_id, ledger, kind, object_id) for ledger in ledgers]
    if not arguments.ledger:
        # Every ledger the business connected, and any other that holds something of it (one disconnected since).
        facts = [f for f in facts if f.ledger in profile.ledgers or f.entries or f.parked or _has_documents(f.record)]
    webhook_entries = stores.audit.entries(profile.tenant_id, None, kind, object_id)
    explanation = explain(profile.tenant_id, profile.name, kind, object_id, webhook_entries, facts)
    if explanation is None:
        what = _what(kind).lower()
        message = (
            f"acuity-sync: no {what} {object_id} is known for {profile.name} (tenant {profile.tenant_id}): no webhook, "
            f"sync, park or failed message names it. Check the id in Acuity; if Acuity has it, its webhook may have "
            f"been lost: `acuity-sync reconcile --tenant {profile.tenant_id}` finds and queues it."
        )
        if arguments.json:
            print(
                json.dumps(
                    {"tenant_id": profile.tenant_id, "kind": str(kind), "object_id": object_id, "error": message}
                )
            )
        else:
            print(message)
        return UNKNOWN_EXIT
    if arguments.json:
        print(json.dumps(explanation.document, indent=2))
    else:
        print("\n".join(explanation.lines))
    return 0


def _facts(stores: Stores, tenant_id: str, ledger: LedgerName, kind: EventKind, object_id: int) -> LedgerFacts:
    stored = stores.records.load(RecordKey(tenant_id, ledger, kind, object_id))
    probe = SyncRequest(tenant_id, kind, object_id, "changed", "", "explain")
    return LedgerFacts(
        ledger=ledger,
        record=stored.record,
        pending=stored.pending,
        entries=stores.audit.entries(tenant_id, ledger, kind, object_id),
        parked=stores.parking.get(probe, ledger),
        dead_letters=_dead_letters(stores, ledger, probe.group_id),
    )


def _dead_letters(stores: Stores, ledger: LedgerName, group_id: str) -> int | None:
    """How many messages of this appointment's group wait in the ledger's dead-letter queue (looked at, then let
    go at once: a look is no replay). None when the stack's queues are not known."""
    url = stores.location.dead_letter_queue_urls.get(ledger)
    if url is None:
        return None
    try:
        letters = peek_dead_letters(stores.sqs, url, DLQ_PEEK_MESSAGES)
        return sum(1 for letter in letters if letter.group_id == group_id)
    except CommandError:
        return None
