"""QuickBooks Online's settings: its options (the `quickbooks` group) and its settings model."""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from acuity_sync.domain.documents import TaxMode
from acuity_sync.domain.names import LedgerName
from acuity_sync.domain.settings import (
    AppointmentTypeId,
    LedgerSettings,
    SettingsGroup,
    TaxSetting,
    shown,
    without_nulls,
)

DISPLAY_NAME = "QuickBooks"  # as a business owner reads it (the declaration's display_name)
QUICKBOOKS_DOC_NUMBER_MAX = 21  # QuickBooks' DocNumber (research/quickbooks.md)
_ID = re.compile(r"[0-9]{1,20}")


def _quickbooks_id(value: object) -> str:
    # QuickBooks ids are numbers sent as strings; `quickbooks.default_item_id=1` on the command line is a number.
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else None
    if text is None or not _ID.fullmatch(text):
        raise PydanticCustomError(
            "quickbooks_id",
            "must be a QuickBooks id, a number such as '21' (got {got}); names are not accepted, because QuickBooks "
            "refers to items and tax codes by id",
            {"got": shown(value)},
        )
    return text


QuickBooksId = Annotated[str, BeforeValidator(_quickbooks_id)]


class QuickBooksOptions(SettingsGroup):
    # None: the company's own default (DESIGN.md principle 4: US companies non-taxable lines, others inclusive),
    # known once QuickBooks is connected.
    tax_mode: TaxSetting | None = None
    tax_code_id: QuickBooksId | None = None  # the TaxCode for inclusive lines; None: each item's own sales tax code
    default_item_id: QuickBooksId | None = None  # the service item for appointment types not in service_items
    service_items: Annotated[dict[AppointmentTypeId, QuickBooksId], BeforeValidator(without_nulls)] = Field(
        default_factory=dict
    )

    def item_for(self, appointment_type_id: int) -> str | None:
        return self.service_items.get(appointment_type_id, self.default_item_id)


class QuickBooksSettings(LedgerSettings):
    INVOICE_NUMBER_MAX = QUICKBOOKS_DOC_NUMBER_MAX
    INVOICE_NUMBER_FIELD = "DocNumber"
    LEDGER_LABEL = DISPLAY_NAME

    ledger: Literal[LedgerName.QUICKBOOKS] = LedgerName.QUICKBOOKS
    quickbooks: QuickBooksOptions = Field(default_factory=QuickBooksOptions)

    def tax_mode_for(self, company_default: TaxMode) -> TaxMode:
        """The tax mode in force: the owner's choice, else the company's default (from the ledger adapter)."""
        return self.quickbooks.tax_mode or company_default

    @classmethod
    def defaults_for(cls, country: str | None = None) -> Self:
        """With the company's country, the tax mode is fixed now: US companies get non-taxable lines (automated
        sales tax), others inclusive amounts; without it the mode follows the company once connected
        (`tax_mode_for`)."""
        if country is None:
            return cls()
        tax = TaxMode.NON_TAXABLE if country.strip().upper() == "US" else TaxMode.INCLUSIVE
        return cls(quickbooks=QuickBooksOptions(tax_mode=tax))
