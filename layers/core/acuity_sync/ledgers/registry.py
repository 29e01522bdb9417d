"""Every ledger, one entry each in LEDGERS. Whatever needs to know about a ledger (the sync functions' wiring, the
settings and their messages, budgets, token refresh, the CLI) looks its declaration up here by name; the
declaration itself is in the ledger's own package (ledgers/<ledger>/__init__.py)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import reduce
from operator import or_
from typing import Annotated, Any, Literal, overload

from pydantic import Field, TypeAdapter, ValidationError

from acuity_sync.domain.names import LedgerName
from acuity_sync.domain.settings import LedgerSettings, describe_errors
from acuity_sync.ledgers.base import LedgerDeclaration
from acuity_sync.ledgers.freshbooks import FRESHBOOKS
from acuity_sync.ledgers.freshbooks.options import FreshBooksSettings
from acuity_sync.ledgers.quickbooks import QUICKBOOKS
from acuity_sync.ledgers.quickbooks.options import QuickBooksSettings
from acuity_sync.ledgers.xero import XERO
from acuity_sync.ledgers.xero.options import XeroSettings

LEDGERS: tuple[LedgerDeclaration[Any], ...] = (
    QUICKBOOKS,
    XERO,
    FRESHBOOKS,
)

_BY_NAME: Mapping[LedgerName, LedgerDeclaration[Any]] = {declaration.name: declaration for declaration in LEDGERS}
# A LedgerName without a declaration (or with two) fails here, at import, rather than at its first message.
if [declaration.name for declaration in LEDGERS] != list(LedgerName):
    raise RuntimeError("ledgers/registry.py must declare every LedgerName once, in the enum's order")


def ledger_declaration(ledger: LedgerName) -> LedgerDeclaration[Any]:
    """The ledger's declaration (a KeyError for a name that is not a LedgerName)."""
    return _BY_NAME[LedgerName(ledger)]


# --------------------------------------------------------------------------------------------- settings
SETTINGS_MODELS: Mapping[LedgerName, type[LedgerSettings]] = {
    declaration.name: declaration.settings_model for declaration in LEDGERS
}
# Any ledger's settings document, told apart by its `ledger` key.
LEDGER_SETTINGS: TypeAdapter[LedgerSettings] = TypeAdapter(
    Annotated[reduce(or_, SETTINGS_MODELS.values()), Field(discriminator="ledger")]
)


# The overloads give a caller naming one ledger that ledger's model (e.g. `.quickbooks` without a cast).
@overload
def default_settings(ledger: Literal[LedgerName.QUICKBOOKS], *, country: str | None = None) -> QuickBooksSettings: ...
@overload
def default_settings(ledger: Literal[LedgerName.XERO], *, country: str | None = None) -> XeroSettings: ...
@overload
def default_settings(ledger: Literal[LedgerName.FRESHBOOKS], *, country: str | None = None) -> FreshBooksSettings: ...
@overload
def default_settings(ledger: LedgerName, *, country: str | None = None) -> LedgerSettings: ...
def default_settings(ledger: LedgerName, *, country: str | None = None) -> LedgerSettings:
    """The settings of a tenant that changed nothing. `country` (the ledger company's, ISO 3166 alpha-2) fixes
    what depends on it, e.g. QuickBooks' tax mode (`QuickBooksSettings.defaults_for`)."""
    return SETTINGS_MODELS[LedgerName(ledger)].defaults_for(country)


@overload
def parse_settings(ledger: Literal[LedgerName.QUICKBOOKS], document: Mapping[str, Any]) -> QuickBooksSettings: ...
@overload
def parse_settings(ledger: Literal[LedgerName.XERO], document: Mapping[str, Any]) -> XeroSettings: ...
@overload
def parse_settings(ledger: Literal[LedgerName.FRESHBOOKS], document: Mapping[str, Any]) -> FreshBooksSettings: ...
@overload
def parse_settings(ledger: LedgerName, document: Mapping[str, Any]) -> LedgerSettings: ...
def parse_settings(ledger: LedgerName, document: Mapping[str, Any]) -> LedgerSettings:
    """Validate a settings document for one ledger (a missing `ledger` key means this one). Raises
    ValidationError; `settings_error_messages` words it for the owner."""
    return SETTINGS_MODELS[LedgerName(ledger)].model_validate({"ledger": str(ledger), **document})


def settings_error_messages(error: ValidationError) -> list[str]:
    """One "field: message" line per problem, in a business owner's words."""
    return describe_errors(error, SETTINGS_MODELS.values())
