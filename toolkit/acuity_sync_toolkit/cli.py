"""The `acuity-sync` command: run the local stack, run the demo, add tenants (locally or to a deployed stack)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import httpx
from pydantic import ValidationError

from acuity_sync.domain.names import LedgerName
from acuity_sync.domain.settings import LedgerSettings
from acuity_sync.ledgers.base import AdapterInputs, Ledger, LedgerDeclaration, SettingsReview
from acuity_sync.ledgers.registry import ledger_declaration, parse_settings, settings_error_messages
from acuity_sync.observability import logger
from acuity_sync.secret import Secret
from acuity_sync.store.connections import ConnectionStore
from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.kms import SecretBox
from acuity_sync.store.settings import (
    SettingsConflict,
    SettingsStore,
    StoredSettingsInvalid,
    UnknownTenant,
    VersionedSettings,
)
from acuity_sync.store.tenants import DEFAULT_ACUITY_BASE_URL, TenantProfile, TenantStore, new_tenant_id

DEV_STATE = Path(".acuity-sync") / "dev.json"


class CommandError(Exception):
    """Said to the user as it is, with exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    arguments = parser.parse_args(argv)
    try:
        result: int = arguments.run(arguments)
    except CommandError as error:
        print(f"acuity-sync: {error}", file=sys.stderr)
        return 2
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="acuity-sync", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    dev = commands.add_parser("dev", help="run the local stack until Ctrl-C")
    dev.add_argument("--port", type=int, default=8787, help="the local gateway's port (0: any free port)")
    dev.add_argument("--aws-port", type=int, default=0, help="embedded AWS's port (default: any free port)")
    dev.add_argument("--acuity-port", type=int, default=0, help="the fake Acuity's port (default: any free port)")
    dev.add_argument("--state-dir", type=Path, default=DEV_STATE.parent, help="where dev.json and logs go")
    dev.set_defaults(run=_run_dev)

    demo = commands.add_parser("demo", help="start the local stack, book appointments, show what happened")
    demo.add_argument("--state-dir", type=Path, default=DEV_STATE.parent)
    demo.set_defaults(run=_run_demo)

    tenant = commands.add_parser("tenant", help="manage tenants").add_subparsers(required=True, metavar="ACTION")
    add = tenant.add_parser("add", help="add a business: prints its tenant id and webhook URL as JSON")
    add.add_argument("--name", required=True)
    add.add_argument("--acuity-user-id", required=True)
    add.add_argument("--acuity-api-key", required=True)
    add.add_argument("--acuity-base-url", default=DEFAULT_ACUITY_BASE_URL)
    _add_stack_options(add)
    add.set_defaults(run=_run_tenant_add)

    settings = commands.add_parser("settings", help="show or change a tenant's settings for one ledger")
    settings_actions = settings.add_subparsers(required=True, metavar="ACTION")
    get = settings_actions.add_parser("get", help="print the settings (with their version) as JSON")
    _add_settings_target(get)
    get.set_defaults(run=_run_settings_get)
    put = settings_actions.add_parser(
        "set", help="change settings: key=value (dotted keys for nested ones, values as JSON when they parse)"
    )
    _add_settings_target(put)
    put.add_argument("assignments", nargs="+", metavar="KEY=VALUE", help="e.g. mode=send quickbooks.default_item_id=1")
    put.add_argument(
        "--xero-api-url",
        default=os.environ.get("ACUITY_SYNC_XERO_API_URL"),
        help="where chosen Xero accounts are checked (default: the dev stack's fake, else Xero)",
    )
    put.set_defaults(run=_run_settings_set)
    return parser


def _add_stack_options(parser: argparse.ArgumentParser) -> None:
    """Where the stack is: flags, then ACUITY_SYNC_* / AWS_* variables, then a deployed stack's outputs
    (--stack), then a running `acuity-sync dev` (.acuity-sync/dev.json)."""
    parser.add_argument("--stack", default=os.environ.get("ACUITY_SYNC_STACK"), help="a deployed stack's name")
    parser.add_argument("--table", default=os.environ.get("ACUITY_SYNC_TABLE"))
    parser.add_argument("--kms-key-id", default=os.environ.get("ACUITY_SYNC_KMS_KEY_ID"))
    parser.add_argument("--webhook-base-url", default=os.environ.get("ACUITY_SYNC_WEBHOOK_BASE_URL"))
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"))
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    parser.add_argument("--dev-state", type=Path, default=DEV_STATE)


@dataclass(frozen=True, slots=True)
class StackLocation:
    table: str
    kms_key_id: str
    webhook_base_url: str
    endpoint_url: str | None
    region: str | None


