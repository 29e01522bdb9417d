"""The accounting routes of the fake FreshBooks under /accounting/account/{account_id}/ (research §B1): bodies are
wrapped in the singular name (`{"invoice": {...}}`), answers in `{"response": {"result": {...}}}`, lists paginated
with `page`/`per_page` and filtered with `search[...]`. What each route applies is in accepted.py; anything else is
refused before the route runs."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from acuity_sync_toolkit.fakes.freshbooks import accepted, errors
from acuity_sync_toolkit.fakes.freshbooks.entities import Business, Json
from acuity_sync_toolkit.fakes.httpserver import Request, Response, json_response
from acuity_sync_toolkit.fakes.parameters import NotSupported, Route, Unreadable

DEFAULT_PER_PAGE = 15
MAX_PER_PAGE = 100
SEARCH = "search["


@dataclass(frozen=True)
class Resource:
    single: str
    plural: str
    table: Callable[[Business], dict[int, Json]]
    id_field: str  # named by a 404, as fixtures/get_client_response__not_found.json


RESOURCES: Mapping[str, Resource] = {
    "users/clients": Resource("client", "clients", lambda b: b.clients, "userid"),
    "invoices/invoices": Resource("invoice", "invoices", lambda b: b.invoices, "invoiceid"),
    "payments/payments": Resource("payment", "payments", lambda b: b.payments, "paymentid"),
    "credit_notes/credit_notes": Resource("credit_note", "credit_notes", lambda b: b.credit_notes, "creditid"),
}


def result(key: str, value: Any, status: int = 200, **extra: Any) -> Response:
    return json_response({"response": {"result": {key: copy.deepcopy(value), **extra}}}, status=status)


def handle(business: Business, request: Request, relative: str, now: datetime) -> Response:
    """`relative` is the path after /accounting/account/{account_id}/."""
    parts = relative.strip("/").split("/")
    key = "/".join(parts[:2])
    resource = RESOURCES.get(key)
    if resource is None or len(parts) > 3:
        return errors.FreshBooksError(404, errors.UNKNOWN_RESOURCE, "path", "Resource not found.", "request").response()
    route = accepted.ROUTES.find(request.method, "/".join(parts))
    try:
        values = (route or Route(request.method, key)).read(request.query, request.headers, request.body)
    except (NotSupported, Unreadable) as refused:
        return _refusal(refused, resource.single, in_body=route is not None and route.body is not None).response()
    try:
        if len(parts) == 2:
            if request.method == "GET":
                return _list(business, resource, values)
            if request.method == "POST":
                return _create(business, resource, _body(request, resource.single), now)
        else:
            record_id = _record_id(parts[2], resource.single)
            if request.method == "GET":
                record = resource.table(business).get(record_id)
                if record is None:
                    raise errors.not_found(resource.single, resource.id_field, record_id)
                return result(resource.single, record)
            if request.method == "PUT" and resource.single == "invoice":
                invoice, _ = business.update_invoice(record_id, _body(request, "invoice"), now)
                return result("invoice", invoice)
            if request.method == "PUT" and resource.single == "payment":
                return result("payment", business.update_payment(record_id, _body(request, "payment"), now))
    except errors.FreshBooksError as error:
        return error.response()
    return json_response({"response": {"errors": [{"errno": 405, "message": "Method not allowed."}]}}, status=405)


_PAGING_ERRNO = {"page": 1013, "per_page": 1014}  # invalid page / per_page (research §B3)


def _refusal(refused: NotSupported | Unreadable, single: str, *, in_body: bool) -> errors.FreshBooksError:
    """FreshBooks' error body for what the route does not apply: 422 for a body field, 400 for a parameter."""
    if in_body and isinstance(refused, NotSupported) and refused.kind == "field":
        return errors.FreshBooksError(422, errors.INVALID_VALUE, refused.name, str(refused), single, refused.value)
    errno = _PAGING_ERRNO.get(refused.name, errors.INVALID_VALUE)
    return errors.FreshBooksError(400, errno, refused.name, str(refused), "request")


def _list(business: Business, resource: Resource, values: Mapping[str, object]) -> Response:
    """The filters (`search[name]`) and page the route read (accepted.py)."""
    filters = {name[len(SEARCH) : -1]: str(value) for name, value in values.items() if name.startswith(SEARCH)}
    found = business.search(resource.table(business), filters)
    page = int(str(values.get("page", 1)))
    per_page = min(int(str(values.get("per_page", DEFAULT_PER_PAGE))), MAX_PER_PAGE)
    pages = max(1, math.ceil(len(found) / per_page))
    chunk = found[(page - 1) * per_page : page * per_page]
    return result(resource.plural, chunk, page=page, pages=pages, per_page=per_page, total=len(found))


def _create(business: Business, resource: Resource, data: Json, now: datetime) -> Response:
    create: dict[str, Callable[[Json, datetime], Json]] = {
        "client": business.create_client,
        "invoice": business.create_invoice,
        "payment": business.create_payment,
        "credit_note": business.create_credit_note,
    }
    return result(resource.single, create[resource.single](data, now))


def _body(request: Request, single: str) -> Json:
    try:
        data = request.json()
    except ValueError:
        raise errors.unparsable(single) from None
    if not isinstance(data, dict) or not isinstance(data.get(single), dict):
        raise errors.required(single, single)
    inner: Json = data[single]
    return inner


def _record_id(text: str, single: str) -> int:
    if not text.isdigit():
        raise errors.not_found(single, f"{single}id", text)
    return int(text)
