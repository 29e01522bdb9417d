"""The names everything else is keyed by: the accounting apps (ledgers) and the kinds of Acuity event."""

from __future__ import annotations

from enum import StrEnum


class LedgerName(StrEnum):
    """An accounting app we write to. Everything else about one is its declaration (ledgers/registry.py)."""

    QUICKBOOKS = "quickbooks"
    XERO = "xero"
    FRESHBOOKS = "freshbooks"


ALL_LEDGERS: tuple[LedgerName, ...] = tuple(LedgerName)


class EventKind(StrEnum):
    """What an Acuity webhook is about: an appointment, or an order (package, gift certificate, subscription)."""

    APPOINTMENT = "appointment"
    ORDER = "order"
