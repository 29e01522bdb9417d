"""A sync function's worker, from its environment: stores, token keeper, Acuity client and ledger adapter."""

from __future__ import annotations

from collections.abc import Callable

import boto3
import httpx
from aws_lambda_powertools.utilities import parameters

from acuity_sync.acuity.client import AcuityClient
from acuity_sync.auth.kms import SecretBox
from acuity_sync.auth.oauth import OAuthProvider
from acuity_sync.auth.tokens import ConnectionStore, TokenKeeper
from acuity_sync.config import SYNC_AWS_CONFIG, SyncFunctionSettings
from acuity_sync.ledgers import LedgerName
from acuity_sync.ledgers.base import Ledger
from acuity_sync.ledgers.pacing import pacer
from acuity_sync.ledgers.quickbooks import PRODUCTION_URL as QUICKBOOKS_PRODUCTION_URL
from acuity_sync.ledgers.quickbooks import QuickBooksLedger
from acuity_sync.secret import Secret
from acuity_sync.store.audit import AuditTrail
from acuity_sync.store.budgets import ACUITY_BUDGET, LEDGER_BUDGETS, QUICKBOOKS_BUDGET, BudgetStore, ledger_budget_name
from acuity_sync.store.customers import CustomerCache
from acuity_sync.store.parking import ParkingLot
from acuity_sync.store.records import RecordStore
from acuity_sync.store.settings import SettingsStore
from acuity_sync.store.snapshots import SnapshotStore
from acuity_sync.store.tenants import TenantProfile, TenantStore
from acuity_sync.sync.service import LedgerFactory, SyncService
from acuity_sync.sync.settings import AnyLedgerSettings, QuickBooksSettings
from acuity_sync.sync.worker import SyncWorker


def build_sync_worker(ledger: LedgerName) -> SyncWorker:
    """The sync function of one ledger, from its environment."""
    settings = SyncFunctionSettings.from_environment(ledger)
    dynamodb = boto3.client("dynamodb", config=SYNC_AWS_CONFIG)
    kms = boto3.client("kms", config=SYNC_AWS_CONFIG)
    sqs = boto3.client("sqs", config=SYNC_AWS_CONFIG)
    box = SecretBox(kms, settings.kms_key_id)
    table = settings.table_name
    budgets = BudgetStore(dynamodb, table)
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
        acuity_budget=ACUITY_BUDGET,
        ledger_budget=LEDGER_BUDGETS[ledger],
        ledger_for=LEDGER_ADAPTERS[ledger](http, keeper, budgets, settings.api_url),
        customers_for=lambda tenant_id: CustomerCache(dynamodb, table, tenant_id, ledger),
        acuity_for=lambda profile: AcuityClient(
            profile.acuity_base_url, profile.acuity_user_id, profile.acuity_api_key, http=http
        ),
    )
    return SyncWorker(service, ledger, sqs, settings.queue_url, settings.time_scale)


def oauth_provider(ledger: LedgerName, settings: SyncFunctionSettings) -> OAuthProvider:
    """Our OAuth client for the ledger: `{"client_id", "client_secret", "token_url"?}` in Secrets Manager."""
    secret: dict[str, str] = parameters.get_secret(settings.oauth_secret_name, transform="json", max_age=300)
    client_secret = Secret(secret["client_secret"])
    token_url = secret.get("token_url")
    if ledger is LedgerName.QUICKBOOKS:
        if token_url:
            return OAuthProvider.quickbooks(secret["client_id"], client_secret, token_url=token_url)
        return OAuthProvider.quickbooks(secret["client_id"], client_secret)
    raise ValueError(f"no sync adapter for {ledger} yet")


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


def quickbooks_adapters(
    http: httpx.Client, keeper: TokenKeeper, budgets: BudgetStore, api_url: str | None
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
            pace=pacer(budgets, ledger_budget_name(profile.tenant_id, LedgerName.QUICKBOOKS), QUICKBOOKS_BUDGET),
        )

    return build


LEDGER_ADAPTERS: dict[LedgerName, Callable[[httpx.Client, TokenKeeper, BudgetStore, str | None], LedgerFactory]] = {
    LedgerName.QUICKBOOKS: quickbooks_adapters,
}
