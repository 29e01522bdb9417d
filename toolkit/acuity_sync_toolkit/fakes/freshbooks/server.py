"""A fake FreshBooks: the accounting API (clients, invoices, payments, credit notes) per business (account_id),
/auth/api/v1/users/me, and the OAuth token endpoint, faithful to ../shared/reference/freshbooks/fixtures/ and
../shared/research/xero_freshbooks.md Part B.

    with FakeFreshBooks(clock=FakeClock(frozen=True)) as fb:
        fb.add_business("ABC123")
        tokens = fb.issue_tokens("ABC123")
        httpx.post(f"{fb.url}/accounting/account/ABC123/users/clients", json={"client": {"email": "j@x.com"}},
                   headers={"Authorization": f"Bearer {tokens.access_token}"})

- Tokens (research §B2): access 12 h; the refresh token is single use with no grace: a second use is 400
  `invalid_grant`. An unknown or expired access token is 401 `{"error": "unauthenticated", ...}`; a token of another
  business is 401 too (errno 1003 AccessDenied body).
- Invoices: drafts on create; PUT phases vis_state > actions (action_email, action_mark_as_sent) > data, a phase
  that applies drops the rest. Searchable by `search[po_number]` (our reference), `search[invoice_number]`,
  `search[customerid]`, `search[v3_status]`, `search[vis_state]`, `search[notes_like]`.
- `plan_fault(account_id, status, count=1, path_contains="", retry_after=None, hang_seconds=0)`: the next matching
  accounting requests answer `status` (errno = status; Retry-After when given) without effect; or, with no status,
  are carried out and answered `hang_seconds` late (a client that timed out after the write happened).
- `authorize(account_id, redirect_uri)` returns a code for `grant_type=authorization_code` (single use, 5 min), as
  the consent page (`/oauth/authorize`, fakes/consent.py) does; `POST /auth/oauth/revoke` revokes a grant.
- `requests(account_id)` logs the accounting requests only (not /auth/...).
"""

from __future__ import annotations

import copy
import re
import secrets
import threading
from typing import Any, Self

from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.consent import CompanyChoice, ConsentAuthority, form_of, oauth_refusal
from acuity_sync_toolkit.fakes.faults import FaultSupport, PlannedFault
from acuity_sync_toolkit.fakes.freshbooks import accepted, api, errors
from acuity_sync_toolkit.fakes.freshbooks.entities import Business, Json
from acuity_sync_toolkit.fakes.httpserver import Request, Response, json_response
from acuity_sync_toolkit.fakes.oauth_authority import FRESHBOOKS_TOKENS, InvalidGrant, TokenPair
from acuity_sync_toolkit.fakes.parameters import NotSupported, Unreadable
from acuity_sync_toolkit.fakes.service import LedgerFake

TOKEN_PATH = "/auth/oauth/token"  # noqa: S105 - a URL path, not a secret
ME_PATH = "/auth/api/v1/users/me"
REVOKE_PATH = "/auth/oauth/revoke"
AUTHORIZE_PATH = "/oauth/authorize"  # auth.freshbooks.com/oauth/authorize: the consent page (fakes/consent.py)
SCOPE = "user:profile:read user:clients:read user:clients:write user:invoices:read user:invoices:write"
CODE_TTL = 300.0  # research §B2: the authorization code expires in 5 minutes
_ACCOUNT_PATH = re.compile(r"^/accounting/account/([^/]+)/(.*)$")


