"""Xero's chart of accounts: which accounts invoice lines and payments may go to, the defaults when the owner
chose none, what is wrong with a choice (in words the owner can act on), and the charts kept per container.
The settings check (`review_account_choices`) is Xero's declared hook: `acuity-sync settings set` runs it before
a change is saved."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from acuity_sync.domain.documents import Choice
from acuity_sync.domain.errors import LedgerError
from acuity_sync.ledgers.base import OpenLedger, SettingsReview
from acuity_sync.ledgers.xero.options import XeroSettings

INVOICE_ACCOUNT_TYPES = ("REVENUE", "SALES")
DEFAULT_INVOICE_CODE = "200"  # "Sales" in every new Xero organisation


def _named(account: Choice) -> str:
    return f"{account.name} ({account.code or 'no code'})"


def _active(account: Choice) -> bool:
    return account.extra.get("status", "ACTIVE") == "ACTIVE"


def invoice_accounts(accounts: Sequence[Choice]) -> list[Choice]:
    """The accounts invoice lines may go to: active REVENUE or SALES accounts."""
    return [a for a in accounts if _active(a) and a.kind in INVOICE_ACCOUNT_TYPES]


def payment_accounts(accounts: Sequence[Choice]) -> list[Choice]:
    """The accounts payments may go into: active BANK accounts, or ones with payments enabled."""
    return [a for a in accounts if _active(a) and (a.kind == "BANK" or a.extra.get("payments_enabled") == "true")]


def _problem(role: str, wanted: str, account_id: str, accounts: Sequence[Choice], fits: list[Choice]) -> str | None:
    chosen = next((a for a in accounts if a.id == account_id), None)
    if chosen is not None and chosen in fits:
        return None
    what = f"The {role} account {_named(chosen)}" if chosen else f"The {role} account you chose (not in Xero now)"
    if not fits:
        return f"{what} is not {wanted} in Xero, and Xero has none: add one to the chart of accounts, then choose it."
    return f"{what} is not {wanted} in Xero. Choose one of: {', '.join(_named(a) for a in fits)}."


def account_problems(
    invoice_account_id: str | None, payment_account_id: str | None, accounts: Sequence[Choice]
) -> list[str]:
    """What is wrong with the chosen accounts, in words a business owner can act on (none: both fit)."""
    problems = []
    if invoice_account_id is not None:
        wanted = "an active revenue or sales account"
        problems.append(_problem("invoice", wanted, invoice_account_id, accounts, invoice_accounts(accounts)))
    if payment_account_id is not None:
        wanted = "an active bank account or one with payments enabled"
        problems.append(_problem("payment", wanted, payment_account_id, accounts, payment_accounts(accounts)))
    return [problem for problem in problems if problem]


def default_invoice_account(accounts: Sequence[Choice]) -> Choice | None:
    fits = invoice_accounts(accounts)
    return next((a for a in fits if a.code == DEFAULT_INVOICE_CODE), fits[0] if fits else None)


def default_payment_account(accounts: Sequence[Choice]) -> Choice | None:
    fits = payment_accounts(accounts)
    return next((a for a in fits if a.kind == "BANK"), fits[0] if fits else None)


class AccountCharts:
    """Organisations' charts of accounts, kept per container for ten minutes: with no account chosen in the
    settings, every message that writes an invoice or a payment needs the chart to pick the default, and one
    GET /Accounts per message would spend Xero's 60 calls a minute. A chart out of date is harmless: Xero refuses
    an account that no longer qualifies, and the adapter then reads the chart again."""

    def __init__(self, ttl_seconds: float = 600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._charts: dict[str, tuple[float, list[Choice]]] = {}

    def get(self, tenant_id: str) -> list[Choice] | None:
        kept = self._charts.get(tenant_id)
        if kept is None or self._clock() - kept[0] > self._ttl:
            return None
        return list(kept[1])

    def put(self, tenant_id: str, chart: list[Choice]) -> None:
        self._charts[tenant_id] = (self._clock(), list(chart))

    def forget(self, tenant_id: str) -> None:
        self._charts.pop(tenant_id, None)


def review_account_choices(before: XeroSettings, after: XeroSettings, open_ledger: OpenLedger) -> SettingsReview:
    """A newly chosen invoice or payment account checked against the organisation's chart (GET /Accounts). The
    check never refreshes a token (refresh tokens are single use: that is the sync functions' token keeper's job),
    so without a usable connection it is left to the first sync, which parks the event with the same message."""
    invoice_id, payment_id = after.xero.invoice_account_id, after.xero.payment_account_id
    new_invoice = invoice_id if invoice_id != before.xero.invoice_account_id else None
    new_payment = payment_id if payment_id != before.xero.payment_account_id else None
    if new_invoice is None and new_payment is None:
        return SettingsReview()
    xero = open_ledger()
    if xero is None:
        return SettingsReview(notes=("not connected to Xero yet: the accounts are checked at the first sync",))
    try:
        chart = xero.list_accounts()
    except LedgerError as error:
        return SettingsReview(
            notes=(f"could not read Xero's accounts now ({error.message}): the first sync checks them",)
        )
    return SettingsReview(problems=tuple(account_problems(new_invoice, new_payment, chart)))
