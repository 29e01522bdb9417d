"""`acuity-sync settings get|set`: a tenant's settings for one ledger, read and changed through the settings store
(versioned: a concurrent change is refused, not overwritten); the ledger's own check (its declaration's
`check_settings`: Xero checks a newly chosen account against the organisation's chart) comes first."""

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
from pydantic import ValidationError

from acuity_sync.domain.names import LedgerName
from acuity_sync.domain.settings import LedgerSettings
from acuity_sync.ledgers.base import AdapterInputs, Ledger, LedgerDeclaration, SettingsReview
from acuity_sync.ledgers.registry import ledger_declaration, parse_settings, settings_error_messages
from acuity_sync.observability import logger
from acuity_sync.store.connections import ConnectionStore
from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.settings import (
    SettingsConflict,
    SettingsStore,
    StoredSettingsInvalid,
    UnknownTenant,
    VersionedSettings,
)
from acuity_sync.store.tenants import TenantStore
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
            connection = ConnectionStore(location.dynamodb(), location.table, location.secret_box()).get(
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
