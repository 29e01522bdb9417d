"""A sync function, from its environment: stores, token keeper, Acuity client and the ledger's adapter, and the
Lambda handler every ledger's function (functions/sync_<ledger>/app.py) is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import httpx
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from acuity_sync.acuity.client import AcuityClient
from acuity_sync.auth.oauth import FRESHBOOKS_TOKEN_URL, INTUIT_TOKEN_URL, XERO_TOKEN_URL, OAuthProvider
from acuity_sync.auth.tokens import TokenKeeper
from acuity_sync.domain.names import LedgerName
from acuity_sync.ledgers.base import Ledger, Pace
from acuity_sync.ledgers.freshbooks import PRODUCTION_URL as FRESHBOOKS_PRODUCTION_URL
from acuity_sync.ledgers.freshbooks import FreshBooksLedger
from acuity_sync.ledgers.quickbooks import PRODUCTION_URL as QUICKBOOKS_PRODUCTION_URL
from acuity_sync.ledgers.quickbooks import QuickBooksLedger
from acuity_sync.ledgers.xero import PRODUCTION_URL as XERO_PRODUCTION_URL
from acuity_sync.ledgers.xero import AccountCharts, XeroLedger
from acuity_sync.observability import logger, tracer
from acuity_sync.secret import Secret
from acuity_sync.store.audit import AuditTrail
from acuity_sync.store.budgets import ACUITY_BUDGET, LEDGER_BUDGETS, BudgetStore, ledger_budget_name
from acuity_sync.store.connections import ConnectionStore
from acuity_sync.store.customers import CustomerCache
from acuity_sync.store.kms import SecretBox
from acuity_sync.store.parking import ParkingLot
from acuity_sync.store.records import RecordStore
from acuity_sync.store.settings import SettingsStore
from acuity_sync.store.snapshots import SnapshotStore
from acuity_sync.store.tenants import TenantProfile, TenantStore
from acuity_sync.sync.service import LedgerFactory, SyncService
from acuity_sync.sync.settings import AnyLedgerSettings, FreshBooksSettings, QuickBooksSettings, XeroSettings
from acuity_sync.sync.worker import SyncWorker, fifo_batch_processor
from acuity_sync.wiring.config import SYNC_AWS_CONFIG, SyncFunctionSettings
from acuity_sync.wiring.pacing import pacer

PRODUCTION_TOKEN_URLS = {
    LedgerName.QUICKBOOKS: INTUIT_TOKEN_URL,
    LedgerName.XERO: XERO_TOKEN_URL,
    LedgerName.FRESHBOOKS: FRESHBOOKS_TOKEN_URL,
}
LambdaHandler = Callable[[dict[str, Any], LambdaContext], PartialItemFailureResponse]


def sync_lambda_handler(ledger: LedgerName) -> LambdaHandler:
    """The handler of one ledger's sync function: FIFO batches from its queue, one message at a time per
    appointment; a failed message fails only its own group (skip_group_on_error), so other appointments in the
    batch go on. Built at import, once per cold start."""
    processor = fifo_batch_processor()
    worker = build_sync_worker(ledger)

    @tracer.capture_method(capture_response=False)
    def record_handler(record: SQSRecord) -> None:
        worker.handle(record.body, record.receipt_handle)

    # No @metrics.log_metrics: each outcome is flushed as its own EMF document (single_metric), with its dimensions.
    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        response: PartialItemFailureResponse = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
        return response

    handler: LambdaHandler = lambda_handler  # Powertools' decorators are typed as returning Any
    return handler


def build_sync_worker(ledger: LedgerName) -> SyncWorker:
    """The sync function of one ledger, from its environment."""
    settings = SyncFunctionSettings.from_environment(ledger)
    dynamodb = boto3.client("dynamodb", config=SYNC_AWS_CONFIG)
    kms = boto3.client("kms", config=SYNC_AWS_CONFIG)
    sqs = boto3.client("sqs", config=SYNC_AWS_CONFIG)
    box = SecretBox(kms, settings.kms_key_id)
    table = settings.table_name
    budgets = BudgetStore(dynamodb, table)
    ledger_budget = LEDGER_BUDGETS[ledger].in_time_scale(settings.time_scale)

    def pace_for(tenant_id: str) -> Pace:
        return pacer(budgets, ledger_budget_name(tenant_id, ledger), ledger_budget)

    http = httpx.Client(timeout=httpx.Timeout(20.0, connect=5.0))
    keeper = TokenKeeper(ConnectionStore(dynamodb, table, box), {ledger: oauth_provider(ledger, settings)}, http)
    service = SyncService(
        ledger_name=ledger,
        tenants=TenantStore(dynamodb, table, box),
        settings=SettingsStore(dynamodb, table),
        records=RecordStore(dynamodb, table),
        snapshots=SnapshotStore(dynamodb, table),
        parking=ParkingLot(dynamodb, table),
        audit=AuditTrail(dynamodb, table),
        budgets=budgets,
        acuity_budget=ACUITY_BUDGET.in_time_scale(settings.time_scale),
        ledger_budget=ledger_budget,
        ledger_for=LEDGER_ADAPTERS[ledger](http, keeper, pace_for, settings.api_url),
        customers_for=lambda tenant_id: CustomerCache(dynamodb, table, tenant_id, ledger),
        acuity_for=lambda profile: AcuityClient(
            profile.acuity_base_url, profile.acuity_user_id, profile.acuity_api_key, http=http
        ),
    )
    return SyncWorker(service, ledger, sqs, settings.queue_url, settings.time_scale)


def oauth_provider(ledger: LedgerName, settings: SyncFunctionSettings) -> OAuthProvider:
    """Our OAuth client at the ledger: `{"client_id", "client_secret", "token_url"?, "redirect_uri"?}` in Secrets
    Manager (FreshBooks' token endpoint wants the redirect URI with every refresh)."""
    secret: dict[str, str] = parameters.get_secret(settings.oauth_secret_name, transform="json", max_age=300)
    client_id, client_secret = secret["client_id"], Secret(secret["client_secret"])
    token_url = secret.get("token_url") or PRODUCTION_TOKEN_URLS[ledger]
    if ledger is LedgerName.QUICKBOOKS:
        return OAuthProvider.quickbooks(client_id, client_secret, token_url=token_url)
    if ledger is LedgerName.XERO:
        return OAuthProvider.xero(client_id, client_secret, token_url=token_url)
    return OAuthProvider.freshbooks(client_id, client_secret, redirect_uri=secret["redirect_uri"], token_url=token_url)


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


PaceFor = Callable[[str], Pace]  # a tenant's pacing under its budget for the ledger


def quickbooks_adapters(
    http: httpx.Client, keeper: TokenKeeper, pace_for: PaceFor, api_url: str | None
) -> LedgerFactory:
    def build(profile: TenantProfile, settings: AnyLedgerSettings) -> Ledger:
        assert isinstance(settings, QuickBooksSettings)
        options = settings.quickbooks
        credentials = keeper.credentials(profile.tenant_id, LedgerName.QUICKBOOKS)
        return QuickBooksLedger(
            http=http,
            realm_id=credentials.company_id,
            access_token=_Tokens(keeper, profile.tenant_id, LedgerName.QUICKBOOKS, credentials.access_token),
            api_url=api_url or QUICKBOOKS_PRODUCTION_URL,
            item_for=lambda key: options.item_for(int(key)) if key.isdigit() else options.default_item_id,
            tax_code_id=options.tax_code_id,
            pace=pace_for(profile.tenant_id),
        )

    return build


def xero_adapters(http: httpx.Client, keeper: TokenKeeper, pace_for: PaceFor, api_url: str | None) -> LedgerFactory:
    charts = AccountCharts()  # per container, like the company info

    def build(profile: TenantProfile, settings: AnyLedgerSettings) -> Ledger:
        assert isinstance(settings, XeroSettings)
        options = settings.xero
        credentials = keeper.credentials(profile.tenant_id, LedgerName.XERO)
        return XeroLedger(
            http=http,
            tenant_id=credentials.company_id,  # Xero's tenant id: the organisation the owner connected
            access_token=_Tokens(keeper, profile.tenant_id, LedgerName.XERO, credentials.access_token),
            api_url=api_url or XERO_PRODUCTION_URL,
            invoice_account_id=options.invoice_account_id,
            payment_account_id=options.payment_account_id,
            tax_type=options.tax_type,
            pace=pace_for(profile.tenant_id),
            charts=charts,
        )

    return build


def freshbooks_adapters(
    http: httpx.Client, keeper: TokenKeeper, pace_for: PaceFor, api_url: str | None
) -> LedgerFactory:
    def build(profile: TenantProfile, settings: AnyLedgerSettings) -> Ledger:
        assert isinstance(settings, FreshBooksSettings)
        options = settings.freshbooks
        credentials = keeper.credentials(profile.tenant_id, LedgerName.FRESHBOOKS)
        return FreshBooksLedger(
            http=http,
            account_id=credentials.company_id,  # the accounting account id, read from users/me at connect time
            access_token=_Tokens(keeper, profile.tenant_id, LedgerName.FRESHBOOKS, credentials.access_token),
            api_url=api_url or FRESHBOOKS_PRODUCTION_URL,
            tax_name=options.tax_name,
            tax_percent=options.tax_percent,
            pace=pace_for(profile.tenant_id),
        )

    return build


LEDGER_ADAPTERS: dict[LedgerName, Callable[[httpx.Client, TokenKeeper, PaceFor, str | None], LedgerFactory]] = {
    LedgerName.QUICKBOOKS: quickbooks_adapters,
    LedgerName.XERO: xero_adapters,
    LedgerName.FRESHBOOKS: freshbooks_adapters,
}
