"""Connecting a tenant to the fake QuickBooks through the token store, as the connect flow will do with a real
consent (the local stack and the tests use it)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3

from acuity_sync.auth.kms import SecretBox
from acuity_sync.auth.oauth import TokenGrant
from acuity_sync.auth.tokens import ConnectionStore
from acuity_sync.ledgers import LedgerName
from acuity_sync.local.cloudformation import ProvisionedStack
from acuity_sync.local.fake_acuity import FakeAcuity
from acuity_sync.local.qbo import FakeQuickBooks
from acuity_sync.secret import Secret
from acuity_sync.store.tenants import TenantProfile, TenantStore


def connect_quickbooks(
    stack: ProvisionedStack, fake: FakeQuickBooks, tenant_id: str, realm_id: str, *, endpoint_url: str | None = None
) -> None:
    tokens = fake.issue_tokens(realm_id)
    now = datetime.now(UTC)
    grant = TokenGrant(
        access_token=Secret(tokens.access_token),
        refresh_token=Secret(tokens.refresh_token),
        access_expires_at=now + timedelta(seconds=tokens.expires_in),
        refresh_expires_at=now + timedelta(seconds=tokens.x_refresh_token_expires_in),
    )
    dynamodb = boto3.client("dynamodb", region_name=stack.region, endpoint_url=endpoint_url)
    kms = boto3.client("kms", region_name=stack.region, endpoint_url=endpoint_url)
    ConnectionStore(dynamodb, stack.table_name, SecretBox(kms, stack.kms_key_arn)).connect(
        tenant_id, LedgerName.QUICKBOOKS, realm_id, grant
    )


def store_quickbooks_oauth_client(
    stack: ProvisionedStack, fake: FakeQuickBooks, *, endpoint_url: str | None = None
) -> None:
    """Our OAuth client at the fake Intuit, in the stack's secret, where a deployed stack's owner puts the real one."""
    secrets = boto3.client("secretsmanager", region_name=stack.region, endpoint_url=endpoint_url)
    secrets.put_secret_value(
        SecretId=stack.physical_ids["QuickBooksOAuthSecret"],
        SecretString=json.dumps(
            {
                "client_id": fake.client_id,
                "client_secret": fake.client_secret,
                "token_url": f"{fake.url}/oauth2/v1/tokens/bearer",
            }
        ),
    )


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
    """A business with an Acuity account at the fake Acuity, a US company at the fake QuickBooks, and the two
    connected through the tenant store and the token store: what tests and the bench sync against."""
    store_quickbooks_oauth_client(stack, quickbooks, endpoint_url=endpoint_url)
    acuity.add_account(acuity_user_id, acuity_api_key)
    quickbooks.add_company(realm_id, country="US", currency="USD")
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
            ledgers=(LedgerName.QUICKBOOKS,),
        )
    )
    connect_quickbooks(stack, quickbooks, tenant_id, realm_id, endpoint_url=endpoint_url)
    return profile
