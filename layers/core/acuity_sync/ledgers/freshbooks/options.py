"""FreshBooks' settings: its options (the `freshbooks` group) and its settings model."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from acuity_sync.domain.documents import TaxMode
from acuity_sync.domain.names import LedgerName
from acuity_sync.domain.settings import LedgerSettings, SettingsGroup, TaxSetting

DISPLAY_NAME = "FreshBooks"  # as a business owner reads it (the declaration's display_name)
FRESHBOOKS_INVOICE_NUMBER_MAX = 50  # not documented; kept well under anything FreshBooks shows in its UI


class FreshBooksOptions(SettingsGroup):
    # FreshBooks adds taxes on top of line amounts. Non-taxable lines keep the total at Acuity's price; inclusive
    # backs the named tax out of each price so that price = line + tax.
    tax_mode: TaxSetting = TaxMode.NON_TAXABLE
    tax_name: str | None = Field(default=None, min_length=1, max_length=40)  # as named in FreshBooks, e.g. "HST"
    tax_percent: Decimal | None = Field(default=None, gt=0, lt=100, decimal_places=3)

    @field_validator("tax_mode")
    @classmethod
    def _not_ledger_default(cls, tax_mode: TaxMode) -> TaxMode:
        if tax_mode is TaxMode.LEDGER_DEFAULT:
            raise PydanticCustomError(
                "freshbooks_tax_mode",
                "ledger_default is not available for FreshBooks: it has no default tax for invoice lines, and a tax "
                "added on top would bill more than Acuity charged; use non_taxable or inclusive",
            )
        return tax_mode

    @model_validator(mode="after")
    def _tax_to_back_out(self) -> FreshBooksOptions:
        if self.tax_mode is TaxMode.INCLUSIVE and (self.tax_name is None or self.tax_percent is None):
            raise PydanticCustomError(
                "freshbooks_tax_missing",
                "tax_mode inclusive needs the tax to back out of Acuity's prices: set tax_name (as named in "
                "FreshBooks, e.g. 'HST') and tax_percent (e.g. 13)",
            )
        return self


class FreshBooksSettings(LedgerSettings):
    INVOICE_NUMBER_MAX = FRESHBOOKS_INVOICE_NUMBER_MAX
    INVOICE_NUMBER_FIELD = "invoice_number"
    LEDGER_LABEL = DISPLAY_NAME

    ledger: Literal[LedgerName.FRESHBOOKS] = LedgerName.FRESHBOOKS
    freshbooks: FreshBooksOptions = Field(default_factory=FreshBooksOptions)

    def tax_mode_for(self, company_default: TaxMode) -> TaxMode:  # noqa: ARG002 - same signature for every ledger
        return self.freshbooks.tax_mode
