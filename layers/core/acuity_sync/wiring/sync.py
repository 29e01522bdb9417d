"""A sync function, from its environment and its ledger's declaration (ledgers/registry.py): stores, token
keeper, Acuity client and the ledger's adapter, and the Lambda handler every ledger's function
(functions/sync_<ledger>/app.py) is."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

import boto3
import httpx
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from acuity_sync.acuity.client import ACUITY_BUDGET, ACUITY_TENANT_SHARE, AcuityClient
from acuity_sync.auth.oauth import OAuthProvider
from acuity_sync.auth.tokens import TokenKeeper
from acuity_sync.domain.message import Origin
from acuity_sync.domain.names import LedgerName
from acuity_sync.domain.settings import LedgerSettings
from acuity_sync.ledgers.base import AdapterInputs, Ledger, Pace
from acuity_sync.ledgers.registry import ledger_declaration
from acuity_sync.observability import logger, tracer
from acuity_sync.queues import LedgerQueues
from acuity_sync.secret import Secret
from acuity_sync.store.audit import AuditTrail
from acuity_sync.store.budgets import DEFAULT_LEASE_SECONDS, BudgetStore
from acuity_sync.store.codes import CodeBook
from acuity_sync.store.connections import ConnectionStore
from acuity_sync.store.customers import CustomerCache
from acuity_sync.store.kms import SecretBox
from acuity_sync.store.parking import ParkingLot, ResumeOn
from acuity_sync.store.records import RecordStore
from acuity_sync.store.seen import SeenStore
from acuity_sync.store.snapshots import SnapshotStore
from acuity_sync.store.sync_state import SyncStateReader
from acuity_sync.store.tenants import TenantProfile, TenantStore
from acuity_sync.sync.customers import ClaimTiming, OneCustomer
from acuity_sync.sync.requeue import Requeuer
from acuity_sync.sync.service import SNAPSHOT_WAIT_SECONDS, SyncService
from acuity_sync.sync.worker import SyncWorker, fifo_batch_processor
from acuity_sync.wiring.config import SYNC_AWS_CONFIG, SyncFunctionSettings
from acuity_sync.wiring.tokens import refreshing_connection_store

# A warm container keeps what it decrypted (the Acuity API key, access tokens) this long, by ciphertext
# (store/kms.py): one Decrypt per key and container every five minutes instead of two per message.
KEEP_DECRYPTED_SECONDS = 300.0

LambdaHandler = Callable[[dict[str, Any], LambdaContext], PartialItemFailureResponse]
# A message of a batch is started only with this much of the invocation left (the function's own seconds), beyond
# the longest a message of the batch has taken so far: one sync takes about a second, a slow one (Acuity, several
# paced ledger calls) a few; on a starved machine all of them take longer.
START_MARGIN_SECONDS = 5.0


class NotStarted(Exception):
    """A message of the batch left for a later invocation: too little time was left to start it."""


def sync_lambda_handler(ledger: LedgerName) -> LambdaHandler:
    """The handler of one ledger's sync function: FIFO batches from its queue, one message at a time per
    appointment; a failed message fails only its own group (skip_group_on_error), so other appointments in the
    batch go on. Built at import, once per cold start."""
    processor = fifo_batch_processor()
    invocation = Invocation()
    worker = build_sync_worker(ledger, invocation)

    @tracer.capture_method(capture_response=False)
    def record_handler(record: SQSRecord) -> None:
        left = invocation.seconds_left()
        if left < START_MARGIN_SECONDS + invocation.longest_message:
            # Not started: it fails alone and comes back, while the messages finished before it are deleted. Run
            # into the timeout instead, and Lambda fails the whole batch: every finished message is done again.
            raise NotStarted("too little of the invocation is left to start this message")
        worker.handle(record.body, record.receipt_handle, int(record.attributes.approximate_receive_count or 1))
        invocation.longest_message = max(invocation.longest_message, left - invocation.seconds_left())

    # No @metrics.log_metrics: each outcome is flushed as its own EMF document (single_metric), with its dimensions.
    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        invocation.context = context
        invocation.longest_message = 0.0
        worker.start_batch()
        response: PartialItemFailureResponse = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
        failed = (str(failure["itemIdentifier"]) for failure in response["batchItemFailures"])
        worker.hold_back_skipped(event["Records"], failed)
        return response

    handler: LambdaHandler = lambda_handler  # Powertools' decorators are typed as returning Any
    return handler


class Invocation:
    """The invocation being served (set by the handler before each batch): what time it has left."""

    def __init__(self, time_scale: float = 1.0) -> None:
        self.context: LambdaContext | None = None
        self.time_scale = time_scale
        self.longest_message = 0.0  # the longest a message of this batch took so far (its seconds)

    def seconds_left(self) -> float:
        """The invocation's remaining time, in the function's own seconds: the local stack runs the functions'
        timeouts `time_scale` times as long (ACUITY_SYNC_TIME_SCALE), so its remaining time is scaled back."""
        if self.context is None:
            return math.inf
        return self.context.get_remaining_time_in_millis() / 1000 / self.time_scale


def build_sync_worker(ledger: LedgerName, invocation: Invocation | None = None) -> SyncWorker:
    """The sync function of one ledger, from its environment and the ledger's declaration. `invocation` tells the
    token keeper how much time the current invocation has left (no refresh starts that it may not live to store)."""
    declaration = ledger_declaration(ledger)
    environment = SyncFunctionSettings.from_environment(ledger)
    invocation = invocation or Invocation()
    invocation.time_scale = environment.time_scale
    dynamodb = boto3.client("dynamodb", config=SYNC_AWS_CONFIG)
    kms = boto3.client("kms", config=SYNC_AWS_CONFIG)
    sqs = boto3.client("sqs", config=SYNC_AWS_CONFIG)
    box = SecretBox(kms, environment.kms_key_id, keep_for=KEEP_DECRYPTED_SECONDS)
    table = environment.table_name
    budgets = BudgetStore(dynamodb, table)
    ledger_budget = declaration.budget.in_time_scale(environment.time_scale)
    http = httpx.Client(timeout=httpx.Timeout(20.0, connect=5.0))
    parking = ParkingLot(dynamodb, table)
    connections = refreshing_connection_store(table, environment.kms_key_id, keep_for=KEEP_DECRYPTED_SECONDS)
    keeper = TokenKeeper(
        connections,
        {ledger: oauth_provider(ledger, environment)},
        http,
        time_left=invocation.seconds_left,
        on_restored=resume_parked_for_reconnect(parking, LedgerQueues(sqs, {ledger: environment.queue_url})),
    )
    build_adapter = declaration.adapter_factory()  # once per container (LedgerDeclaration says why)
    api_url = environment.api_url or declaration.production_api_url
    claims = ClaimTiming().scaled(environment.time_scale)

    def ledger_for(profile: TenantProfile, settings: LedgerSettings, pace: Pace) -> Ledger:
        credentials = keeper.credentials(profile.tenant_id, ledger)
        inputs = AdapterInputs(
            http=http,
            company_id=credentials.company_id,
            access_token=_Tokens(keeper, profile.tenant_id, ledger, credentials.access_token),
            api_url=api_url,
            pace=pace,
        )
        return build_adapter(inputs, settings)

    service = SyncService(
        ledger_name=ledger,
        tenants=TenantStore(dynamodb, table, box),
        state=SyncStateReader(dynamodb, table),
        records=RecordStore(dynamodb, table),
        snapshots=SnapshotStore(dynamodb, table),
        parking=parking,
        audit=AuditTrail(dynamodb, table),
        budgets=budgets,
        acuity_budget=ACUITY_BUDGET.in_time_scale(environment.time_scale),
        acuity_share=ACUITY_TENANT_SHARE.in_time_scale(environment.time_scale),
        ledger_budget=ledger_budget,
        ledger_for=ledger_for,
        customers_for=lambda tenant_id: OneCustomer(CustomerCache(dynamodb, table, tenant_id, ledger), claims),
        seen=SeenStore(dynamodb, table),
        codes=CodeBook(dynamodb, table),
        connected_at=lambda tenant_id: _connected_at(connections, tenant_id, ledger),
        acuity_for=lambda profile: AcuityClient(
            profile.acuity_base_url, profile.acuity_user_id, profile.acuity_api_key, http=http
        ),
        is_connected=lambda tenant_id: keeper.is_connected(tenant_id, ledger),
        snapshot_wait=SNAPSHOT_WAIT_SECONDS * environment.time_scale,
        slot_lease=DEFAULT_LEASE_SECONDS * environment.time_scale,
        time_scale=environment.time_scale,
    )
    return SyncWorker(
        service,
        ledger,
        sqs,
        environment.queue_url,
        environment.time_scale,
        max_receive_count=environment.max_receive_count,
    )


def resume_parked_for_reconnect(parking: ParkingLot, queues: LedgerQueues) -> Callable[[str, LedgerName], None]:
    """What the token keeper does when a late store of fresh tokens ended a peer's needs_reauth: the tenant's events
    parked for a reconnect of that ledger go back on its queue, as after a reconnect (Origin.RESUME)."""

    def resume(tenant_id: str, ledger: LedgerName) -> None:
        events = parking.for_ledger(tenant_id, ledger, ResumeOn.RECONNECT)
        result = Requeuer(parking, queues).requeue(events, Origin.RESUME)
        logger.info("events parked for a reconnect queued again", extra={"requeued": result.requeued})

    return resume


def oauth_provider(ledger: LedgerName, settings: SyncFunctionSettings) -> OAuthProvider:
    """Our OAuth client at the ledger: `{"client_id", "client_secret", "token_url"?, "redirect_uri"?}` in Secrets
    Manager (a ledger whose token endpoint wants the redirect URI with every refresh, FreshBooks, must have it)."""
    return oauth_provider_named(ledger, settings.oauth_secret_name)


def oauth_provider_named(ledger: LedgerName, secret_name: str) -> OAuthProvider:
    """As oauth_provider(), from the secret's name (the maintenance function holds every ledger's)."""
    secret: dict[str, str] = parameters.get_secret(secret_name, transform="json", max_age=300)
    wants_redirect_uri = ledger_declaration(ledger).oauth.wants_redirect_uri
    return OAuthProvider.for_ledger(
        ledger,
        secret["client_id"],
        Secret(secret["client_secret"]),
        redirect_uri=secret["redirect_uri"] if wants_redirect_uri else "",
        token_url=secret.get("token_url") or None,
    )


def _connected_at(connections: ConnectionStore, tenant_id: str, ledger: LedgerName) -> datetime | None:
    stored = connections.read(tenant_id, ledger)
    return stored.connected_at if stored is not None else None


class _Tokens:
    """The adapter's view of the token keeper: the current token, or after a 401 a fresh one."""

    def __init__(self, keeper: TokenKeeper, tenant_id: str, ledger: LedgerName, first: Secret) -> None:
        self._keeper = keeper
        self._tenant_id = tenant_id
        self._ledger = ledger
        self._last = first

    def __call__(self, refused: bool) -> Secret:
        if refused:
            self._last = self._keeper.access_token(self._tenant_id, self._ledger, rejected=self._last)
        return self._last
