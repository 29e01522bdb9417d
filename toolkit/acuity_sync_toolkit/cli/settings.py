"""`acuity-sync settings get|set`: a tenant's settings for one ledger, read and changed through the settings store
(versioned: a concurrent change is refused, not overwritten). A change goes through acuity_sync.connect.settings,
as the settings page's do: the ledger's own check first (its declaration's `check_settings`: Xero checks a newly
chosen account against the organisation's chart), and once saved the events parked until a settings change are
queued again."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx

from acuity_sync.connect.settings import Resume, change_settings
from acuity_sync.domain.names import LedgerName
from acuity_sync.domain.settings import LedgerSettings
from acuity_sync.ledgers.base import AdapterInputs, Ledger, LedgerDeclaration
from acuity_sync.ledgers.registry import ledger_declaration
from acuity_sync.observability import logger
from acuity_sync.queues import LedgerQueues
from acuity_sync.store.connections import ConnectionStore
from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.parking import ParkingLot, ResumeOn
from acuity_sync.store.settings import (
    SettingsConflict,
    SettingsStore,
    StoredSettingsInvalid,
    UnknownTenant,
    VersionedSettings,
)
from acuity_sync.store.tenants import TenantStore
from acuity_sync.sync.requeue import Requeuer
from acuity_sync_toolkit.cli.errors import CommandError
from acuity_sync_toolkit.cli.location import StackLocation, add_stack_options, locate_stack


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
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


def _add_settings_target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tenant", required=True, help="the tenant id printed by `tenant add`")
    parser.add_argument("--ledger", required=True, choices=[str(ledger) for ledger in LedgerName])
    add_stack_options(parser)


def _settings_store(arguments: argparse.Namespace) -> tuple[SettingsStore, LedgerName]:
    """The settings store, after checking that the tenant exists (settings of an unknown tenant are a typo)."""
    location = locate_stack(arguments)
    arguments.location = location  # for the checks against the ledger (`settings set`)
    arguments.opened = contextlib.ExitStack()  # what a check against the ledger opened, closed after it
    dynamodb = location.dynamodb()
    try:
        profile = TenantStore(dynamodb, location.table, location.secret_box()).get(arguments.tenant)
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
    location: StackLocation = arguments.location
    try:
        current = store.get(arguments.tenant, ledger)
        document = current.settings.model_dump(mode="json")
        for path, value in assignments:
            _assign(document, path, value)
        # The one way a change is made (the settings page makes it the same way): validated, checked with the
        # ledger, saved over the version read, and the events parked until a settings change queued again.
        change = change_settings(
            store,
            arguments.tenant,
            ledger,
            document,
            based_on=current.settings,
            version=current.version,
            open_ledger=lambda: _open_ledger(arguments, ledger, current.settings),
            resume=_resume(location),
        )
    except (StoreUnavailable, StoredSettingsInvalid, SettingsConflict, UnknownTenant) as error:
        raise CommandError(str(error)) from error
    finally:
        _close_opened(arguments)
    for note in change.notes:
        print(f"acuity-sync: {note}", file=sys.stderr)
    if change.version is None or change.settings is None:
        print(f"acuity-sync: the {ledger} settings were not changed:", file=sys.stderr)
        for problem in change.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    if change.requeued:
        print(f"acuity-sync: {change.requeued} parked event(s) queued again", file=sys.stderr)
    if not location.queue_urls:
        waiting = ParkingLot(location.dynamodb(), location.table).for_ledger(
            arguments.tenant, ledger, ResumeOn.SETTINGS_CHANGE
        )
        if waiting:
            print(
                f"acuity-sync: {len(waiting)} parked event(s) were not queued again: the queues are unknown "
                "(pass --stack, or save the settings on the settings page)",
                file=sys.stderr,
            )
    _print_settings(arguments.tenant, ledger, VersionedSettings(change.settings, change.version))
    return 0


def _resume(location: StackLocation) -> Resume | None:
    if not location.queue_urls:
        return None
    parking = ParkingLot(location.dynamodb(), location.table)
    return Resume(parking, Requeuer(parking, LedgerQueues(location.sqs(), location.queue_urls)))


def _open_ledger(arguments: argparse.Namespace, ledger: LedgerName, after: LedgerSettings) -> Ledger | None:
    """The tenant's ledger, with the connection's current access token. The CLI never refreshes a token (refresh
    tokens are single use: that is the sync functions' token keeper's job)."""
    declaration = ledger_declaration(ledger)
    location: StackLocation = arguments.location
    connection = ConnectionStore(location.dynamodb(), location.table, location.secret_box()).get(
        arguments.tenant, ledger
    )
    if connection is None:
        return None
    token = connection.access_token
    opened: contextlib.ExitStack = arguments.opened
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


def _close_opened(arguments: argparse.Namespace) -> None:
    opened: contextlib.ExitStack = arguments.opened
    opened.close()


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