class FakeFreshBooks(LedgerFake):
    token_rules = FRESHBOOKS_TOKENS  # access 12 h; refresh never expires but is single use, with no grace
    fault_support = FaultSupport(hangs=True)

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clock: FakeClock | None = None,
        client_id: str = "local-client",
        client_secret: str = "local-secret",  # noqa: S107 - a fake's default credentials
    ) -> None:
        super().__init__(host, port, clock=clock)
        self.client_id, self.client_secret = client_id, client_secret
        self._lock = threading.RLock()
        self._businesses: dict[str, Business] = {}
        self._log: dict[str, list[Json]] = {}
        self._stopping = threading.Event()
        self.consent = ConsentAuthority(
            app_name="FreshBooks",
            authorize_path=AUTHORIZE_PATH,
            choice=CompanyChoice.ALL,  # the consent is the user's: users/me lists their businesses to choose from
            companies=self._business_names,
            issue=self.grant_companies,
            monotonic=self.clock.monotonic,
            client_id=client_id,
        )

    def start(self) -> Self:
        self._stopping.clear()
        return super().start()

    def stop(self) -> None:
        self._stopping.set()  # ends any hang a test planned
        super().stop()

    # ------------------------------------------------------------------ set-up and inspection (for tests)

    def add_business(self, account_id: str, *, currency: str = "USD", name: str | None = None) -> None:
        with self._lock:
            if account_id in self._businesses:
                raise ValueError(f"business {account_id} already exists")
            self._businesses[account_id] = Business(account_id, name or f"Business {account_id}", currency)
            self._log[account_id] = []

    def has_company(self, company_id: str) -> bool:
        with self._lock:
            return company_id in self._businesses

    def authorize(self, account_id: str, redirect_uri: str) -> str:
        """The owner of `account_id` consents: an authorization code for `redirect_uri`, single use, 5 minutes."""
        with self._lock:
            if account_id not in self._businesses:
                raise KeyError(account_id)
        return self.consent.code_for((account_id,), self.client_id, redirect_uri)

    def _business_names(self) -> list[tuple[str, str]]:
        with self._lock:
            return [(account_id, business.name) for account_id, business in self._businesses.items()]

    def state(self, account_id: str) -> dict[str, Any]:
        """A deep copy of the business: clients, invoices, payments, credit_notes (lists by id), emails."""
        with self._lock:
            b = self._businesses[account_id]
            return copy.deepcopy({
                "clients": [b.clients[k] for k in sorted(b.clients)],
                "invoices": [b.invoices[k] for k in sorted(b.invoices)],
                "payments": [b.payments[k] for k in sorted(b.payments)],
                "credit_notes": [b.credit_notes[k] for k in sorted(b.credit_notes)],
                "emails": b.emails,
            })  # fmt: skip

    def requests(self, account_id: str) -> list[Json]:
        """The accounting requests made to `account_id`: method, path, query, body (parsed JSON or None), status."""
        with self._lock:
            return copy.deepcopy(self._log.get(account_id, []))

    # ------------------------------------------------------------------ dispatch

    def _handle(self, request: Request) -> Response:
        if request.path == TOKEN_PATH:
            return self._token(request) if request.method == "POST" else errors.oauth_error("invalid_request", "POST")
        if self.consent.handles(request):
            return self.consent(request)
        if request.path == REVOKE_PATH and request.method == "POST":
            return self._revoke(request)
        if request.path == ME_PATH and request.method == "GET":
            return self._me(request)
        match = _ACCOUNT_PATH.match(request.path)
        if match is None:
            return errors.FreshBooksError(404, errors.UNKNOWN_RESOURCE, "path", "Not found.", "request").response()
        account_id, relative = match.group(1), match.group(2)
        subject = self._subject(request)
        with self._lock:
            if subject is None:  # logged too: a test counts the 401s an expired token earned
                refused = errors.unauthenticated()
                if account_id in self._log:
                    self._log[account_id].append(_entry(request, refused.status))
                return refused
            business = self._businesses.get(account_id)
            if business is None or account_id not in self.companies_of(subject):
                body = errors.FreshBooksError(401, 1003, "account_id", "Access denied.", "account", account_id)
                return body.response()
            planned = self.faults.take(account_id, request.path)
            fault = _fault_response(planned) if planned is not None and planned.status is not None else None
            response = fault or api.handle(business, request, relative, self.clock.now().replace(tzinfo=None))
            self._log[account_id].append(_entry(request, response.status))
        if planned is not None and planned.status is None:
            self._stopping.wait(planned.hang_seconds)  # carried out; its answer held (outside the lock)
        return response

    def _subject(self, request: Request) -> str | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        return self.authority.check_access(token.strip())

    def _me(self, request: Request) -> Response:
        subject = self._subject(request)
        if subject is None:
            return errors.unauthenticated()
        try:
            accepted.ME.read(request.query, request.headers, where=f"GET {ME_PATH}")
        except (NotSupported, Unreadable) as refused:
            return errors.FreshBooksError(400, errors.INVALID_VALUE, refused.name, str(refused), "request").response()
        with self._lock:
            businesses = [self._businesses[a] for a in sorted(self.companies_of(subject)) if a in self._businesses]
        if not businesses:
            return errors.unauthenticated()
        body = _me_body(businesses[0])
        body["business_memberships"] = [_me_body(business)["business_memberships"][0] for business in businesses]
        return json_response({"response": body})

    def _revoke(self, request: Request) -> Response:
        """`{client_id, client_secret, token}` (research B2): the token's whole grant is revoked; 200."""
        try:
            form = accepted.REVOKE.read(_token_form(request), request.headers, where=f"POST {REVOKE_PATH}")
        except (NotSupported, Unreadable) as refused:
            return errors.oauth_error(*oauth_refusal(refused))
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return errors.oauth_error("invalid_client", "Client authentication failed.", 401)
        if not form.get("token"):
            return errors.oauth_error("invalid_request", "The request is missing a required parameter.")
        self.authority.revoke(form["token"])
        return json_response({})

    def _token(self, request: Request) -> Response:
        try:
            form = accepted.TOKEN.read(_token_form(request), request.headers, where=f"POST {TOKEN_PATH}")
        except (NotSupported, Unreadable) as refused:
            return errors.oauth_error(*oauth_refusal(refused))
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return errors.oauth_error("invalid_client", "Client authentication failed.", 401)
        grant_type = form.get("grant_type")
        if grant_type not in ("refresh_token", "authorization_code"):
            return errors.oauth_error("unsupported_grant_type", "The authorization grant type is not supported.")
        secret = form.get("refresh_token" if grant_type == "refresh_token" else "code")
        if not secret:
            return errors.oauth_error("invalid_request", "The request is missing a required parameter.")
        try:
            if grant_type == "authorization_code":
                pair = self._redeem(secret, form.get("redirect_uri", ""))
            else:
                pair = self.authority.refresh(secret)
        except InvalidGrant:
            return errors.oauth_error(
                "invalid_grant",
                "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI "
                "used in the authorization request, or was issued to another client.",
            )
        return json_response(token_json(pair, int(self.clock.now().timestamp())))

    def _redeem(self, code: str, redirect_uri: str) -> TokenPair:
        return self.consent.redeem(code, self.client_id, redirect_uri, None)


