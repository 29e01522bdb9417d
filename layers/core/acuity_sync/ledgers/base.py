"""The ledger interface and a ledger's declaration.

The engine speaks only the interface (`Ledger`): each adapter translates the domain's documents
(domain/documents.py) to its app's JSON and maps its faults to the domain's errors (domain/errors.py). Everything
else the runtime needs to know about a ledger (its name in words, settings, OAuth token endpoint, budget, API,
sync function, how its adapter is built) is its `LedgerDeclaration`, made once in its package
(ledgers/<ledger>/__init__.py) and looked up by name in the registry (ledgers/registry.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from acuity_sync.domain.budget import Budget
from acuity_sync.domain.documents import (
    Choice,
    CompanyInfo,
    CreditNoteDraft,
    CustomerDraft,
    InvoiceDraft,
    LedgerCreditNote,
    LedgerInvoice,
    LedgerPayment,
    PaymentDraft,
)
from acuity_sync.domain.names import LedgerName
from acuity_sync.domain.settings import LedgerSettings
from acuity_sync.secret import Secret

if TYPE_CHECKING:
    import httpx

# What an adapter is given to make its calls with (ledgers/transport.py uses both).
Pace = Callable[[], None]  # called before each request: waits for the tenant's budget, or raises RateLimited
AccessToken = Callable[[bool], Secret]  # the connection's access token; True asks for a fresh one (a 401)


# --------------------------------------------------------------------------------------------- interface
class Ledger(Protocol):
    """What the engine needs from an accounting app. Every write is findable again by its reference, so that
    the engine can resolve an intent left by a crash before writing again."""

    name: LedgerName

    def company(self) -> CompanyInfo: ...

    def list_accounts(self) -> list[Choice]: ...

    def list_items(self) -> list[Choice]: ...

    def find_customer(self, draft: CustomerDraft) -> str | None:
        """By e-mail (case-insensitive); without one, by name and the same phone number, or (a draft with a
        `name_suffix`, kept apart) by its own name; never by a name alone."""
        ...

    def create_customer(self, draft: CustomerDraft) -> str:
        """A name already taken by another record is resolved (e.g. a suffix), not failed."""
        ...

    def find_invoice(self, reference: str, draft: InvoiceDraft | None = None) -> LedgerInvoice | None: ...

    def create_invoice(self, draft: InvoiceDraft) -> LedgerInvoice: ...

    # `known`: the invoice as the engine's sync record says it was last written (status, e-mailed, paid, the
    # ledger's version). Given, the adapter writes without reading first, and reads only when the ledger refuses
    # the write (the invoice changed meanwhile); None, it reads what it needs first.

    def update_invoice(
        self, invoice_id: str, draft: InvoiceDraft, *, known: LedgerInvoice | None = None
    ) -> LedgerInvoice: ...

    def approve_invoice(self, invoice_id: str) -> LedgerInvoice: ...

    def send_invoice(self, invoice_id: str, email: str, *, known: LedgerInvoice | None = None) -> LedgerInvoice:
        """Only when the ledger (or, given, `known`) says it was not sent yet: a second call sends nothing."""
        ...

    def void_invoice(self, invoice_id: str, *, known: LedgerInvoice | None = None) -> LedgerInvoice: ...

    def find_payment(self, invoice_id: str, reference: str) -> LedgerPayment | None: ...

    def record_payment(self, draft: PaymentDraft) -> LedgerPayment: ...

    def find_credit_note(self, reference: str) -> LedgerCreditNote | None: ...

    def create_credit_note(self, draft: CreditNoteDraft) -> LedgerCreditNote: ...


# --------------------------------------------------------------------------------------------- declaration
SettingsT = TypeVar("SettingsT", bound=LedgerSettings)  # a ledger's own settings model


@dataclass(frozen=True, slots=True)
class AdapterInputs:
    """What any ledger's adapter is built from (its settings come beside them)."""

    http: httpx.Client
    company_id: str  # whose books: QuickBooks' realm id, Xero's tenant id, FreshBooks' account id
    access_token: AccessToken
    api_url: str  # the production API, or a sandbox's, or the local stack's fake
    pace: Pace


# The tenant's adapter, from the inputs and the tenant's settings for that ledger.
AdapterFactory = Callable[[AdapterInputs, SettingsT], Ledger]


class ClientAuthentication(StrEnum):
    HTTP_BASIC = "http_basic"  # Authorization: Basic base64(client_id:client_secret), form body (Intuit, Xero)
    JSON_BODY = "json_body"  # client_id and client_secret in a JSON body (FreshBooks)


