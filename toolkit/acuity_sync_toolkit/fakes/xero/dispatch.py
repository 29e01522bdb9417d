"""One Accounting API call through the fake: route, auth, tenant, faults and limits, spec check, what the route
applies (accepted.py: any other parameter or field is refused), idempotency, the operation, Xero's envelope on the
answer (`Id`, `Status`, `ProviderName`, `DateTimeUTC`, as every answer in the spec's examples has), and the spec
check of the answer."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from acuity_sync_toolkit.fakes.httpserver import Request, Response
from acuity_sync_toolkit.fakes.parameters import NotSupported, Unreadable
from acuity_sync_toolkit.fakes.xero import accepted, spec
from acuity_sync_toolkit.fakes.xero.api import Handler
from acuity_sync_toolkit.fakes.xero.idempotency import MAX_KEY_LENGTH
from acuity_sync_toolkit.fakes.xero.limits import rate_limit_headers
from acuity_sync_toolkit.fakes.xero.values import XeroError, ms_date

if TYPE_CHECKING:
    from acuity_sync_toolkit.fakes.xero.server import FakeXero

PREFIX = "/api.xro/2.0"
Compiled = Sequence[tuple[str, str, re.Pattern[str], Handler]]
_WRITES = ("PUT", "POST")
PROVIDER_NAME = "Acuity Sync"  # the app a token belongs to: Xero names it in every answer's envelope


def _unauthorized(xero: FakeXero, detail: str) -> Response:
    return xero.json_response({"Title": "Unauthorized", "Status": 401, "Detail": detail}, 401)


def _forbidden(xero: FakeXero) -> Response:
    body = {"Title": "Forbidden", "Status": 403, "Detail": "AuthenticationUnsuccessful"}
    return xero.json_response(body, 403)


def _route(request: Request, routes: Compiled) -> tuple[str, Handler, dict[str, str]] | None:
    sub = request.path.removeprefix(PREFIX)
    for method, pattern, regex, handler in routes:
        match = regex.match(sub)
        if match is not None and method == request.method:
            return pattern, handler, match.groupdict()
    return None


def dispatch(xero: FakeXero, request: Request, routes: Compiled) -> Response:
    found = _route(request, routes)
    if found is None:
        return xero.json_response({"Title": "Not Found", "Status": 404, "Detail": request.path}, 404)
    pattern, handler, params = found
    subject = xero.subject(request)
    if subject is None:
        return _unauthorized(xero, "TokenExpired or invalid: AuthenticationUnsuccessful")
    tenant_id = request.headers.get("xero-tenant-id", "")
    org = xero.organisation(tenant_id)
    if org is None or tenant_id not in xero.companies_of(subject):
        return _forbidden(xero)
    fault = xero.faults.take(tenant_id, request.path)
    if fault is not None and fault.status is not None:
        headers: list[tuple[str, str]] = []
        if fault.status == 429:
            headers.append(("X-Rate-Limit-Problem", "minute"))
            headers.append(("Retry-After", str(fault.retry_after or 60)))
        body = {"Title": "Planned fault", "Status": fault.status, "Detail": "a fault the test planned"}
        return xero.json_response(body, fault.status, tuple(headers))
    decision = xero.limiter.acquire(tenant_id)
    limit_headers = rate_limit_headers(decision)
    if not decision.allowed:
        body = {"Title": "Too Many Requests", "Status": 429, "Detail": f"Rate limit exceeded: {decision.refused_by}"}
        return xero.json_response(body, 429, limit_headers)
    try:
        response = _checked(xero, request, pattern, handler, params, tenant_id)
        if fault is not None and fault.hang_seconds > 0:
            xero.hang(fault.hang_seconds)  # carried out; the answer comes late (or never, to a client that gave up)
    finally:
        xero.limiter.release(tenant_id)
    return Response(response.status, response.body, (*response.headers, *limit_headers))


def _checked(
    xero: FakeXero, request: Request, pattern: str, handler: Handler, params: dict[str, str], tenant_id: str
) -> Response:
    query = {key: values[0] for key, values in request.query.items()}
    headers = dict(request.headers)
    problems = spec.request_errors(request.method, request.path, query, headers, request.body)
    if xero.strict:
        problems += [f"unknown field {name}" for name in spec.unknown_fields(request.method, pattern, request.body)]
    if problems:
        return xero.error(XeroError("The request does not match the Xero API: " + "; ".join(problems)))
    try:
        values = accepted.ROUTES.for_pattern(request.method, pattern).read(request.query, request.headers, request.body)
    except (NotSupported, Unreadable) as refused:
        return xero.error(XeroError(str(refused)))
    key = request.headers.get("Idempotency-Key") if request.method in _WRITES else None
    fingerprint = ""
    if key is not None:
        if len(key) > MAX_KEY_LENGTH:
            return xero.error(XeroError(f"Idempotency-Key must be at most {MAX_KEY_LENGTH} characters"))
        fingerprint = xero.idempotency.fingerprint(request.method, f"{request.path}?{request.raw_query}", request.body)
        kept = xero.idempotency.lookup(tenant_id, key, fingerprint)
        if isinstance(kept, str):
            return xero.error(XeroError(kept))
        if kept is not None:
            return kept
    response = _operate(xero, request, handler, params, values, tenant_id)
    if key is not None:
        xero.idempotency.keep(tenant_id, key, fingerprint, response)
    violations = spec.response_errors(
        request.method, request.path, query, headers, request.body, response.status, response.body
    )
    if violations:
        message = f"{request.method} {request.path} -> {response.status}: {'; '.join(violations)}"
        xero.spec_violations.append(message)
        if xero.strict:
            return xero.json_response({"Title": "Fake Xero answer off spec", "Status": 500, "Detail": message}, 500)
    return response


def _operate(
    xero: FakeXero, request: Request, handler: Handler, params: dict[str, str], query: dict[str, Any], tenant_id: str
) -> Response:
    try:
        body: Any = json.loads(request.body, parse_float=Decimal) if request.body else None
    except ValueError:
        return xero.error(XeroError("The request body is not valid JSON"))
    org = xero.organisation(tenant_id)
    if org is None:
        return xero.error(XeroError("Organisation not found", status=404))
    with xero.lock():
        try:
            status, data = handler(org, xero.call(params, query, body, xero.clock))
        except XeroError as error:
            return xero.error(error)
    if data is not None:
        now = xero.clock.now()
        envelope = {"Id": str(uuid.uuid4()), "Status": "OK", "ProviderName": PROVIDER_NAME}
        data = {**envelope, "DateTimeUTC": ms_date(now).replace("+0000", ""), **data}
    return xero.json_response(data, status)
