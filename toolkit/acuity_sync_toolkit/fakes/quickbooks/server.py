"""A fake QuickBooks Online: the Accounting API (v3) with per-company state, its OAuth token endpoint, its limits.

    with FakeQuickBooks(clock=FakeClock(frozen=True)) as qbo:
        qbo.add_company("9130355")
        tokens = qbo.issue_tokens("9130355")
        httpx.post(f"{qbo.url}/v3/company/9130355/customer", json={"DisplayName": "Jane Doe"},
                   headers={"Authorization": f"Bearer {tokens.access_token}"})

- `Authorization: Bearer` is checked by a TokenAuthority with Intuit's rules (access 1 h; every refresh rotates the
  refresh token, the previous one stays valid 24 h). A bad token is the gateway's 401 (error__401.yml); a token of
  another company is 403.
- `requestid` on a POST (quickbooks.md §5): the first successful answer is kept per realm and replayed, byte for
  byte, to any later POST with the same requestid, which writes nothing. A failed write is not kept, so a corrected
  retry with the same id is carried out.
- Every answer has an `Intuit-Tid` header. `minorversion` is accepted and ignored (75 is the only one today).
- Limits per realm (quickbooks.md §3): 500 requests a minute and 10 a second (sliding windows on the clock), at
  most 10 in flight; over any of them 429 ThrottleExceeded, as JSON unless `throttle_format = "xml"`. A refused
  request uses up nothing: a client that waits (advances the clock) 60 s gets through again.
- Planned faults (`plan_fault`) count as requests, then answer 429 ThrottleExceeded or a 500/503 SystemFault in
  JSON or XML, or carry the request out and hold its answer `hang_seconds`.
- Admin routes (no auth) under /_admin: see admin.py.
"""

from __future__ import annotations

import hmac
import re
import secrets
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Self

from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.consent import CompanyChoice, ConsentAuthority, form_of, oauth_refusal
from acuity_sync_toolkit.fakes.credentials import basic_credentials
from acuity_sync_toolkit.fakes.faults import FaultFormat, FaultSupport
from acuity_sync_toolkit.fakes.httpserver import Request, Response, json_response, status
from acuity_sync_toolkit.fakes.limits import RateLimiter, Window
from acuity_sync_toolkit.fakes.oauth_authority import QUICKBOOKS_TOKENS, InvalidGrant
from acuity_sync_toolkit.fakes.parameters import NotSupported, Unreadable
from acuity_sync_toolkit.fakes.quickbooks import accepted, api, faults
from acuity_sync_toolkit.fakes.quickbooks.admin import admin_router
from acuity_sync_toolkit.fakes.quickbooks.entities import Company
from acuity_sync_toolkit.fakes.quickbooks.faults import FAULT_FORMATS, JSON_CONTENT_TYPE
from acuity_sync_toolkit.fakes.quickbooks.jsontext import JsonObject, dumps, envelope_time
from acuity_sync_toolkit.fakes.service import LedgerFake

TOKEN_PATH = "/oauth2/v1/tokens/bearer"  # noqa: S105 - a URL path, not a secret
REVOKE_PATH = "/v2/oauth2/tokens/revoke"
AUTHORIZE_PATH = "/connect/oauth2"  # appcenter.intuit.com/connect/oauth2: the consent page (fakes/consent.py)
QBO_VERSION = "1988.128"
_COMPANY_PATH = re.compile(r"^/v3/company/([^/]+)/(.*)$")


def intuit_tid(now: datetime) -> str:
    """`1-5f732f68-d4d3c70ce72c15e07d2bc328`, the shape of the recorded ones."""
    return f"1-{int(now.timestamp()):08x}-{secrets.token_hex(12)}"


