"""Connecting a ledger through its consent, and disconnecting it.

1. `start`: a random `state` (a one-time value: ten minutes, bound to the session that asked and to a cookie set in
   that browser, taken once) and, where the ledger takes PKCE, the S256 challenge of a verifier derived from the
   state with the signing key; the owner is sent to the ledger's consent page.
2. `finish` (the consent's redirect): the state is taken (a wrong, reused or expired one is refused, as is one
   from another browser), the code exchanged (`auth.oauth.exchange_code`), and the companies the consent opened
   found (the ledger's `find_companies`). One company: it is connected at once. Several (Xero organisations,
   FreshBooks businesses): the tokens wait, sealed, for the owner's choice (`choose`).
3. Connecting stores the tokens (`ConnectionStore.connect`, over any earlier connection: a reconnect), adds the
   ledger to the tenant (`TenantStore.set_ledgers`: its webhooks are queued for it from then on) and puts the
   events parked until a reconnect back on the queue (Requeuer, Origin.RESUME).

`disconnect` revokes the grant where the ledger allows (its declaration's `oauth.revocation`: Intuit's and
FreshBooks' revoke endpoints, Xero's connection), forgets the tokens and removes the ledger from the tenant; the
sync records, settings and parked events stay, for a later reconnect.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

import httpx

from acuity_sync.auth.oauth import OAuthError, OAuthProvider, authorization_url, exchange_code, revoke
from acuity_sync.connect.access import Access, Session
from acuity_sync.connect.settings import Resume, resume_parked
from acuity_sync.domain.errors import LedgerError
from acuity_sync.domain.grant import TokenGrant
from acuity_sync.domain.names import LedgerName
from acuity_sync.ledgers.base import Company, GrantedAccess, Revocation
from acuity_sync.ledgers.registry import ledger_declaration
from acuity_sync.observability import logger
from acuity_sync.secret import Secret
from acuity_sync.store.connections import ConnectionStore
from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.one_time import OneTimeKind, OneTimeValues, digest
from acuity_sync.store.parking import ResumeOn
from acuity_sync.store.pending_grants import PendingGrants
from acuity_sync.store.tenants import TenantStore

CONSENT_LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class AppClient:
    """Our app at one ledger: its token endpoint and credentials, and the consent's endpoints and redirect."""

    provider: OAuthProvider
    redirect_uri: str
    authorize_url: str  # the declaration's, or the secret's (the local stack's fakes)
    revoke_url: str
    api_url: str  # the ledger's API (company lookups at consent time)


@dataclass(frozen=True, slots=True)
class Consent:
    url: str  # where the owner's browser goes
    binding: str  # the cookie that proves the callback comes back to this browser


@dataclass(frozen=True, slots=True)
class Connected:
    ledger: LedgerName
    company: Company
    resumed: int  # parked events queued again


@dataclass(frozen=True, slots=True)
class ChooseCompany:
    ledger: LedgerName
    companies: tuple[Company, ...]


@dataclass(frozen=True, slots=True)
class Refused:
    message: str  # for the owner


@dataclass(frozen=True, slots=True)
class Finished:
    """The callback's outcome, and whose it is (the state names the tenant and the session)."""

    tenant_id: str | None
    session_id: str | None
    outcome: Connected | ChooseCompany | Refused


@dataclass(frozen=True, slots=True)
class Disconnected:
    ledger: LedgerName
    revoked: bool
    notes: tuple[str, ...] = field(default=())


