"""Xero's settings: its options (the `xero` group) and its settings model."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from acuity_sync.domain.documents import TaxMode
from acuity_sync.domain.names import LedgerName
from acuity_sync.domain.settings import LedgerSettings, SettingsGroup, TaxSetting, shown

DISPLAY_NAME = "Xero"  # as a business owner reads it (the declaration's display_name)
XERO_INVOICE_NUMBER_MAX = 255  # Xero's InvoiceNumber
EXAMPLE_XERO_ACCOUNT_ID = "ebd06280-af70-4bed-97c6-7451a454ad85"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_XERO_TAX_TYPE = re.compile(r"[A-Z0-9_]{1,50}")


def _xero_account_id(value: object) -> str:
    text = value.strip().lower() if isinstance(value, str) else None
    if text is None or not _UUID.fullmatch(text):
        raise PydanticCustomError(
            "xero_account_id",
            "must be a Xero AccountID such as '{example}' (got {got}); account codes such as '200' are not accepted, "
            "because bank accounts may have no code",
            {"example": EXAMPLE_XERO_ACCOUNT_ID, "got": shown(value)},
        )
    return text


def _xero_tax_type(value: object) -> str:
    text = value.strip().upper() if isinstance(value, str) else None
    if text is None or not _XERO_TAX_TYPE.fullmatch(text):
        raise PydanticCustomError(
            "xero_tax_type",
            "must be a Xero tax type such as 'OUTPUT2' or 'TAX001', as listed under Tax Rates (got {got})",
            {"got": shown(value)},
        )
    return text


XeroAccountId = Annotated[str, BeforeValidator(_xero_account_id)]
XeroTaxType = Annotated[str, BeforeValidator(_xero_tax_type)]


class XeroOptions(SettingsGroup):
    tax_mode: TaxSetting = TaxMode.INCLUSIVE
    tax_type: XeroTaxType | None = None  # e.g. "OUTPUT2"; None: the invoice account's default tax rate
    invoice_account_id: XeroAccountId | None = None  # a REVENUE or SALES account
    payment_account_id: XeroAccountId | None = None  # a BANK account, or one with payments enabled
    # Xero records payments only against approved invoices. In draft mode, a paid appointment's invoice is
    # approved (never emailed) when this is on; when off, the payment is skipped under the rule
    # `payment_needs_approved_invoice` and recorded once the owner approves the invoice.
    approve_paid_drafts: bool = True

    # Field validators run in field order, so `info.data` already holds the fields declared above.
    @field_validator("tax_type")
    @classmethod
    def _tax_type_used(cls, tax_type: str | None, info: ValidationInfo) -> str | None:
        if tax_type is not None and info.data.get("tax_mode") is TaxMode.NON_TAXABLE:
            raise PydanticCustomError(
                "tax_type_unused",
                "is used only when tax_mode is inclusive or ledger_default; remove it (xero.tax_type=null) or "
                "change tax_mode (got {got})",
                {"got": shown(tax_type)},
            )
        return tax_type

    @field_validator("payment_account_id")
    @classmethod
    def _separate_accounts(cls, account_id: str | None, info: ValidationInfo) -> str | None:
        if account_id is not None and account_id == info.data.get("invoice_account_id"):
            raise PydanticCustomError(
                "same_account",
                "is the same account as invoice_account_id; payments go to a bank account, invoices to a revenue "
                "or sales account",
            )
        return account_id


class XeroSettings(LedgerSettings):
    INVOICE_NUMBER_MAX = XERO_INVOICE_NUMBER_MAX
    INVOICE_NUMBER_FIELD = "InvoiceNumber"
    LEDGER_LABEL = DISPLAY_NAME

    ledger: Literal[LedgerName.XERO] = LedgerName.XERO
    xero: XeroOptions = Field(default_factory=XeroOptions)

    def tax_mode_for(self, company_default: TaxMode) -> TaxMode:  # noqa: ARG002 - same signature for every ledger
        return self.xero.tax_mode

    def approve_paid_drafts(self) -> bool:
        return self.xero.approve_paid_drafts
