"""`acuity-sync tenant add`: a business, checked against its Acuity account (`GET /me`), stored in the stack's table,
and its Acuity webhooks (`appointment.changed`, `order.completed`) registered through Acuity's API to its own URL:
nobody pastes a URL. Against the running `acuity-sync dev`, Acuity is the local stack's fake unless
--acuity-base-url says otherwise."""

from __future__ import annotations

import argparse
import json
from typing import Any

from acuity_sync.acuity.client import AcuityClient
from acuity_sync.connect.acuity import AcuityRefused, check_account, register_webhooks, webhook_url
from acuity_sync.secret import Secret
from acuity_sync.store.tenants import DEFAULT_ACUITY_BASE_URL, TenantProfile, TenantStore, new_tenant_id
from acuity_sync_toolkit.cli.errors import CommandError
from acuity_sync_toolkit.cli.location import add_stack_options, locate_stack


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    tenant = commands.add_parser("tenant", help="manage tenants").add_subparsers(required=True, metavar="ACTION")
    add = tenant.add_parser(
        "add", help="add a business and register its Acuity webhooks: prints its tenant id and webhook URL as JSON"
    )
    add.add_argument("--name", required=True)
    add.add_argument("--acuity-user-id", required=True)
    add.add_argument("--acuity-api-key", required=True)
    add.add_argument(
        "--acuity-base-url",
        default=None,
        help=f"Acuity's site (default: the running `acuity-sync dev`'s fake Acuity, else {DEFAULT_ACUITY_BASE_URL})",
    )
    add_stack_options(add)
    add.set_defaults(run=_run_tenant_add)


def _run_tenant_add(arguments: argparse.Namespace) -> int:
    location = locate_stack(arguments)
    base_url = arguments.acuity_base_url or location.dev_acuity_url or DEFAULT_ACUITY_BASE_URL
    api_key = Secret(arguments.acuity_api_key)
    tenant_id = new_tenant_id()
    target = webhook_url(location.webhook_base_url, tenant_id)
    with AcuityClient(base_url, arguments.acuity_user_id, api_key) as acuity:
        try:
            account = check_account(acuity)
        except AcuityRefused as refused:
            raise CommandError(f"{refused} (Acuity at {base_url})") from None
        store = TenantStore(location.dynamodb(), location.table, location.secret_box())
        profile = store.create(
            TenantProfile(
                tenant_id=tenant_id,
                name=arguments.name,
                acuity_user_id=arguments.acuity_user_id,
                acuity_api_key=api_key,
                acuity_base_url=base_url,
                currency=account.currency,
                timezone=account.timezone,
            )
        )
        try:
            registration = register_webhooks(acuity, tenant_id, target)
        except AcuityRefused as refused:
            raise CommandError(
                f"tenant {tenant_id} was added, but its webhooks were not registered: {refused}. Fix that, then "
                "save the Acuity account again on the settings page (acuity-sync admin-link)."
            ) from None
    print(
        json.dumps(
            {
                "tenant_id": profile.tenant_id,
                "webhook_url": target,
                "webhooks": {"registered": list(registration.created), "already_there": list(registration.kept)},
                "currency": profile.currency,
                "timezone": profile.timezone,
            }
        )
    )
    return 0