class LedgerConnector:
    def __init__(
        self,
        *,
        access: Access,
        one_time: OneTimeValues,
        tenants: TenantStore,
        connections: ConnectionStore,
        pending: PendingGrants,
        resume: Resume,
        http: httpx.Client,
        clients: Callable[[LedgerName], AppClient],
        live_access_token: Callable[[str, LedgerName], Secret],
    ) -> None:
        self._access = access
        self._one_time = one_time
        self._tenants = tenants
        self._connections = connections
        self._pending = pending
        self._resume = resume
        self._http = http
        self._clients = clients
        self._live_access_token = live_access_token  # refreshed under the token keeper's lease when due

    # ------------------------------------------------------------------ consent

    def start(self, session: Session, ledger: LedgerName) -> Consent:
        rules = ledger_declaration(ledger).oauth
        client = self._clients(ledger)
        state = secrets.token_urlsafe(32)
        binding = secrets.token_urlsafe(32)
        fields = {
            "tenant_id": session.tenant_id,
            "session_id": session.session_id,
            "ledger": str(ledger),
            "binding": digest(binding),
        }
        self._one_time.put(OneTimeKind.OAUTH_STATE, state, fields, CONSENT_LIFETIME)
        verifier = self._access.pkce_verifier(state) if rules.pkce else None
        url = authorization_url(
            rules,
            client.provider.client_id,
            client.redirect_uri,
            state,
            authorize_url=client.authorize_url,
            code_verifier=verifier,
        )
        return Consent(url, binding)

    def finish(self, ledger: LedgerName, query: Mapping[str, str], binding: str | None) -> Finished:
        name = ledger_declaration(ledger).display_name
        state = query.get("state", "")
        stored = self._one_time.take(OneTimeKind.OAUTH_STATE, state) if state else None
        if stored is None:
            return Finished(None, None, Refused(_STATE_REFUSED.format(name=name)))
        tenant_id, session_id = stored["tenant_id"], stored["session_id"]
        if stored["ledger"] != str(ledger) or not hmac.compare_digest(stored["binding"], digest(binding or "")):
            return Finished(None, None, Refused(_STATE_REFUSED.format(name=name)))
        if query.get("error"):
            # e.g. access_denied: the owner chose not to allow access.
            return Finished(tenant_id, session_id, Refused(f"{name} was not connected: access was not allowed there."))
        code = query.get("code", "")
        if not code:
            return Finished(tenant_id, session_id, Refused(f"{name} sent no authorization code; try again."))
        client = self._clients(ledger)
        verifier = self._access.pkce_verifier(state) if ledger_declaration(ledger).oauth.pkce else None
        try:
            grant = exchange_code(
                client.provider, Secret(code), client.redirect_uri, self._http, code_verifier=verifier
            )
            companies = self._companies(ledger, client, grant, query)
        except OAuthError as error:
            logger.warning("consent code refused", extra={"ledger": str(ledger), "error": error.error})
            return Finished(
                tenant_id, session_id, Refused(f"{name} refused the consent ({error.error or error}); try again.")
            )
        except LedgerError as error:
            return Finished(tenant_id, session_id, Refused(f"{name}: {error.message}"))
        if not companies:
            return Finished(tenant_id, session_id, Refused(f"The consent gave access to no {name} company."))
        if len(companies) == 1:
            return Finished(tenant_id, session_id, self._connect(tenant_id, ledger, companies[0], grant))
        self._pending.put(tenant_id, ledger, session_id, grant, companies)
        return Finished(tenant_id, session_id, ChooseCompany(ledger, tuple(companies)))

    def companies_to_choose(self, session: Session, ledger: LedgerName) -> tuple[Company, ...] | None:
        return self._pending.companies(session.tenant_id, ledger, session.session_id)

    def choose(self, session: Session, ledger: LedgerName, company_id: str) -> Connected | Refused:
        name = ledger_declaration(ledger).display_name
        pending = self._pending.take(session.tenant_id, ledger, session.session_id)
        if pending is None:
            return Refused(f"That choice has expired; connect {name} again.")
        chosen = next((company for company in pending.companies if company.company_id == company_id), None)
        if chosen is None:
            return Refused(f"That {name} company was not among the ones you allowed; connect {name} again.")
        return self._connect(session.tenant_id, ledger, chosen, pending.grant)

    # ------------------------------------------------------------------ disconnect

    def disconnect(self, tenant_id: str, ledger: LedgerName) -> Disconnected:
        declaration = ledger_declaration(ledger)
        notes: list[str] = []
        revoked = False
        connection = self._connections.get(tenant_id, ledger)
        if connection is not None:
            client = self._clients(ledger)
            try:
                revoked = self._revoke(tenant_id, ledger, client, connection.company_id, connection.refresh_token)
            except (OAuthError, LedgerError) as error:
                notes.append(
                    f"{declaration.display_name} could not be told ({error}); remove our app in "
                    f"{declaration.display_name}'s own settings to be sure."
                )
            self._connections.remove(tenant_id, ledger)
        profile = self._tenants.get(tenant_id)
        if profile is not None and ledger in profile.ledgers:
            self._tenants.set_ledgers(tenant_id, tuple(name for name in profile.ledgers if name != ledger))
        return Disconnected(ledger, revoked, tuple(notes))

    # ------------------------------------------------------------------ internals

    def _companies(
        self, ledger: LedgerName, client: AppClient, grant: TokenGrant, query: Mapping[str, str]
    ) -> list[Company]:
        find = ledger_declaration(ledger).find_companies
        if find is None:
            raise LedgerError("this ledger cannot say which company was connected")
        return find(GrantedAccess(self._http, client.api_url, grant.access_token, dict(query)))

    def _connect(self, tenant_id: str, ledger: LedgerName, company: Company, grant: TokenGrant) -> Connected:
        self._connections.connect(tenant_id, ledger, company.company_id, grant, company_name=company.name)
        profile = self._tenants.get(tenant_id)
        if profile is None:
            raise StoreUnavailable(f"tenant {tenant_id} vanished while connecting {ledger}")
        if ledger not in profile.ledgers:
            self._tenants.set_ledgers(tenant_id, (*profile.ledgers, ledger))
        requeued, _ = resume_parked(self._resume, tenant_id, ledger, ResumeOn.RECONNECT)
        return Connected(ledger, company, requeued)

    def _revoke(
        self, tenant_id: str, ledger: LedgerName, client: AppClient, company_id: str, refresh_token: Secret
    ) -> bool:
        declaration = ledger_declaration(ledger)
        rules = declaration.oauth
        if rules.revocation is Revocation.TOKEN and client.revoke_url:
            revoke(client.provider, client.revoke_url, refresh_token, self._http)
            return True
        if rules.revocation is Revocation.CONNECTION and declaration.release_company is not None:
            token = self._live_access_token(tenant_id, ledger)
            declaration.release_company(GrantedAccess(self._http, client.api_url, token, {}), company_id)
            return True
        return False


_STATE_REFUSED = (
    "This {name} consent cannot be finished here: it is unknown, was used already, has expired, or was started in "
    "another browser. Start again from the settings page."
)
