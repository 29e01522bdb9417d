"""`acuity-sync status [--tenant T]`: how the stack is doing. Each ledger's queue and dead-letter queue depth; per
tenant (one, or every tenant) and ledger: the connection and its health (connected, or waiting for a reconnect
and why; when its refresh token lapses), the events parked by reason, the backfills waiting, and the last sync
(the latest outcome saved, as the settings page shows it)."""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from acuity_sync.domain.names import LedgerName
from acuity_sync.ledgers.registry import ledger_declaration
from acuity_sync.store.connections import ConnectionStatus
from acuity_sync.store.tenants import TenantProfile
from acuity_sync_toolkit.cli.errors import CommandError
from acuity_sync_toolkit.cli.operator import Stores, add_operator_options, answer, open_stores

MAX_TENANTS = 1000  # listed without --tenant


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    status = commands.add_parser("status", help="connections, queues, parked events and last syncs")
    status.add_argument("--tenant", help="one tenant (default: every tenant)")
    add_operator_options(status)
    status.set_defaults(run=_run_status)


def _run_status(arguments: argparse.Namespace) -> int:
    stores = open_stores(arguments)
    if arguments.tenant:
        profiles = [stores.profile(arguments.tenant)]
    else:
        profiles = [profile for tenant_id in _tenant_ids(stores) if (profile := stores.tenants.get(tenant_id))]
    queues = {str(ledger): _queue(stores, ledger) for ledger in LedgerName}
    tenants = [_tenant(stores, profile) for profile in profiles]
    document: dict[str, Any] = {"queues": queues, "tenants": tenants}

    def words() -> list[str]:
        lines = ["Queues:"]
        for ledger, depth in queues.items():
            name = ledger_declaration(LedgerName(ledger)).display_name
            if depth is None:
                lines.append(f"  {name}: not known (pass --stack NAME or run against `acuity-sync dev`)")
                continue
            dead = depth["dead_letters"]
            alarm = "  ← replay after the fix: acuity-sync replay --ledger " + ledger + " --dlq" if dead else ""
            lines.append(
                f"  {name}: {depth['queued']} waiting, {depth['in_flight']} in flight; "
                f"{dead} in the dead-letter queue{alarm}"
            )
        for tenant in tenants:
            lines.append(f"{tenant['name']} (tenant {tenant['tenant_id']}):")
            if not tenant["ledgers"]:
                lines.append("  no ledger connected")
            for ledger, health in tenant["ledgers"].items():
                lines.extend(_words(LedgerName(ledger), health))
        return lines

    answer(arguments, document, words)
    return 0


def _tenant_ids(stores: Stores) -> list[str]:
    ids: list[str] = []
    position: str | None = None
    while len(ids) < MAX_TENANTS:
        page, position = stores.tenants.tenant_ids(after=position, limit=100)
        ids.extend(page)
        if position is None:
            break
    return ids


def _queue(stores: Stores, ledger: LedgerName) -> dict[str, int] | None:
    location = stores.location
    if ledger not in location.queue_urls or ledger not in location.dead_letter_queue_urls:
        return None
    try:
        source = _attributes(stores, location.queue_urls[ledger])
        dead = _attributes(stores, location.dead_letter_queue_urls[ledger])
    except (BotoCoreError, ClientError) as error:
        raise CommandError(f"could not read the {ledger} queues: {type(error).__name__}") from error
    return {
        "queued": int(source["ApproximateNumberOfMessages"]),
        "in_flight": int(source["ApproximateNumberOfMessagesNotVisible"]),
        "dead_letters": int(dead["ApproximateNumberOfMessages"]) + int(dead["ApproximateNumberOfMessagesNotVisible"]),
    }


def _attributes(stores: Stores, url: str) -> dict[str, str]:
    names: Any = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes: dict[str, str] = stores.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return attributes


def _tenant(stores: Stores, profile: TenantProfile) -> dict[str, Any]:
    ledgers = {str(ledger): _ledger(stores, profile.tenant_id, ledger) for ledger in profile.ledgers}
    return {"tenant_id": profile.tenant_id, "name": profile.name, "ledgers": ledgers}


def _ledger(stores: Stores, tenant_id: str, ledger: LedgerName) -> dict[str, Any]:
    connection = stores.connections.read(tenant_id, ledger)
    if connection is None:
        state, reason, lapses = "not_connected", None, None
    else:
        state = "connected" if connection.status is ConnectionStatus.CONNECTED else "needs_reauth"
        reason = connection.reauth_reason or None
        lapses = connection.refresh_expires_at.isoformat() if connection.refresh_expires_at else None
    parked = Counter(event.reason for event in stores.parking.for_ledger(tenant_id, ledger, limit=10_000))
    return {
        "connection": state,
        "reauth_reason": reason,
        "refresh_lapses_at": lapses,
        "parked": dict(sorted(parked.items())),
        "backfill_waiting": stores.backfills.waiting(tenant_id, ledger),
        "last_sync": _last_sync(stores, tenant_id, ledger),
    }


def _last_sync(stores: Stores, tenant_id: str, ledger: LedgerName) -> str | None:
    """When the latest outcome was saved for the tenant in this ledger (the settings page's "last sync")."""
    last = stores.records.last_sync(tenant_id, ledger)
    return last.at.isoformat() if last is not None else None


def _words(ledger: LedgerName, health: dict[str, Any]) -> list[str]:
    name = ledger_declaration(ledger).display_name
    if health["connection"] == "connected":
        lapses = health["refresh_lapses_at"]
        connection = "connected" + (f" (refresh token renewed before {lapses[:10]})" if lapses else "")
    elif health["connection"] == "needs_reauth":
        connection = f"NEEDS A RECONNECT: {health['reauth_reason'] or 'the ledger refused the connection'}"
    else:
        connection = "not connected"
    lines = [f"  {name}: {connection}"]
    last = health["last_sync"]
    lines.append(f"    last sync: {_when(last) if last else 'none yet'}")
    if health["parked"]:
        parked = ", ".join(f"{count} {reason}" for reason, count in health["parked"].items())
        lines.append(f"    parked: {parked} (acuity-sync explain says what each needs)")
    if health["backfill_waiting"]:
        lines.append(f"    backfill: {health['backfill_waiting']} waiting to be released")
    return lines


def _when(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S UTC")
