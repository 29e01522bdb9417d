"""What the operations commands (explain, replay, backfill, reconcile, status) share: the `--json` flag, the stack's
stores opened from its location, a tenant read or refused in words, and a quiet runtime (the runtime's log lines
and EMF metrics are for Lambda's CloudWatch, both on stdout: a command's answer must be its own)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from acuity_sync.acuity.client import ACUITY_BUDGET, AcuityClient
from acuity_sync.domain.names import LedgerName
from acuity_sync.observability import logger
from acuity_sync.operations.pacing import AcuityPacer
from acuity_sync.queues import LedgerQueues
from acuity_sync.store.audit import AuditTrail
from acuity_sync.store.backfills import BackfillStore
from acuity_sync.store.budgets import BudgetStore
from acuity_sync.store.connections import ConnectionStore
from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.parking import ParkingLot
from acuity_sync.store.records import RecordStore
from acuity_sync.store.seen import SeenStore
from acuity_sync.store.tenants import TenantProfile, TenantStore
from acuity_sync_toolkit.cli.errors import CommandError
from acuity_sync_toolkit.cli.location import StackLocation, add_stack_options, locate_stack

# How long a command may spend on Acuity's budget before it stops and says what it did not get to.
COMMAND_SECONDS = 300.0


def add_operator_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for machines instead of words for people")
    add_stack_options(parser)


def ledger_choices() -> list[str]:
    return [str(ledger) for ledger in LedgerName]


@dataclass
class Stores:
    """The stack's stores, each opened on first use."""

    location: StackLocation

    @cached_property
    def _dynamodb(self) -> Any:
        return self.location.dynamodb()

    @cached_property
    def tenants(self) -> TenantStore:
        return TenantStore(self._dynamodb, self.location.table, self.location.secret_box())

    @cached_property
    def records(self) -> RecordStore:
        return RecordStore(self._dynamodb, self.location.table)

    @cached_property
    def audit(self) -> AuditTrail:
        return AuditTrail(self._dynamodb, self.location.table)

    @cached_property
    def parking(self) -> ParkingLot:
        return ParkingLot(self._dynamodb, self.location.table)

    @cached_property
    def seen(self) -> SeenStore:
        return SeenStore(self._dynamodb, self.location.table)

    @cached_property
    def backfills(self) -> BackfillStore:
        return BackfillStore(self._dynamodb, self.location.table)

    @cached_property
    def budgets(self) -> BudgetStore:
        return BudgetStore(self._dynamodb, self.location.table)

    @cached_property
    def connections(self) -> ConnectionStore:
        return ConnectionStore(self._dynamodb, self.location.table, self.location.secret_box())

    @cached_property
    def sqs(self) -> Any:
        return self.location.sqs()

    def queues(self, ledgers: tuple[LedgerName, ...]) -> LedgerQueues:
        return LedgerQueues(self.sqs, {ledger: self.location.queue_url(ledger) for ledger in ledgers})

    def profile(self, tenant_id: str) -> TenantProfile:
        try:
            profile = self.tenants.get(tenant_id)
        except StoreUnavailable as error:
            raise CommandError(f"could not read tenant {tenant_id}: {error}") from error
        if profile is None:
            raise CommandError(
                f"no tenant {tenant_id!r} in table {self.location.table}: check the id `tenant add` printed"
            )
        return profile

    def acuity_pacer(self, seconds: float = COMMAND_SECONDS) -> AcuityPacer:
        """Acuity requests paced by the global budget with the background's reserve, for `seconds` at most."""
        deadline = time.monotonic() + seconds
        return AcuityPacer(self.budgets, ACUITY_BUDGET, keep_going=lambda: time.monotonic() < deadline)


def open_stores(arguments: argparse.Namespace) -> Stores:
    return Stores(locate_stack(arguments))


def acuity_client(profile: TenantProfile) -> AcuityClient:
    return AcuityClient(profile.acuity_base_url, profile.acuity_user_id, profile.acuity_api_key)


def target_ledgers(profile: TenantProfile, chosen: str | None) -> tuple[LedgerName, ...]:
    """`--ledger`, which the tenant must have connected; else every ledger it has."""
    if chosen is None:
        return profile.ledgers
    ledger = LedgerName(chosen)
    if ledger not in profile.ledgers:
        connected = ", ".join(str(name) for name in profile.ledgers) or "none"
        raise CommandError(f"{profile.name} has not connected {ledger} (connected: {connected})")
    return (ledger,)


@contextlib.contextmanager
def quiet_runtime() -> Iterator[None]:
    """No runtime log lines under WARNING and no EMF metrics on this command's stdout."""
    level = logger.log_level
    logger.setLevel("WARNING")
    try:
        with open(os.devnull, "w", encoding="utf-8") as nowhere, contextlib.redirect_stdout(nowhere):
            yield
    finally:
        logger.setLevel(level)


def quietly(call: Callable[[], Any]) -> Any:
    with quiet_runtime():
        return call()


def answer(arguments: argparse.Namespace, document: dict[str, Any], words: Callable[[], list[str]]) -> None:
    """The command's answer: `document` as JSON with --json, else the lines `words()` gives."""
    if arguments.json:
        print(json.dumps(document, indent=2))
    else:
        print("\n".join(words()))
