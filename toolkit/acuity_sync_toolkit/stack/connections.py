"""Connecting a tenant to a fake ledger through the token store, as the connect flow does with a real consent
(the local stack, the function tests and the sync bench use it). One shape for the three ledgers: a fake is told
to open a company, our OAuth client at its token endpoint goes into the stack's secret, and a grant it issued
goes into the connection store, sealed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from acuity_sync.domain.grant import TokenGrant
from acuity_sync.domain.names import LedgerName
from acuity_sync.ledgers.registry import ledger_declaration
from acuity_sync.secret import Secret
from acuity_sync.store.connections import ConnectionStore
from acuity_sync.store.kms import SecretBox
from acuity_sync.store.tenants import TenantProfile, TenantStore
from acuity_sync_toolkit.fakes.acuity import FakeAcuity
from acuity_sync_toolkit.fakes.freshbooks import FakeFreshBooks
from acuity_sync_toolkit.fakes.quickbooks import FakeQuickBooks
from acuity_sync_toolkit.fakes.xero import FakeXero
from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack

FakeLedger = FakeQuickBooks | FakeXero | FakeFreshBooks
LOCAL_REDIRECT_URI = "http://127.0.0.1/oauth/freshbooks/callback"


@dataclass(frozen=True, slots=True)
class LocalLedger:
    """How the local stack speaks of one fake ledger: its template names and its OAuth endpoints."""

    name: LedgerName
    token_path: str
    authorize_path: str
    revoke_path: str = ""

    @property
    def label(self) -> str:
        """As in the template's logical ids: QuickBooks, Xero, FreshBooks."""
        return ledger_declaration(self.name).display_name

    @property
    def secret_logical_id(self) -> str:
        return f"{self.label}OAuthSecret"

    @property
    def api_url_parameter(self) -> str:
        return f"{self.label}ApiUrl"


LOCAL_LEDGERS = {
    LedgerName.QUICKBOOKS: LocalLedger(
        LedgerName.QUICKBOOKS, "/oauth2/v1/tokens/bearer", "/connect/oauth2", "/v2/oauth2/tokens/revoke"
    ),
    LedgerName.XERO: LocalLedger(LedgerName.XERO, "/connect/token", "/identity/connect/authorize"),
    LedgerName.FRESHBOOKS: LocalLedger(
        LedgerName.FRESHBOOKS, "/auth/oauth/token", "/oauth/authorize", "/auth/oauth/revoke"
    ),
}


def ledger_of(fake: FakeLedger) -> LedgerName:
    if isinstance(fake, FakeQuickBooks):
        return LedgerName.QUICKBOOKS
    if isinstance(fake, FakeXero):
        return LedgerName.XERO
    return LedgerName.FRESHBOOKS


def open_company(fake: FakeLedger, company_id: str, *, currency: str = "USD", name: str = "Demo Studio") -> None:
    """A company at the fake ledger: a US QuickBooks company, a Xero organisation, a FreshBooks business."""
    if isinstance(fake, FakeQuickBooks):
        fake.add_company(company_id, country="US", currency=currency, company_name=name)
    elif isinstance(fake, FakeXero):
        fake.add_organisation(company_id, base_currency=currency, name=name)
    else:
        fake.add_business(company_id, currency=currency, name=name)


def emails_sent(fake: FakeLedger, company_id: str) -> list[str]:
    """The invoice id of each e-mail the fake sent for the company, in order (what clients' inboxes show)."""
    if isinstance(fake, FakeQuickBooks):
        return [str(email["invoice_id"]) for email in fake.state(company_id)["emails"]]
    if isinstance(fake, FakeXero):
        return [str(invoice_id) for invoice_id in fake.state(company_id)["Emails"]]
    return [str(email["invoiceid"]) for email in fake.state(company_id)["emails"]]