def token_json(pair: TokenPair, created_at: int) -> Json:
    """The token endpoint's answer, shaped as fixtures/auth_token_response.json."""
    return {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "token_type": "Bearer",
        "expires_in": pair.expires_in,
        "scope": SCOPE,
        "created_at": created_at,
        "id_token": secrets.token_urlsafe(24),
    }


def _token_form(request: Request) -> dict[str, list[str]]:
    """A token or revocation request's fields: FreshBooks takes JSON or a form."""
    return form_of(request.body, request.headers.get("Content-Type"))


def _fault_response(fault: PlannedFault) -> Response:
    """A planned fault's answer (429 or 5xx: FreshBooks' bodies for those are undocumented; errno = status)."""
    assert fault.status is not None
    response = errors.FreshBooksError(fault.status, fault.status, "", "Planned fault.", "request").response()
    if fault.retry_after is None:
        return response
    return Response(response.status, response.body, (*response.headers, ("Retry-After", str(fault.retry_after))))


def _entry(request: Request, status: int) -> Json:
    try:
        body: Any = request.json() if request.body else None
    except ValueError:
        body = request.body.decode("utf-8", "replace")
    return {
        "method": request.method,
        "path": request.path,
        "query": dict(request.query),
        "body": body,
        "status": status,
    }


def _me_body(business: Business) -> Json:
    """The shape of fixtures/auth_me_response.json, for the owner of one business."""
    user_id = 1000 + business.business_id % 1000
    return {
        "id": user_id, "identity_id": user_id, "identity_uuid": f"uuid-{user_id}",
        "first_name": "Local", "last_name": "Owner", "email": f"owner@{business.account_id.lower()}.example",
        "language": "en", "confirmed_at": "2026-01-01T00:00:00Z", "created_at": "2026-01-01T00:00:00Z",
        "unconfirmed_email": None, "setup_complete": True,
        "profile": {
            "setup_complete": True, "first_name": "Local", "last_name": "Owner", "phone_number": None,
            "address": None, "professions": [], "has_password": True,
        },
        "phone_numbers": [], "addresses": [], "profession": None, "integrations": {}, "identity_origin": None,
        "links": {
            "me": f"/service/auth/api/v1/users?id={user_id}", "roles": f"/service/auth/api/v1/users/role/{user_id}",
        },
        "permissions": {business.account_id: {}},
        "groups": [{
            "id": user_id, "group_id": user_id, "role": "owner", "identity_id": user_id,
            "identity_uuid": f"uuid-{user_id}", "business_id": business.business_id, "active": True,
        }],
        "subscription_statuses": {business.account_id: "active"},
        "business_memberships": [{
            "id": 100000 + user_id, "role": "owner", "unacknowledged_change": False,
            "business": {
                "id": business.business_id, "business_uuid": f"buuid-{business.business_id}",
                "name": business.name, "account_id": business.account_id, "date_format": "mm/dd/yyyy",
                "address": None, "phone_number": None, "business_clients": [],
            },
        }],
        "roles": [{
            "id": user_id, "role": "admin", "systemid": user_id, "userid": 1, "created_at": "2026-01-01T00:00:00Z",
            "links": {"destroy": f"/service/auth/api/v1/users/role/{user_id}"}, "accountid": business.account_id,
        }],
    }  # fmt: skip