class Revocation(StrEnum):
    """How a disconnect tells the ledger that our app no longer holds the owner's grant."""

    NONE = "none"  # the ledger documents no way: the tokens are only forgotten
    # POST {"token": refresh token} to `revoke_url`, with the client as `client_authentication` says (HTTP Basic:
    # Intuit; in the JSON body: FreshBooks)
    TOKEN = "token"  # noqa: S105 - a kind of revocation, not a secret
    CONNECTION = "connection"  # the declaration's `release_company` removes the company's connection (Xero)


@dataclass(frozen=True, slots=True)
class OAuthRules:
    """A ledger's OAuth2 token endpoint and how it treats our app and its tokens (auth/oauth.py follows them)."""

    token_url: str  # the production endpoint; the app's secret may name another (the local stack's fakes)
    client_authentication: ClientAuthentication = ClientAuthentication.HTTP_BASIC
    access_lifetime: timedelta = timedelta(hours=1)  # when an answer has no expires_in
    refresh_lifetime: timedelta | None = None  # when an answer has no refresh expiry; None: it never expires
    wants_redirect_uri: bool = False  # our redirect URI goes with every refresh too (FreshBooks)
    # The consent (the connect function): where the owner is sent to grant access, for which scopes (none: the app's
    # scopes as registered with the ledger), with a PKCE challenge (RFC 7636, S256) where the ledger takes one.
    authorize_url: str = ""  # the production endpoint; the app's secret may name another (the local stack's fakes)
    scopes: tuple[str, ...] = ()
    pkce: bool = False
    revocation: Revocation = Revocation.NONE
    revoke_url: str = ""  # for Revocation.TOKEN; the app's secret may name another


@dataclass(frozen=True, slots=True)
class SettingsReview:
    """What a ledger says about a settings change before it is saved (`acuity-sync settings set`, and the
    settings page to come)."""

    problems: tuple[str, ...] = ()  # the change is refused; each in words a business owner can act on
    notes: tuple[str, ...] = ()  # said to the owner, and the change is saved (e.g. it cannot be checked now)


@dataclass(frozen=True, slots=True)
class GrantedAccess:
    """What a fresh consent gives the connect flow to find out whose books it opens (before any connection is
    stored, so the calls go straight to the ledger, unpaced: one or two per consent)."""

    http: httpx.Client
    api_url: str  # as in AdapterInputs
    access_token: Secret
    callback: Mapping[str, str]  # the consent redirect's query parameters (QuickBooks names the company there)


@dataclass(frozen=True, slots=True)
class Company:
    """A company (QuickBooks realm, Xero organisation, FreshBooks business) a consent opened."""

    company_id: str
    name: str


# The companies a consent opened: one (QuickBooks' realmId), or several for the owner to choose from (Xero's
# organisations, FreshBooks' businesses). Raises LedgerError subclasses in the ledger's words.
FindCompanies = Callable[[GrantedAccess], list[Company]]
# Where disconnecting means more than revoking a token (Xero: DELETE the organisation's connection).
ReleaseCompany = Callable[[GrantedAccess, str], None]
# The lists the settings page offers for settings keys ("xero.invoice_account_id" -> the accounts that qualify),
# read through the tenant's adapter.
SettingsLists = Callable[["Ledger"], dict[str, list[Choice]]]

# The tenant's adapter, built only when a check needs to read the ledger; None when it is not connected.
OpenLedger = Callable[[], Ledger | None]
# A ledger's own check of a change: (the settings before, after, the tenant's ledger).
SettingsCheck = Callable[[SettingsT, SettingsT, OpenLedger], SettingsReview]


@dataclass(frozen=True, slots=True)
class LedgerDeclaration(Generic[SettingsT]):
    """Everything about one ledger that the rest of the runtime needs, declared once next to its adapter."""

    name: LedgerName
    display_name: str  # "QuickBooks": as a business owner reads it
    settings_model: type[SettingsT]
    oauth: OAuthRules
    budget: Budget  # per tenant: the token bucket, daily cap and concurrency its API allows one company
    production_api_url: str
    sync_function: str  # its sync function's logical id in template.yaml
    # Called once per container (a sync function's cold start): what the factory keeps between messages, such
    # as Xero's chart of accounts, lives as long as the container.
    adapter_factory: Callable[[], AdapterFactory[SettingsT]]
    check_settings: SettingsCheck[SettingsT] | None = None  # checks against the ledger itself, beyond the model's
    # The connect flow (acuity_sync.connect): whose books a consent opened; what a disconnect must release beside
    # the tokens; the lists the settings page shows.
    find_companies: FindCompanies | None = None
    release_company: ReleaseCompany | None = None
    settings_lists: SettingsLists | None = None
    # The ledger calls a new client's booking takes, (unpaid, paid): a customer looked up and created, an invoice,
    # a payment (bench/README.md measures them). Backfill's estimate against the ledger's daily budget.
    calls_per_new_booking: tuple[int, int] = (3, 4)