def _locate_stack(arguments: argparse.Namespace) -> StackLocation:
    table, key, base = arguments.table, arguments.kms_key_id, arguments.webhook_base_url
    endpoint, region = arguments.endpoint_url, arguments.region
    if arguments.stack and not (table and key and base):
        cloudformation = boto3.client("cloudformation", endpoint_url=endpoint, region_name=region)
        stacks = cloudformation.describe_stacks(StackName=arguments.stack)["Stacks"]
        outputs = {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}
        table, key, base = (
            table or outputs.get("TableName"),
            key or outputs.get("KmsKeyArn"),
            base or outputs.get("WebhookBaseUrl"),
        )
    elif not (table and key and base) and arguments.dev_state.exists():
        dev = json.loads(arguments.dev_state.read_text(encoding="utf-8"))
        table, key, base = table or dev["table_name"], key or dev["kms_key_arn"], base or dev["webhook_base_url"]
        endpoint, region = endpoint or dev["aws_endpoint_url"], region or dev["region"]
        for name, value in (("AWS_ACCESS_KEY_ID", "local"), ("AWS_SECRET_ACCESS_KEY", "local")):
            os.environ.setdefault(name, value)
    if not (table and key and base):
        raise CommandError(
            "cannot tell which stack to use: pass --stack NAME (a deployed stack), or --table, --kms-key-id and "
            "--webhook-base-url, or start `acuity-sync dev` first"
        )
    return StackLocation(table, key, base, endpoint, region)


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
    location = _locate_stack(arguments)
    account = _acuity_account(arguments.acuity_base_url, arguments.acuity_user_id, arguments.acuity_api_key)
    dynamodb = boto3.client("dynamodb", endpoint_url=location.endpoint_url, region_name=location.region)
    kms = boto3.client("kms", endpoint_url=location.endpoint_url, region_name=location.region)
    store = TenantStore(dynamodb, location.table, SecretBox(kms, location.kms_key_id))
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


def _add_settings_target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tenant", required=True, help="the tenant id printed by `tenant add`")
    parser.add_argument("--ledger", required=True, choices=[str(ledger) for ledger in LedgerName])
    _add_stack_options(parser)


def _settings_store(arguments: argparse.Namespace) -> tuple[SettingsStore, LedgerName]:
    """The settings store, after checking that the tenant exists (settings of an unknown tenant are a typo)."""
    location = _locate_stack(arguments)
    arguments.location = location  # for the checks against the ledger (`settings set`)
    dynamodb = boto3.client("dynamodb", endpoint_url=location.endpoint_url, region_name=location.region)
    kms = boto3.client("kms", endpoint_url=location.endpoint_url, region_name=location.region)
    try:
        profile = TenantStore(dynamodb, location.table, SecretBox(kms, location.kms_key_id)).get(arguments.tenant)
    except StoreUnavailable as error:
        raise CommandError(f"could not read tenant {arguments.tenant}: {error}") from error
    if profile is None:
        raise CommandError(
            f"no tenant {arguments.tenant!r} in table {location.table}: check the id `tenant add` printed"
        )
    return SettingsStore(dynamodb, location.table), LedgerName(arguments.ledger)


def _print_settings(tenant_id: str, ledger: LedgerName, current: VersionedSettings) -> None:
    document: dict[str, object] = {"tenant_id": tenant_id, "ledger": str(ledger), "version": current.version}
    if current.updated_at:
        document["updated_at"] = current.updated_at
    document["settings"] = current.settings.model_dump(mode="json")
    print(json.dumps(document, indent=2))


def _run_settings_get(arguments: argparse.Namespace) -> int:
    store, ledger = _settings_store(arguments)
    try:
        current = store.get(arguments.tenant, ledger)
    except (StoreUnavailable, StoredSettingsInvalid) as error:
        raise CommandError(str(error)) from error
    _print_settings(arguments.tenant, ledger, current)
    return 0


def _run_settings_set(arguments: argparse.Namespace) -> int:
    assignments = [_assignment(text) for text in arguments.assignments]  # syntax first: no AWS call for a typo
    store, ledger = _settings_store(arguments)
    try:
        current = store.get(arguments.tenant, ledger)
        document = current.settings.model_dump(mode="json")
        for path, value in assignments:
            _assign(document, path, value)
        try:
            changed = parse_settings(ledger, document)
        except ValidationError as error:
            print(f"acuity-sync: the {ledger} settings were not changed:", file=sys.stderr)
            for message in settings_error_messages(error):
                print(f"  {message}", file=sys.stderr)
            return 2
        review = _ledger_review(arguments, ledger, current.settings, changed)
        for note in review.notes:
            print(f"acuity-sync: {note}", file=sys.stderr)
        if review.problems:
            print(f"acuity-sync: the {ledger} settings were not changed:", file=sys.stderr)
            for problem in review.problems:
                print(f"  {problem}", file=sys.stderr)
            return 2
        version = store.put(arguments.tenant, ledger, changed, current.version)
    except (StoreUnavailable, StoredSettingsInvalid, SettingsConflict, UnknownTenant) as error:
        raise CommandError(str(error)) from error
    _print_settings(arguments.tenant, ledger, VersionedSettings(changed, version))
    return 0