def store_oauth_client(
    stack: ProvisionedStack, fake: FakeLedger, *, endpoint_url: str | None = None, pages_url: str | None = None
) -> None:
    """Our OAuth client at the fake's endpoints, in the stack's secret, where a deployed stack's owner puts the real
    one (wiring.sync.oauth_provider and wiring.connect read it). `pages_url`: where the connect function's pages
    answer (the local gateway on localhost), for the consent's redirect URI."""
    local = LOCAL_LEDGERS[ledger_of(fake)]
    client: dict[str, Any] = {"client_id": "local-client", "client_secret": "local-secret"}  # Xero's fake: any
    if isinstance(fake, FakeQuickBooks | FakeFreshBooks):
        client = {"client_id": fake.client_id, "client_secret": fake.client_secret}
    if isinstance(fake, FakeFreshBooks):
        # FreshBooks wants the redirect URI with every refresh too, so the secret names it.
        client["redirect_uri"] = (
            f"{pages_url.rstrip('/')}/oauth/freshbooks/callback" if pages_url else LOCAL_REDIRECT_URI
        )
    endpoints = {"token_url": f"{fake.url}{local.token_path}", "authorize_url": f"{fake.url}{local.authorize_path}"}
    if local.revoke_path:
        endpoints["revoke_url"] = f"{fake.url}{local.revoke_path}"
    secrets = boto3.client("secretsmanager", region_name=stack.region, endpoint_url=endpoint_url)
    secrets.put_secret_value(
        SecretId=stack.physical_ids[local.secret_logical_id], SecretString=json.dumps({**client, **endpoints})
    )


def connect(
    stack: ProvisionedStack, fake: FakeLedger, tenant_id: str, company_id: str, *, endpoint_url: str | None = None
) -> None:
    """A grant the fake issued for `company_id`, stored as the tenant's connection to that ledger."""
    ledger = ledger_of(fake)
    tokens = fake.issue_tokens(company_id)
    now = datetime.now(UTC)
    grant = TokenGrant(
        access_token=Secret(tokens.access_token),
        refresh_token=Secret(tokens.refresh_token),
        access_expires_at=now + timedelta(seconds=tokens.expires_in),
        # FreshBooks' refresh tokens never expire by time (they are single use).
        refresh_expires_at=None
        if ledger is LedgerName.FRESHBOOKS
        else now + timedelta(seconds=tokens.x_refresh_token_expires_in),
    )
    dynamodb = boto3.client("dynamodb", region_name=stack.region, endpoint_url=endpoint_url)
    kms = boto3.client("kms", region_name=stack.region, endpoint_url=endpoint_url)
    ConnectionStore(dynamodb, stack.table_name, SecretBox(kms, stack.kms_key_arn)).connect(
        tenant_id, ledger, company_id, grant
    )


def connected_tenant(
    stack: ProvisionedStack,
    acuity: FakeAcuity,
    ledgers: dict[str, FakeLedger],
    *,
    tenant_id: str,
    acuity_user_id: int,
    acuity_api_key: str,
    endpoint_url: str | None = None,
) -> TenantProfile:
    """A business with an Acuity account at the fake Acuity and a company at each fake ledger (company id ->
    fake), connected through the tenant store and the token store: what tests and the bench sync against."""
    acuity.add_account(acuity_user_id, acuity_api_key)
    dynamodb = boto3.client("dynamodb", region_name=stack.region, endpoint_url=endpoint_url)
    kms = boto3.client("kms", region_name=stack.region, endpoint_url=endpoint_url)
    profile = TenantStore(dynamodb, stack.table_name, SecretBox(kms, stack.kms_key_arn)).create(
        TenantProfile(
            tenant_id,
            "Studio",
            str(acuity_user_id),
            Secret(acuity_api_key),
            acuity_base_url=acuity.url,
            currency="USD",
            ledgers=tuple(ledger_of(fake) for fake in ledgers.values()),
        )
    )
    for company_id, fake in ledgers.items():
        store_oauth_client(stack, fake, endpoint_url=endpoint_url)
        open_company(fake, company_id)
        connect(stack, fake, tenant_id, company_id, endpoint_url=endpoint_url)
    return profile


def quickbooks_tenant(
    stack: ProvisionedStack,
    acuity: FakeAcuity,
    quickbooks: FakeQuickBooks,
    *,
    tenant_id: str,
    acuity_user_id: int,
    acuity_api_key: str,
    realm_id: str,
    endpoint_url: str | None = None,
) -> TenantProfile:
    """A business connected to the fake QuickBooks alone."""
    return connected_tenant(
        stack,
        acuity,
        {realm_id: quickbooks},
        tenant_id=tenant_id,
        acuity_user_id=acuity_user_id,
        acuity_api_key=acuity_api_key,
        endpoint_url=endpoint_url,
    )
