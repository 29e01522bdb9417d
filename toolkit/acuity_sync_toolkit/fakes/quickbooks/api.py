"""The v3 endpoints of one company: `handle(company, method, rest, ...)` for the path after /v3/company/{realmId}/.

    GET  customer|invoice|payment|item|creditmemo/{id}      {"<Entity>": {...}}
    POST customer|invoice|payment|item|creditmemo           create (no Id) or update (Id + SyncToken; `sparse`)
    POST <entity>?operation=delete                          invoice, payment, credit memo (names cannot be deleted)
    POST invoice?operation=void                             payment: ?operation=update&include=void
    POST invoice/{id}/send[?sendTo=]                        EmailStatus EmailSent, DeliveryInfo
    GET  companyinfo/{realmId}, GET preferences
    GET  query?query=..., POST query (the SQL as the body, application/text)
    POST batch                                              {"BatchItemRequest": [...]} (batch__basic.yml)

Answers are (status, payload) without `time`, which the server adds; errors are raised as QboFault. Any other path
is the 400 "Unsupported Operation" of error__500.yml. Each route's query parameters and each entity's fields are
applied or refused (accepted.py), before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs

from acuity_sync_toolkit.fakes.parameters import Fields, NotSupported, Unreadable, Unrecognized
from acuity_sync_toolkit.fakes.quickbooks import accepted, faults, payments, query, sales
from acuity_sync_toolkit.fakes.quickbooks.entities import ENTITIES, RESOURCES, Company
from acuity_sync_toolkit.fakes.quickbooks.jsontext import JsonObject, NotJson, loads

Writer = Callable[[Company, Mapping[str, Any]], JsonObject]
_DELETABLE = ("Invoice", "Payment", "CreditMemo")
_BATCH_KEYS = ("bId", "operation", "optionsData")


def _params(query_params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = query_params.get(name)
    return values[0] if values else None


def json_body(body: bytes) -> JsonObject:
    try:
        parsed = loads(body or b"{}")
    except NotJson as error:
        raise faults.unparsable_body(str(error)) from None
    if not isinstance(parsed, dict):
        raise faults.unparsable_body("the body must be a JSON object")
    return parsed


def write(
    company: Company, entity: str, operation: str | None, body: Mapping[str, Any], include: Sequence[str] = ()
) -> JsonObject:
    """One write, as a POST or a batch item names it; the entity document (or the deleted stub) it answers."""
    check_fields(accepted.ENTITY_FIELDS[entity], body)
    allow_duplicate = "allowduplicatedocnum" in include
    if operation in (None, "", "create", "update"):
        if entity == "Payment":
            return payments.write_payment(company, body, void="void" in include)
        writers: dict[str, Writer] = {
            "Customer": Company.write_customer,
            "Item": Company.write_item,
            "Invoice": lambda c, b: sales.write_invoice(c, b, allow_duplicate=allow_duplicate),
            "CreditMemo": lambda c, b: sales.write_credit_memo(c, b, allow_duplicate=allow_duplicate),
        }
        return writers[entity](company, body)
    if operation == "delete" and entity == "Payment":
        return payments.delete_payment(company, body)
    if operation == "delete" and entity in _DELETABLE:
        return sales.delete_transaction(company, entity, body)
    if operation == "void" and entity == "Invoice":
        return sales.void_invoice(company, body)
    raise faults.unsupported_operation(f"/v3/company/{company.realm_id}/{entity.lower()}?operation={operation}")


def handle(
    company: Company, method: str, rest: str, query_params: Mapping[str, Sequence[str]], body: bytes
) -> tuple[int, JsonObject]:
    parts = [part for part in rest.split("/") if part]
    unsupported = faults.unsupported_operation(f"/v3/company/{company.realm_id}/{rest}")
    if not parts:
        raise unsupported
    resource = parts[0].lower()
    route = accepted.ROUTES.find(method, "/".join([resource, *parts[1:]]))
    if route is not None:  # a path without a route is the Unsupported Operation below
        try:
            route.query.read(query_params, where=route.label)
        except (NotSupported, Unreadable) as refused:
            raise faults.not_supported(refused) from None
    if resource == "query" and len(parts) == 1:
        return 200, {"QueryResponse": query.run(company, _query_text(method, query_params, body))}
    if resource == "batch" and len(parts) == 1 and method == "POST":
        return 200, batch(company, json_body(body))
    if resource == "companyinfo" and len(parts) == 2 and method == "GET":
        if parts[1] != company.realm_id:
            raise faults.object_not_found()
        return 200, {"CompanyInfo": company.company_info()}
    if resource == "preferences" and len(parts) == 1 and method == "GET":
        return 200, {"Preferences": company.preferences()}
    entity = RESOURCES.get(resource)
    if entity is None:
        raise unsupported
    if method == "GET" and len(parts) == 2:
        return 200, {entity: company.get(entity, parts[1])}
    if method == "POST" and len(parts) == 1:
        include = (_params(query_params, "include") or "").split(",")
        document = write(company, entity, _params(query_params, "operation"), json_body(body), include)
        return 200, {entity: document}
    if method == "POST" and entity == "Invoice" and len(parts) == 3 and parts[2] == "send":
        return 200, {entity: sales.send_invoice(company, parts[1], _params(query_params, "sendTo"))}
    raise unsupported


def check_fields(rules: Fields, body: Mapping[str, Any]) -> None:
    """QuickBooks' 2010 for the first field the entity's rules do not take: its own "Unrecognized field" for one
    QuickBooks does not know, "not supported by this fake" for one it knows."""
    try:
        rules.check(dict(body))
    except Unrecognized as unknown:
        raise faults.unsupported_property(unknown.field, unknown.entity, unknown.known) from None
    except NotSupported as refused:
        raise faults.not_supported(refused) from None


def _query_text(method: str, query_params: Mapping[str, Sequence[str]], body: bytes) -> str:
    text = _params(query_params, "query")
    if text is None and method == "POST":
        raw = body.decode("utf-8", errors="replace").strip()
        form = parse_qs(raw) if raw.lower().startswith("query=") else {}
        text = form["query"][0] if form.get("query") else raw
    if not text:
        raise faults.query_parse_error('Encountered "<EOF>" at line 1, column 1.')
    return text


def batch(company: Company, body: Mapping[str, Any]) -> JsonObject:
    """Each item on its own: a failed item answers its Fault (no `time`) and changes nothing; the others apply."""
    items = body.get("BatchItemRequest")
    if not isinstance(items, list) or not items:
        raise faults.required_param("BatchItemRequest")
    answers: list[JsonObject] = []
    for item in items:
        if not isinstance(item, dict):
            raise faults.invalid_property("BatchItemRequest", item)
        snapshot = company.snapshot()
        try:
            answer = _batch_item(company, item)
        except faults.QboFault as fault:
            company.restore(snapshot)
            answer = {"Fault": fault.fault()}
        answers.append(answer | {"bId": item.get("bId")})
    return {"BatchItemResponse": answers}


def _batch_item(company: Company, item: Mapping[str, Any]) -> JsonObject:
    if "Query" in item:
        return {"QueryResponse": query.run(company, str(item["Query"]))}
    if "optionsData" in item:
        raise faults.not_supported(NotSupported("optionsData", "batch item field", ("bId", "operation", "Query")))
    names = [key for key in item if key not in _BATCH_KEYS]
    operation = item.get("operation")
    if len(names) != 1 or names[0] not in ENTITIES or not isinstance(item[names[0]], dict):
        entity = names[0] if names else "?"
        raise faults.unsupported_operation(f"/v3/company/{company.realm_id}/batch {operation} {entity}")
    entity = names[0]
    return {entity: write(company, entity, str(operation) if operation else None, item[entity])}
