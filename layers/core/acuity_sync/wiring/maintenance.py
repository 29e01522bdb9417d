"""The maintenance function, from its environment: the parts of a run (acuity_sync.operations) over the table,
the queues, the token keeper and Acuity, and the handler functions/maintenance/app.py is. EventBridge invokes it
on its schedule (template.yaml) with a Scheduled Event; the local stack does the same at its time scale."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import boto3
import httpx
from aws_lambda_powertools.utilities.typing import LambdaContext

from acuity_sync.acuity.client import ACUITY_BUDGET, AcuityClient
from acuity_sync.auth.tokens import TokenKeeper
from acuity_sync.observability import logger
from acuity_sync.operations.backfill import BackfillReleaser
from acuity_sync.operations.maintenance import Maintenance
from acuity_sync.operations.pacing import AcuityPacer
from acuity_sync.operations.reconcile import Reconciler
from acuity_sync.operations.refresh import TokenRefresher
from acuity_sync.operations.resume import Resumer
from acuity_sync.queues import LedgerQueues
from acuity_sync.store.backfills import BackfillStore
from acuity_sync.store.budgets import BudgetStore
from acuity_sync.store.connections import ConnectionStore
from acuity_sync.store.cursors import Cursors
from acuity_sync.store.kms import SecretBox
from acuity_sync.store.parking import ParkingLot
from acuity_sync.store.seen import SeenStore
from acuity_sync.store.settings import SettingsStore
from acuity_sync.store.tenants import TenantProfile, TenantStore
from acuity_sync.sync.requeue import Requeuer
from acuity_sync.wiring.config import SYNC_AWS_CONFIG, MaintenanceSettings
from acuity_sync.wiring.sync import oauth_provider_named

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]

# No part starts a step (an Acuity page, a token refresh) with less of the function's time left than this: a step
# takes a few seconds at worst (the HTTP timeouts), so the run ends before Lambda stops it.
STOP_MARGIN_SECONDS = 20.0


class _Deadline:
    """The running invocation's time left, for the parts and the token keeper (built once, read per call)."""

    def __init__(self, margin: float) -> None:
        self._margin = margin
        self._context: LambdaContext | None = None

    def start(self, context: LambdaContext) -> None:
        self._context = context

    def seconds_left(self) -> float:
        if self._context is None:
            return float("inf")
        return self._context.get_remaining_time_in_millis() / 1000

    def keep_going(self) -> bool:
        return self.seconds_left() > self._margin


def maintenance_lambda_handler() -> LambdaHandler:
    """The handler: one bounded run per invocation; a part that failed makes the invocation an error (Lambda
    retries it, and the function's Errors alarm fires). Built at import, once per cold start."""
    settings = MaintenanceSettings.from_environment()
    deadline = _Deadline(STOP_MARGIN_SECONDS * settings.time_scale)
    maintenance = build_maintenance(settings, deadline)

    @logger.inject_lambda_context(clear_state=True)
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        deadline.start(context)
        report = maintenance.run(run_time(event), deadline.keep_going)
        return asdict(report)

    handler: LambdaHandler = lambda_handler  # Powertools' decorator is typed as returning Any
    return handler


def run_time(event: dict[str, Any], now: datetime | None = None) -> datetime:
    """The run's "now": the Scheduled Event's `time` (EventBridge's clock, which the local stack's tests move), or
    this machine's if that is later or the event has none (an invocation by hand)."""
    clock = now or datetime.now(UTC)
    stated = event.get("time")
    if not isinstance(stated, str):
        return clock
    try:
        scheduled = datetime.fromisoformat(stated)
    except ValueError:
        return clock
    if scheduled.tzinfo is None:
        scheduled = scheduled.replace(tzinfo=UTC)
    return max(scheduled, clock)


def build_maintenance(settings: MaintenanceSettings, deadline: _Deadline) -> Maintenance:
    dynamodb = boto3.client("dynamodb", config=SYNC_AWS_CONFIG)
    kms = boto3.client("kms", config=SYNC_AWS_CONFIG)
    sqs = boto3.client("sqs", config=SYNC_AWS_CONFIG)
    table = settings.table_name
    box = SecretBox(kms, settings.kms_key_id)
    http = httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0))
    connections = ConnectionStore(dynamodb, table, box)
    providers = {ledger: oauth_provider_named(ledger, name) for ledger, name in settings.oauth_secret_names.items()}
    keeper = TokenKeeper(connections, providers, http, time_left=deadline.seconds_left)
    queues = LedgerQueues(sqs, settings.queue_urls)
    parking = ParkingLot(dynamodb, table)
    budgets = BudgetStore(dynamodb, table)
    seen = SeenStore(dynamodb, table)

    def acuity_for(profile: TenantProfile) -> AcuityClient:
        return AcuityClient(profile.acuity_base_url, profile.acuity_user_id, profile.acuity_api_key, http=http)

    new_id = lambda: uuid.uuid4().hex  # noqa: E731 - one source of fresh request ids for every part
    return Maintenance(
        resumer=Resumer(parking, Requeuer(parking, queues, new_id=new_id), connections, SettingsStore(dynamodb, table)),
        refresher=TokenRefresher(connections, keeper, providers),
        releaser=BackfillReleaser(BackfillStore(dynamodb, table), queues, budgets, new_id=new_id),
        reconciler=Reconciler(seen, queues, new_id=new_id),
        parking=parking,
        tenants=TenantStore(dynamodb, table, box),
        cursors=Cursors(dynamodb, table),
        acuity_for=acuity_for,
        acuity_pace=AcuityPacer(
            budgets,
            ACUITY_BUDGET.in_time_scale(settings.time_scale),
            keep_going=deadline.keep_going,
            sleep=time.sleep,
        ),
    )
