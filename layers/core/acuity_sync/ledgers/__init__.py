"""The accounting apps we write to. One module per app implements the ledger interface (next issues)."""

from __future__ import annotations

from enum import StrEnum


class LedgerName(StrEnum):
    QUICKBOOKS = "quickbooks"
    XERO = "xero"
    FRESHBOOKS = "freshbooks"


ALL_LEDGERS: tuple[LedgerName, ...] = tuple(LedgerName)