def _ledger_review(
    arguments: argparse.Namespace, ledger: LedgerName, before: LedgerSettings, after: LedgerSettings
) -> SettingsReview:
    """The ledger's own check of a change (its declaration's `check_settings`; Xero's checks newly chosen accounts
    against the organisation's chart), reading the ledger with the connection's current access token. The CLI
    never refreshes a token (refresh tokens are single use: that is the sync functions' token keeper's job)."""
    declaration = ledger_declaration(ledger)
    if declaration.check_settings is None:
        return SettingsReview()
    location: StackLocation = arguments.location
    with contextlib.ExitStack() as opened:

        def open_ledger() -> Ledger | None:
            dynamodb = boto3.client("dynamodb", endpoint_url=location.endpoint_url, region_name=location.region)
            kms = boto3.client("kms", endpoint_url=location.endpoint_url, region_name=location.region)
            connection = ConnectionStore(dynamodb, location.table, SecretBox(kms, location.kms_key_id)).get(
                arguments.tenant, ledger
            )
            if connection is None:
                return None
            token = connection.access_token
            http = opened.enter_context(httpx.Client(timeout=20))
            opened.enter_context(_quiet_logger())
            inputs = AdapterInputs(
                http=http,
                company_id=connection.company_id,
                access_token=lambda _: token,
                api_url=_ledger_api_url(arguments, declaration),
                pace=lambda: None,
            )
            return declaration.adapter_factory()(inputs, after)

        return declaration.check_settings(before, after, open_ledger)


@contextlib.contextmanager
def _quiet_logger() -> Iterator[None]:
    """No INFO log lines or EMF metrics (both for Lambda's CloudWatch, both on stdout) in a command's answer."""
    level = logger.log_level
    logger.setLevel("WARNING")
    try:
        with open(os.devnull, "w", encoding="utf-8") as nowhere, contextlib.redirect_stdout(nowhere):
            yield
    finally:
        logger.setLevel(level)


def _ledger_api_url(arguments: argparse.Namespace, declaration: LedgerDeclaration[Any]) -> str:
    """The ledger's API: --<ledger>-api-url (Xero has one), else the running `acuity-sync dev`'s fake, else the
    ledger's own."""
    chosen = getattr(arguments, f"{declaration.name}_api_url", None)
    if chosen:
        return str(chosen)
    if arguments.dev_state.exists() and not arguments.stack:
        dev = json.loads(arguments.dev_state.read_text(encoding="utf-8"))
        url = dev.get("ledgers", {}).get(str(declaration.name), {}).get("url")
        if url:
            return str(url)
    return declaration.production_api_url


def _reject_constant(name: str) -> object:
    raise ValueError(name)  # NaN and Infinity are not values any setting takes: keep them as text


def _assignment(text: str) -> tuple[list[str], object]:
    """`key=value`: a dotted key for nested settings; the value as JSON when it parses (numbers as Decimal, never
    float), else as text, so `mode=send`, `sync_orders=false` and `quickbooks.default_item_id=1` all work."""
    key, separator, raw = text.partition("=")
    path = key.strip().split(".")
    if not separator or not all(path):
        raise CommandError(f"expected KEY=VALUE, e.g. mode=send (got {text!r})")
    if path == ["ledger"]:
        raise CommandError("the ledger of a settings document cannot be changed: pass --ledger instead")
    try:
        value: object = json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    except ValueError:
        value = raw
    return path, value


def _assign(document: dict[str, Any], path: list[str], value: object) -> None:
    target = document
    for depth, name in enumerate(path[:-1]):
        child = target.get(name)
        if child is None:
            child = target[name] = {}  # a new group, e.g. a first entry in quickbooks.service_items
        if not isinstance(child, dict):
            group = ".".join(path[: depth + 1])
            raise CommandError(f"{group} is a single setting, not a group: cannot set {'.'.join(path)}")
        target = child
    target[path[-1]] = value


def _run_dev(arguments: argparse.Namespace) -> int:
    from acuity_sync_toolkit.stack.devstack import DevStack  # the local stack's imports are for this command only

    stop = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stop.set())
    stack = DevStack(
        state_dir=arguments.state_dir,
        gateway_port=arguments.port,
        aws_port=arguments.aws_port,
        acuity_port=arguments.acuity_port,
    )
    try:
        info = stack.start()
        print(
            f"ready gateway={info.gateway_url} aws={info.aws_endpoint_url} acuity={info.acuity_url} "
            f"state={arguments.state_dir / 'dev.json'}",
            flush=True,
        )
        print(f"demo tenant webhook: {info.demo_tenant['webhook_url']}", flush=True)
        stop.wait()
    finally:
        stack.stop()
        print("stopped", flush=True)
    return 0


def _run_demo(arguments: argparse.Namespace) -> int:
    from acuity_sync_toolkit.demo.run import run_demo

    return run_demo(arguments.state_dir)


if __name__ == "__main__":
    sys.exit(main())
