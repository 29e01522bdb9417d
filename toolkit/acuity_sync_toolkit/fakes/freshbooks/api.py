"""The accounting routes of the fake FreshBooks under /accounting/account/{account_id}/ (research §B1): bodies are
wrapped in the singular name (`{"invoice": {...}}`), answers in `{"response": {"result": {...}}}`, lists paginated
with `page`/`per_page` and filtered with `search[...]`."""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from acuity_sync_toolkit.fakes.freshbooks import errors
from acuity_sync_toolkit.fakes.freshbooks.entities import (
    CLIENT_FILTERS,
    INVOICE_FILTERS,
    PAYMENT_FILTERS,
    Business,
    Json,
)
from acuity_sync_toolkit.fakes.httpserver import Request, Response, json_response

DEFAULT_PER_PAGE = 15
MAX_PER_PAGE = 100
_SEARCH = re.compile(r"^search\[([a-z_]+)\]$")


@dataclass(frozen=True)
class Resource:
    single: str
    plural: str
    filters: tuple[str, ...]
    table: Callable[[Business], dict[int, Json]]
    id_field: str  # named by a 404, as fixtures/get_client_response__not_found.json


RESOURCES: Mapping[str, Resource] = {
    "users/clients": Resource("client", "clients", CLIENT_FILTERS, lambda b: b.clients, "userid"),
    "invoices/invoices": Resource("invoice", "invoices", INVOICE_FILTERS, lambda b: b.invoices, "invoiceid"),
    "payments/payments": Resource("payment", "payments", PAYMENT_FILTERS, lambda b: b.payments, "paymentid"),
    "credit_notes/credit_notes": Resource(
        "credit_note", "credit_notes", ("clientid", "vis_state"), lambda b: b.credit_notes, "creditid"
    ),
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
    try:
        if len(parts) == 2:
            if request.method == "GET":
                return _list(business, resource, request)
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


def _list(business: Business, resource: Resource, request: Request) -> Response:
    filters: dict[str, str] = {}
    for name, values in request.query.items():
        match = _SEARCH.match(name)
        if match and match.group(1) in resource.filters and values:
            filters[match.group(1)] = values[0]
    found = business.search(resource.table(business), filters)
    page = _positive(request.query_one("page", "1"), 1013, "page")
    per_page = min(_positive(request.query_one("per_page", str(DEFAULT_PER_PAGE)), 1014, "per_page"), MAX_PER_PAGE)
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


def _positive(text: str | None, errno: int, name: str) -> int:
    if text is None or not text.isdigit() or int(text) < 1:
        raise errors.FreshBooksError(400, errno, name, f"Invalid {name}.", "request", text)
    return int(text)
