"""The fake QuickBooks' admin routes (no auth, not rate limited), for tests and the local stack:

    POST /_admin/companies                  {"realm_id", "country"?, "currency"?, "automated_sales_tax"?,
                                             "company_name"?, "custom_fields"?: [names]}
                                            -> 201 the company, with "tokens" (a first grant); 409 if it exists
    POST /_admin/companies/{realm}/tokens   -> 201 a new grant's tokens (TokenPair.as_json())
    POST /_admin/companies/{realm}/seed     {"entity": "Customer", "document": {...}} -> 201 the stored document
    GET  /_admin/companies/{realm}/state    -> every entity as stored, deleted ones, e-mails sent
    POST /_admin/faults                     {"realm", "next"?: 1, "status": 429|500|503, "format"?: "json"|"xml"}
                                            or {"realm", "next"?: 1, "hang_seconds": S} -> 201 {"pending": n}
    POST /_admin/clock                      {"advance": seconds} -> {"now": ...}; GET /_admin/clock -> {"now": ...}
    GET  /_admin/requests[?realm=]          -> [{"realm", "method", "path", "query", "requestid", "status", "at",
                                                 "intuit_tid", "replayed"}]

Errors are `{"error": message}` with 400 (bad input) or 404 (no such company).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from acuity_sync_toolkit.fakes.httpserver import Request, Response, Router
from acuity_sync_toolkit.fakes.quickbooks import faults
from acuity_sync_toolkit.fakes.quickbooks.jsontext import JsonObject, NotJson, dumps, envelope_time, loads

if TYPE_CHECKING:
    from acuity_sync_toolkit.fakes.quickbooks.server import FakeQuickBooks


class _AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _answer(data: Any, status: int = 200) -> Response:
    return Response(status, dumps(data).encode("utf-8"), (("Content-Type", "application/json"),))


def _body(request: Request) -> JsonObject:
    try:
        body = loads(request.body or b"{}")
    except NotJson as error:
        raise _AdminError(400, f"the body is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise _AdminError(400, "the body must be a JSON object")
    return body


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | Decimal) or value < 0:
        raise _AdminError(400, f"{name} must be a non-negative number")
    return float(value)


def admin_router(server: FakeQuickBooks) -> Router:
    admin = _Admin(server)
    router = Router(not_found=admin.not_found, method_not_allowed=admin.method_not_allowed)
    routes = (
        ("POST", "/_admin/companies", admin.add_company),
        ("POST", "/_admin/companies/{realm}/tokens", admin.tokens),
        ("POST", "/_admin/companies/{realm}/seed", admin.seed),
        ("GET", "/_admin/companies/{realm}/state", admin.state),
        ("POST", "/_admin/faults", admin.plan_fault),
        ("GET", "/_admin/clock", admin.clock),
        ("POST", "/_admin/clock", admin.clock),
        ("GET", "/_admin/requests", admin.requests),
    )
    for method, pattern, handler in routes:
        router.add(method, pattern, _guarded(handler))
    return router


def _guarded(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
    def run(request: Request) -> Response:
        try:
            return handler(request)
        except _AdminError as error:
            return _answer({"error": str(error)}, error.status)

    return run


class _Admin:
    def __init__(self, server: FakeQuickBooks) -> None:
        self.server = server

    def not_found(self, request: Request) -> Response:
        return _answer({"error": f"no admin route {request.method} {request.path}"}, 404)

    def method_not_allowed(self, request: Request, allowed: list[str]) -> Response:
        return _answer({"error": f"{request.method} {request.path}: use {', '.join(sorted(set(allowed)))}"}, 405)

    def _realm(self, request: Request) -> str:
        realm = request.path_params["realm"]
        if not self.server.has_company(realm):
            raise _AdminError(404, f"no company {realm}")
        return realm

    def add_company(self, request: Request) -> Response:
        body = _body(request)
        realm = body.get("realm_id")
        if not isinstance(realm, str):
            raise _AdminError(400, "realm_id must be a string")
        if self.server.has_company(realm):
            raise _AdminError(409, f"company {realm} already exists")
        custom_fields = body.get("custom_fields", [])
        if not isinstance(custom_fields, list) or not all(isinstance(name, str) for name in custom_fields):
            raise _AdminError(400, "custom_fields must be a list of names")
        options: dict[str, Any] = {"custom_fields": custom_fields}
        for key, kind in (("country", str), ("currency", str), ("automated_sales_tax", bool), ("company_name", str)):
            if key in body:
                if not isinstance(body[key], kind):
                    raise _AdminError(400, f"{key} must be a {kind.__name__}")
                options[key] = body[key]
        try:
            company = self.server.add_company(realm, **options)
        except ValueError as error:
            raise _AdminError(400, str(error)) from None
        return _answer(company | {"tokens": self.server.issue_tokens(realm).as_json()}, 201)

    def tokens(self, request: Request) -> Response:
        return _answer(self.server.issue_tokens(self._realm(request)).as_json(), 201)

    def seed(self, request: Request) -> Response:
        realm = self._realm(request)
        body = _body(request)
        entity, document = body.get("entity"), body.get("document")
        if not isinstance(entity, str) or not isinstance(document, dict):
            raise _AdminError(400, 'give {"entity": "Customer", "document": {...}}')
        try:
            return _answer(self.server.seed(realm, entity, document), 201)
        except ValueError as error:
            raise _AdminError(400, str(error)) from None

    def state(self, request: Request) -> Response:
        return _answer(self.server.state(self._realm(request)))

    def plan_fault(self, request: Request) -> Response:
        body = _body(request)
        realm, count, status = body.get("realm"), body.get("next", 1), body.get("status")
        fmt = body.get("format", "json")
        if not isinstance(realm, str):
            raise _AdminError(400, "realm must be a string")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise _AdminError(400, "next must be a positive integer")
        if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
            raise _AdminError(400, "status must be 429, 500 or 503")
        if fmt not in faults.FAULT_FORMATS:
            raise _AdminError(400, "format must be json or xml")
        hang = _number(body.get("hang_seconds", 0), "hang_seconds")
        try:
            self.server.plan_fault(realm, status, count=count, hang_seconds=hang, body_format=fmt)
        except ValueError as error:
            raise _AdminError(400, str(error)) from None
        return _answer({"pending": self.server.pending_faults(realm)}, 201)

    def clock(self, request: Request) -> Response:
        if request.method == "POST":
            self.server.clock.advance(_number(_body(request).get("advance"), "advance"))
        return _answer({"now": envelope_time(self.server.clock.now())})

    def requests(self, request: Request) -> Response:
        return _answer(self.server.requests(request.query_one("realm")))
