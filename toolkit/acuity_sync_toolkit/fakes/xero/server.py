"""A fake Xero: the Accounting API (/api.xro/2.0) per organisation, the identity endpoints, Xero's limits.

    with FakeXero(clock=FakeClock(frozen=True)) as xero:
        xero.add_organisation("tenant-1")
        tokens = xero.issue_tokens("tenant-1")
        httpx.get(f"{xero.url}/api.xro/2.0/Organisation",
                  headers={"Authorization": f"Bearer {tokens.access_token}", "xero-tenant-id": "tenant-1"})

Every request and every response is checked against Xero's official OpenAPI spec (spec.py). A request the spec
refuses is a 400 ValidationException, and so is one with a parameter, header or body field the fake does not apply
(accepted.py): a field the spec does not define (named in the message as unknown in strict mode) or one the fake
does not support. A response the spec refuses is recorded in `spec_violations` and, in strict mode, becomes a 500.
Tokens follow Xero's rules (XERO_TOKENS): access 30 min, refresh single-use with a 30-minute grace that replays.
Limits (limits.py) are checked after a planned fault (`plan_fault`), which answers without counting: a 429 says
`X-Rate-Limit-Problem: minute` and `Retry-After` (60 s unless `retry_after`); a fault without a status is carried
out and answered `hang_seconds` late (a client that timed out after the write happened).
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Self

from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.consent import CompanyChoice, ConsentAuthority, form_of, oauth_refusal
from acuity_sync_toolkit.fakes.credentials import basic_credentials
from acuity_sync_toolkit.fakes.faults import FaultSupport
from acuity_sync_toolkit.fakes.httpserver import Request, Response, compile_pattern
from acuity_sync_toolkit.fakes.oauth_authority import XERO_TOKENS, InvalidGrant, TokenPair
from acuity_sync_toolkit.fakes.parameters import NotSupported, Unreadable
from acuity_sync_toolkit.fakes.service import LedgerFake
from acuity_sync_toolkit.fakes.xero import accepted, spec
from acuity_sync_toolkit.fakes.xero.api import ROUTES, Call
from acuity_sync_toolkit.fakes.xero.dispatch import dispatch
from acuity_sync_toolkit.fakes.xero.entities import Organisation
from acuity_sync_toolkit.fakes.xero.idempotency import IdempotencyStore
from acuity_sync_toolkit.fakes.xero.invoices import public
from acuity_sync_toolkit.fakes.xero.limits import tenant_limiter
from acuity_sync_toolkit.fakes.xero.values import JsonObject, XeroError, validation_body

PREFIX = "/api.xro/2.0"
TOKEN_PATH = "/connect/token"  # noqa: S105 - a URL path
CONNECTIONS_PATH = "/connections"
AUTHORIZE_PATH = "/identity/connect/authorize"  # login.xero.com/identity/connect/authorize (fakes/consent.py)
_COMPILED = [(method, pattern, compile_pattern(pattern), handler) for method, pattern, handler in ROUTES]


def _json(data: Any, status: int, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    body = b"" if data is None else json.dumps(data, separators=(",", ":")).encode()
    content = (("Content-Type", "application/json; charset=utf-8"),) if data is not None else ()
    return Response(status=status, body=body, headers=(*content, *headers))


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    status: int


class FakeXero(LedgerFake):
    token_rules = XERO_TOKENS
    fault_support = FaultSupport(hangs=True)

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clock: FakeClock | None = None,
        strict: bool = True,
        per_minute: int = 60,
        per_day: int = 5000,
        max_concurrent: int = 5,
    ) -> None:
        super().__init__(host, port, clock=clock)
        self.strict = strict
        self.limiter = tenant_limiter(self.clock, per_minute=per_minute, per_day=per_day, max_concurrent=max_concurrent)
        self.idempotency = IdempotencyStore(self.clock)
        self.spec_violations: list[str] = []
        self._orgs: dict[str, Organisation] = {}
        self._requests: dict[str, list[RecordedRequest]] = {}
        self._connections: dict[str, str] = {}  # tenant id -> connection id
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self.consent = ConsentAuthority(
            app_name="Xero",
            authorize_path=AUTHORIZE_PATH,
            choice=CompanyChoice.SEVERAL,  # the owner ticks the organisations to connect; GET /connections lists them
            companies=self._organisation_names,
            issue=self.grant_companies,
            monotonic=self.clock.monotonic,
            client_id=None,
        )
        spec.openapi()  # load the spec before the first request

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        self._stopping.clear()
        return super().start()

    def stop(self) -> None:
        self._stopping.set()  # ends any hang a test planned
        super().stop()

    def hang(self, seconds: float) -> None:
        """Hold an answer (a planned fault without a status); a stopping fake lets it go."""
        self._stopping.wait(seconds)

    # ------------------------------------------------------------------ test controls

    def add_organisation(self, tenant_id: str, *, base_currency: str = "USD", name: str | None = None) -> Organisation:
        uuid.UUID(tenant_id)  # Xero's tenant ids are uuids (the spec's xero-tenant-id is a string; ids are uuids)
        with self._lock:
            org = Organisation(tenant_id, name or f"Org {tenant_id[:8]}", base_currency, self.clock.now())
            self._orgs[tenant_id] = org
            self._connections[tenant_id] = str(uuid.uuid4())
            return org

    def _organisation_names(self) -> list[tuple[str, str]]:
        with self._lock:
            return [(tenant_id, org.name) for tenant_id, org in self._orgs.items()]

    def has_company(self, company_id: str) -> bool:
        with self._lock:
            return company_id in self._orgs

    def state(self, tenant_id: str) -> JsonObject:
        """A copy of the organisation's data as the API would show it."""
        with self._lock:
            org = self._orgs[tenant_id]
            copy: JsonObject = json.loads(
                json.dumps(
                    {
                        "Organisation": org.as_json(),
                        "Accounts": [public(item) for item in org.accounts],
                        "Contacts": [public(item) for item in org.contacts.values()],
                        "Invoices": [public(item) for item in org.invoices.values()],
                        "Payments": [public(item) for item in org.payments.values()],
                        "CreditNotes": [public(item) for item in org.credit_notes.values()],
                        "Emails": list(org.emails),
                    }
                )
            )
            return copy

    def requests(self, tenant_id: str) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests.get(tenant_id, []))

    # ------------------------------------------------------------------ HTTP

    def _handle(self, request: Request) -> Response:
        if self.consent.handles(request):
            return self.consent(request)
        if request.method == "POST" and request.path == TOKEN_PATH:
            return self._token(request)
        if request.method == "GET" and request.path.lower() == CONNECTIONS_PATH:
            return self._list_connections(request)
        if request.method == "DELETE" and request.path.lower().startswith(CONNECTIONS_PATH + "/"):
            return self._delete_connection(request, request.path.rsplit("/", 1)[-1])
        if not request.path.startswith(PREFIX + "/"):
            return _json({"Title": "Not Found", "Status": 404}, 404)
        return self._accounting(request)

    def _token(self, request: Request) -> Response:
        try:
            form = accepted.TOKEN.read(form_of(request.body, None), request.headers, where=f"POST {TOKEN_PATH}")
        except (NotSupported, Unreadable) as refused:
            error, description = oauth_refusal(refused)
            return _json({"error": error, "error_description": description}, 400)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            client = basic_credentials(request.headers.get("Authorization"))
            client_id = client[0] if client is not None else form.get("client_id")  # PKCE apps send no secret
            try:
                pair = self.consent.redeem(
                    form.get("code", ""), client_id, form.get("redirect_uri", ""), form.get("code_verifier")
                )
            except InvalidGrant:
                return _json({"error": "invalid_grant"}, 400)
            return self._token_answer(pair)
        if grant_type != "refresh_token" or not form.get("refresh_token"):
            return _json({"error": "unsupported_grant_type"}, 400)
        try:
            pair = self.authority.refresh(form["refresh_token"])
        except InvalidGrant:
            return _json({"error": "invalid_grant"}, 400)
        return self._token_answer(pair)

    def _token_answer(self, pair: TokenPair) -> Response:
        body = {
            "id_token": hashlib.sha256(pair.access_token.encode()).hexdigest(),  # a replay repeats it
            "access_token": pair.access_token,
            "expires_in": pair.expires_in,
            "token_type": "Bearer",
            "refresh_token": pair.refresh_token,
            "scope": "offline_access accounting.contacts accounting.invoices accounting.payments accounting.settings",
        }
        return _json(body, 200, (("Cache-Control", "no-store"),))

    def _list_connections(self, request: Request) -> Response:
        subject = self.subject(request)
        if subject is None:
            return _json({"Title": "Unauthorized", "Status": 401, "Detail": "AuthenticationUnsuccessful"}, 401)
        try:
            query = accepted.CONNECTIONS.read("GET", CONNECTIONS_PATH, request.query, request.headers)
        except (NotSupported, Unreadable) as refused:
            return _json({"Title": "Bad Request", "Status": 400, "Detail": str(refused)}, 400)
        with self._lock:
            reached = [tenant_id for tenant_id in sorted(self.companies_of(subject)) if tenant_id in self._orgs]
            listed = [self._connection(tenant_id) for tenant_id in reached]
        if "authEventId" in query:
            listed = [connection for connection in listed if connection["authEventId"] == query["authEventId"]]
        response = _json(listed, 200)
        violations = spec.connections_errors(response.body)
        if violations:
            self.spec_violations.append(f"GET /connections: {'; '.join(violations)}")
        return response

    def _connection(self, tenant_id: str) -> JsonObject:
        org = self._orgs[tenant_id]
        now = org.created.isoformat().replace("+00:00", "Z")  # the spec's date-time needs the zone
        return {
            "id": self._connections[tenant_id],
            "authEventId": str(uuid.uuid5(uuid.NAMESPACE_URL, tenant_id)),
            "tenantId": tenant_id,
            "tenantType": "ORGANISATION",
            "tenantName": org.name,
            "createdDateUtc": now,
            "updatedDateUtc": now,
        }

    def _delete_connection(self, request: Request, connection_id: str) -> Response:
        """DELETE /connections/{id} (xero-identity.yaml): our app loses access to that organisation; 204."""
        subject = self.subject(request)
        if subject is None:
            return _json({"Title": "Unauthorized", "Status": 401, "Detail": "AuthenticationUnsuccessful"}, 401)
        try:
            accepted.CONNECTIONS.read("DELETE", f"{CONNECTIONS_PATH}/{connection_id}", request.query, request.headers)
        except (NotSupported, Unreadable) as refused:
            return _json({"Title": "Bad Request", "Status": 400, "Detail": str(refused)}, 400)
        with self._lock:
            tenant_id = next((t for t, c in self._connections.items() if c == connection_id), None)
            if tenant_id is None or tenant_id not in self.companies_of(subject):
                return _json({"Title": "Not Found", "Status": 404}, 404)
            self.release(subject, tenant_id)
        return _json(None, 204)

    def subject(self, request: Request) -> str | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        return self.authority.check_access(header.removeprefix("Bearer ").strip())

    def _accounting(self, request: Request) -> Response:
        response = dispatch(self, request, _COMPILED)
        tenant_id = request.headers.get("xero-tenant-id", "")
        with self._lock:
            self._requests.setdefault(tenant_id, []).append(
                RecordedRequest(
                    request.method,
                    request.path,
                    {key: values[0] for key, values in request.query.items()},
                    dict(request.headers),
                    request.body,
                    response.status,
                )
            )
        return response

    # used by dispatch.py
    def organisation(self, tenant_id: str) -> Organisation | None:
        return self._orgs.get(tenant_id)

    def lock(self) -> threading.RLock:
        return self._lock

    @staticmethod
    def json_response(data: Any, status: int, headers: tuple[tuple[str, str], ...] = ()) -> Response:
        return _json(data, status, headers)

    @staticmethod
    def error(error: XeroError, headers: tuple[tuple[str, str], ...] = ()) -> Response:
        if error.status == 404:
            return _json({"Title": "Not Found", "Status": 404, "Detail": error.message}, 404, headers)
        return _json(validation_body(error.message, error.element), error.status, headers)

    @staticmethod
    def call(params: dict[str, str], query: dict[str, Any], body: Any, clock: FakeClock) -> Call:
        return Call(params, query, body, clock.now())


def parse_body(body: bytes) -> Any:
    return json.loads(body, parse_float=Decimal) if body else None