class FakeQuickBooks(LedgerFake):
    token_rules = QUICKBOOKS_TOKENS
    fault_support = FaultSupport(statuses=(429, 500, 503), formats=FAULT_FORMATS, retry_after=False, hangs=True)

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clock: FakeClock | None = None,
        per_minute: int = 500,
        per_second: int = 10,
        max_concurrent: int = 10,
        client_id: str = "local-client",
        client_secret: str = "local-secret",  # noqa: S107 - a fake's default credentials
        throttle_format: FaultFormat = "json",
    ) -> None:
        super().__init__(host, port, clock=clock)
        self.client_id, self._client_secret = client_id, client_secret
        if throttle_format not in FAULT_FORMATS:
            raise ValueError(f"throttle_format must be one of {FAULT_FORMATS}")
        self.throttle_format: FaultFormat = throttle_format
        windows = (Window("minute", per_minute, 60), Window("second", per_second, 1))
        self._limiter = RateLimiter(self.clock, windows, max_concurrent=max_concurrent)
        self._lock = threading.RLock()
        self._companies: dict[str, Company] = {}
        self._replies: dict[tuple[str, str], Response] = {}
        self._log: list[JsonObject] = []
        self._stopping = threading.Event()
        self._admin = admin_router(self)
        self.consent = ConsentAuthority(
            app_name="Intuit QuickBooks",
            authorize_path=AUTHORIZE_PATH,
            choice=CompanyChoice.ONE,  # Intuit's company picker: one realm per consent, named in the redirect
            companies=self._company_names,
            issue=self.grant_companies,
            monotonic=self.clock.monotonic,
            client_id=client_id,
            company_parameter="realmId",
        )

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        self._stopping.clear()
        return super().start()

    def stop(self) -> None:
        self._stopping.set()  # ends any hang a test planned
        super().stop()

    @property
    def client_secret(self) -> str:
        """The OAuth client secret this fake Intuit accepts (our app's, in the local stack's Secrets Manager)."""
        return self._client_secret

    # ------------------------------------------------------------------ companies, tokens, state (in-process)

    def add_company(
        self,
        realm_id: str,
        *,
        country: str = "US",
        currency: str = "USD",
        automated_sales_tax: bool = True,
        company_name: str | None = None,
        custom_fields: Iterable[str] = (),
    ) -> dict[str, Any]:
        """A new sandbox-like company with the default "Services" item (Id "1"); ValueError if it exists."""
        if not realm_id or not realm_id.isalnum():
            raise ValueError("realm_id must be a non-empty alphanumeric string")
        with self._lock:
            if realm_id in self._companies:
                raise ValueError(f"company {realm_id} already exists")
            company = Company(
                realm_id,
                self.clock,
                name=company_name or f"Sandbox Company_US_{realm_id[-4:]}",
                country=country,
                currency=currency,
                automated_sales_tax=automated_sales_tax,
                custom_fields=custom_fields,
            )
            self._companies[realm_id] = company
            return company.summary()

    def _company_names(self) -> list[tuple[str, str]]:
        with self._lock:
            return [(realm, company.name) for realm, company in self._companies.items()]

    def has_company(self, realm_id: str) -> bool:
        with self._lock:
            return realm_id in self._companies

    def seed(self, realm_id: str, entity: str, document: Mapping[str, Any]) -> JsonObject:
        """Store `document` as given (prior state for a test), bypassing validation."""
        with self._lock:
            return self._company(realm_id).seed(entity, document)

    def state(self, realm_id: str) -> JsonObject:
        with self._lock:
            return self._company(realm_id).state()

    def emails_sent(self, realm_id: str) -> int:
        with self._lock:
            return len(self._company(realm_id).emails)

    def requests(self, realm_id: str | None = None) -> list[JsonObject]:
        with self._lock:
            return [dict(entry) for entry in self._log if realm_id is None or entry["realm"] == realm_id]

    def in_flight(self, realm_id: str) -> int:
        return self._limiter.in_flight(realm_id)

    def _company(self, realm_id: str) -> Company:
        with self._lock:
            company = self._companies.get(realm_id)
            if company is None:
                raise KeyError(f"no company {realm_id}")
            return company

    # ------------------------------------------------------------------ HTTP

    def _handle(self, request: Request) -> Response:
        now = self.clock.now()
        tid = intuit_tid(now)
        if request.path == "/_admin" or request.path.startswith("/_admin/"):
            response = self._admin(request)
        elif self.consent.handles(request):
            response = self.consent(request)
        elif request.path == TOKEN_PATH and request.method == "POST":
            response = self._token(request)
        elif request.path == REVOKE_PATH and request.method == "POST":
            response = self._revoke(request)
        elif (match := _COMPANY_PATH.match(request.path)) is not None:
            response = self._api(request, match.group(1), match.group(2), now, tid)
        else:
            response = status(404)
        return Response(response.status, response.body, (*response.headers, ("Intuit-Tid", tid)))

    def _api(self, request: Request, realm: str, rest: str, now: datetime, tid: str) -> Response:
        token = _bearer(request.headers.get("Authorization"))
        subject = self.authority.check_access(token) if token else None
        if subject is None:
            known = token is not None and self.authority.subject_of(token) is not None
            detail = f"Token expired: {token}" if known else "Token invalid"
            return self._logged(request, realm, faults.unauthorized(detail, now), now, tid)
        if realm not in self.companies_of(subject) or not self.has_company(realm):
            return self._logged(request, realm, faults.forbidden(now), now, tid)
        if not self._limiter.acquire(realm).allowed:
            return self._logged(
                request, realm, faults.fault_response(faults.throttled(), now, self.throttle_format), now, tid
            )
        try:
            planned = self.faults.take(realm, request.path)
            if planned is not None and planned.status is not None:
                fault = faults.throttled() if planned.status == 429 else faults.system_fault(planned.status)
                return self._logged(request, realm, faults.fault_response(fault, now, planned.body_format), now, tid)
            response, replayed = self._serve(request, realm, rest, now)
            if planned is not None and planned.hang_seconds > 0:
                self._stopping.wait(planned.hang_seconds)
            return self._logged(request, realm, response, now, tid, replayed=replayed)
        finally:
            self._limiter.release(realm)

    def _serve(self, request: Request, realm: str, rest: str, now: datetime) -> tuple[Response, bool]:
        request_id = request.query_one("requestid") or None
        writes = request.method == "POST" and rest.strip("/").lower() != "query"
        with self._lock:
            if writes and request_id is not None and (realm, request_id) in self._replies:
                return self._replies[(realm, request_id)], True
            company = self._companies[realm]
            snapshot = company.snapshot() if writes else None
            try:
                code, payload = api.handle(company, request.method, rest, request.query, request.body)
            except faults.QboFault as fault:
                if snapshot is not None:
                    company.restore(snapshot)
                return faults.fault_response(fault, now), False
            body = dumps({**payload, "time": envelope_time(now)}).encode("utf-8")
            response = Response(code, body, (("Content-Type", JSON_CONTENT_TYPE), ("QBO-Version", QBO_VERSION)))
            if writes and request_id is not None:
                self._replies[(realm, request_id)] = response
            return response, False

    def _logged(
        self, request: Request, realm: str, response: Response, now: datetime, tid: str, *, replayed: bool = False
    ) -> Response:
        entry = {
            "realm": realm,
            "method": request.method,
            "path": request.path,
            "query": {name: values[0] for name, values in request.query.items() if values},
            "requestid": request.query_one("requestid") or None,
            "status": response.status,
            "at": envelope_time(now),
            "intuit_tid": tid,
            "replayed": replayed,
        }
        with self._lock:
            self._log.append(entry)
        return response

    # ------------------------------------------------------------------ OAuth

    def _client_ok(self, request: Request) -> bool:
        credentials = basic_credentials(request.headers.get("Authorization"))
        if credentials is None:
            return False
        client_id, secret = credentials
        same_id = hmac.compare_digest(client_id.encode(), self.client_id.encode())
        return same_id and hmac.compare_digest(secret.encode(), self._client_secret.encode())

    def _token(self, request: Request) -> Response:
        """`grant_type=refresh_token&refresh_token=...`, or a consent's `authorization_code`, with HTTP Basic client
        credentials (quickbooks.md §4); another field is refused (accepted.TOKEN)."""
        if not self._client_ok(request):
            return json_response({"error": "invalid_client"}, status=401)
        try:
            form = accepted.TOKEN.read(form_of(request.body, None), request.headers, where=f"POST {TOKEN_PATH}")
        except (NotSupported, Unreadable) as refused:
            return _oauth_refusal(refused)
        grant_type = form.get("grant_type", "")
        if grant_type not in ("refresh_token", "authorization_code"):
            return json_response({"error": "unsupported_grant_type"}, status=400)
        try:
            if grant_type == "authorization_code":
                # `grant_type=authorization_code&code=..&redirect_uri=..` (quickbooks.md §4, get_bearer_token)
                pair = self.consent.redeem(form.get("code", ""), self.client_id, form.get("redirect_uri", ""), None)
            else:
                pair = self.authority.refresh(form.get("refresh_token", ""))
        except InvalidGrant:
            return json_response({"error": "invalid_grant"}, status=400)
        return json_response(pair.as_json(), headers={"Cache-Control": "no-store"})

    def _revoke(self, request: Request) -> Response:
        """Revokes the whole grant of `{"token": ...}`; 200 even for an unknown token (RFC 7009); another field is
        refused (accepted.REVOKE)."""
        if not self._client_ok(request):
            return json_response({"error": "invalid_client"}, status=401)
        try:
            token = accepted.REVOKE.read(form_of(request.body, "application/json"), where=f"POST {REVOKE_PATH}")
        except (NotSupported, Unreadable) as refused:
            return _oauth_refusal(refused)
        if not token.get("token"):
            return json_response({"error": "invalid_request"}, status=400)
        self.authority.revoke(token["token"])
        return Response(200)


def _oauth_refusal(refused: NotSupported | Unreadable) -> Response:
    error, description = oauth_refusal(refused)
    return json_response({"error": error, "error_description": description}, status=400)


def _bearer(header: str | None) -> str | None:
    if header is None or not header.lower().startswith("bearer "):
        return None
    return header[7:].strip() or None
