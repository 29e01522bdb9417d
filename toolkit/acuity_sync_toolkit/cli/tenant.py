"""`acuity-sync tenant add`: a business, checked against its Acuity account, stored in the stack's table."""

from __future__ import annotations

import argparse
import json
from typing import Any

import httpx

from acuity_sync.secret import Secret
from acuity_sync.store.tenants import DEFAULT_ACUITY_BASE_URL, TenantProfile, TenantStore, new_tenant_id
from acuity_sync_toolkit.cli.errors import CommandError
from acuity_sync_toolkit.cli.location import add_stack_options, locate_stack


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    tenant = commands.add_parser("tenant", help="manage tenants").add_subparsers(required=True, metavar="ACTION")
    add = tenant.add_parser("add", help="add a business: prints its tenant id and webhook URL as JSON")
    add.add_argument("--name", required=True)
    add.add_argument("--acuity-user-id", required=True)
    add.add_argument("--acuity-api-key", required=True)
    add.add_argument("--acuity-base-url", default=DEFAULT_ACUITY_BASE_URL)
    add_stack_options(add)
    add.set_defaults(run=_run_tenant_add)


def _acuity_account(base_url: str, user_id: str, api_key: str) -> dict[str, object]:
    """GET /api/v1/me: proves the credentials and gives the account's currency and time zone."""
    try:
        response = httpx.get(f"{base_url.rstrip('/')}/api/v1/me", auth=(user_id, api_key), timeout=10)
    except httpx.HTTPError as error:
        raise CommandError(f"could not reach Acuity at {base_url}: {type(error).__name__}") from error
    if response.status_code == 401:
        raise CommandError("Acuity refused this user id and API key (401): check them under Integrations → API")
    if response.status_code != 200:
        raise CommandError(f"Acuity answered {response.status_code} to GET /api/v1/me")
    account: dict[str, object] = response.json()
    return account


def _run_tenant_add(arguments: argparse.Namespace) -> int:
    location = locate_stack(arguments)
    account = _acuity_account(arguments.acuity_base_url, arguments.acuity_user_id, arguments.acuity_api_key)
    store = TenantStore(location.dynamodb(), location.table, location.secret_box())
    profile = store.create(
        TenantProfile(
            tenant_id=new_tenant_id(),
            name=arguments.name,
            acuity_user_id=arguments.acuity_user_id,
            acuity_api_key=Secret(arguments.acuity_api_key),
            acuity_base_url=arguments.acuity_base_url,
            currency=str(account.get("currency", "")),
            timezone=str(account.get("timezone", "")),
        )
    )
    webhook_url = location.webhook_base_url.rstrip("/") + "/" + profile.tenant_id
    print(
        json.dumps(
            {
                "tenant_id": profile.tenant_id,
                "webhook_url": webhook_url,
                "currency": profile.currency,
                "timezone": profile.timezone,
            }
        )
    )
    return 0
