"""`acuity-sync admin-link --tenant T`: a link that opens the tenant's settings page once, within minutes (signed
with the stack's key in Secrets Manager; its nonce is a one-time value in the table). Its URL alone on one line."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

import boto3

from acuity_sync.connect.access import ADMIN_LINK_LIFETIME, Access
from acuity_sync.secret import Secret
from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.one_time import OneTimeValues
from acuity_sync.store.tenants import TenantStore
from acuity_sync_toolkit.cli.errors import CommandError
from acuity_sync_toolkit.cli.location import StackLocation, add_stack_options, locate_stack

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    link = commands.add_parser(
        "admin-link",
        help=f"print a link that opens a tenant's settings page once, within {ADMIN_LINK_LIFETIME.seconds // 60} min",
    )
    link.add_argument("--tenant", required=True, help="the tenant id printed by `tenant add`")
    link.add_argument("--pages-url", default=None, help="where the pages answer (default: the stack's ConnectUrl)")
    add_stack_options(link)
    link.set_defaults(run=_run_admin_link)


def admin_link(dynamodb: DynamoDBClient, table: str, signing_key: Secret, tenant_id: str, pages_url: str) -> str:
    """A fresh one-time link to the tenant's settings page."""
    return Access(signing_key, OneTimeValues(dynamodb, table)).issue_link(tenant_id, pages_url.removesuffix("/connect"))


def signing_key(location: StackLocation) -> Secret:
    if not location.signing_secret_name:
        raise CommandError("cannot tell which secret signs the links: pass --stack NAME or start `acuity-sync dev`")
    value = location.secrets_manager().get_secret_value(SecretId=location.signing_secret_name)["SecretString"]
    return Secret(value)


def _run_admin_link(arguments: argparse.Namespace) -> int:
    location = locate_stack(arguments)
    pages_url = arguments.pages_url or location.pages_url
    if not pages_url:
        raise CommandError("cannot tell where the pages answer: pass --pages-url or --stack NAME")
    dynamodb = location.dynamodb()
    try:
        profile = TenantStore(dynamodb, location.table, location.secret_box()).get(arguments.tenant)
    except StoreUnavailable as error:
        raise CommandError(f"could not read tenant {arguments.tenant}: {error}") from error
    if profile is None:
        raise CommandError(f"no tenant {arguments.tenant!r} in table {location.table}")
    print(admin_link(dynamodb, location.table, signing_key(location), arguments.tenant, pages_url))
    return 0


def local_admin_link(
    endpoint_url: str, region: str, table: str, secret_name: str, tenant_id: str, pages_url: str
) -> str:
    """For `acuity-sync dev`: a link into the running local stack."""
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint_url, region_name=region)
    secrets = boto3.client("secretsmanager", endpoint_url=endpoint_url, region_name=region)
    key = Secret(secrets.get_secret_value(SecretId=secret_name)["SecretString"])
    return admin_link(dynamodb, table, key, tenant_id, pages_url)
