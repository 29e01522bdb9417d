"""QuickBooks Online's error answers, as the recordings (../shared/reference/quickbooks/recorded/) show them.

Two families (quickbooks.md §2):

- Service faults, `{"Fault": {"Error": [{"Message", "Detail", "code", "element"?}], "type"}, "time"}`, HTTP 400 for
  validation and business rules. `code` is a string; `element` is present on some codes only (6240 has none,
  610 and 5010 carry `""`, 2030 carries `"Id"`), and 2030 has no `time` (error__500.yml). Inside a batch the
  same Fault appears per item, without `time` (batch__basic.yml).
- Gateway faults for 401/403: lowercase keys and a body full of nulls, `time` in epoch milliseconds, and on 401
  `WWW-Authenticate: Bearer realm="Intuit", error="invalid_token"` (error__401.yml).

Throttling (429, code 3001) is a SERVICE fault; QBO has answered it in XML even to `Accept: application/json`
(routablehq/python-quickbooks#43, ruckus/quickbooks-ruby#348), so it can be rendered either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from acuity_sync_toolkit.fakes.faults import FaultFormat
from acuity_sync_toolkit.fakes.httpserver import Response
from acuity_sync_toolkit.fakes.quickbooks.jsontext import JsonObject, dumps, envelope_time, epoch_millis

FAULT_FORMATS: tuple[FaultFormat, ...] = ("json", "xml")  # QuickBooks' throttles come in either

JSON_CONTENT_TYPE = "application/json;charset=utf-8"  # successful answers
FAULT_CONTENT_TYPE = "application/json"  # faults (error__*.yml)
XML_CONTENT_TYPE = "application/xml"

NOT_FOUND_DETAIL = (
    "Object Not Found : Something you're trying to use has been made inactive. "
    "Check the fields with accounts, customers, items, vendors or employees."
)
SYSTEM_FAILURE_DETAIL = (
    "System Failure Error: An unexpected error occurred while accessing or saving your data. "
    "Please wait a few minutes and try again. If the problem persists, contact customer support."
)
_UNSET = object()


class QboFault(Exception):
    """A service fault: raise it anywhere in a handler; the server renders it."""

    def __init__(
        self,
        status: int,
        errors: Iterable[JsonObject],
        fault_type: str = "ValidationFault",
        *,
        with_time: bool = True,
    ) -> None:
        self.status = status
        self.errors = [dict(error) for error in errors]
        self.fault_type = fault_type
        self.with_time = with_time
        super().__init__(f"{status} {self.code}: {self.errors[0].get('Message', '')}")

    @property
    def code(self) -> str:
        return str(self.errors[0].get("code", ""))

    def fault(self) -> JsonObject:
        """The `Fault` object alone, as a batch item carries it."""
        return {"Error": [dict(error) for error in self.errors], "type": self.fault_type}

    def body(self, now: datetime) -> JsonObject:
        body: JsonObject = {"Fault": self.fault()}
        if self.with_time:
            body["time"] = envelope_time(now)
        return body


def error(message: str, detail: str, code: str, element: object = _UNSET) -> JsonObject:
    """One entry of `Fault.Error`; `element` is left out unless given (QBO omits it on some codes)."""
    entry: JsonObject = {"Message": message, "Detail": detail, "code": code}
    if element is not _UNSET:
        entry["element"] = element
    return entry


def validation(message: str, detail: str, code: str, element: object = _UNSET, *, with_time: bool = True) -> QboFault:
    return QboFault(400, [error(message, detail, code, element)], with_time=with_time)


# ------------------------------------------------------------------------------------------ service faults


def duplicate_name() -> QboFault:
    """6240, word for word as error__validation.yml (no `element`)."""
    return validation("Duplicate Name Exists Error", "The name supplied already exists. : null", "6240")


def stale_object(user: str) -> QboFault:
    """5010, as batch__basic.yml words it (the other user is the company's admin)."""
    detail = (
        f"Stale Object Error : You and {user} were working on this at the same time. "
        f"{user} finished before you did, so your work was not saved."
    )
    return validation("Stale Object Error", detail, "5010", "")


def object_not_found() -> QboFault:
    """610, as batch__basic.yml words it."""
    return validation("Object Not Found", NOT_FOUND_DETAIL, "610", "")


def invalid_reference(entity: str, ref: str) -> QboFault:
    detail = f"Invalid Reference Id : {entity} with Id {ref} does not exist or has been deleted."
    return validation("Invalid Reference Id", detail, "2500", "")


def txn_cannot_be_linked(detail: str) -> QboFault:
    return validation("TxnID Cannot Be Linked", f"TxnID Cannot Be Linked : {detail}", "620", "")


def business_validation(detail: str) -> QboFault:
    """6000, worded as attachment__error_estimate.yml's."""
    return validation(
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {detail}",
        "6000",
        "",
    )


def required_param(name: str) -> QboFault:
    return validation(
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {name} is missing in the request",
        "2020",
        "",
    )


def unsupported_property(name: str, entity: str, known: Iterable[str]) -> QboFault:
    """2010 for a field the entity does not have, worded as error__400_json.yml."""
    names = sorted(known)
    listed = ", ".join(f'"{known_name}"' for known_name in names)
    detail = (
        f'Property Name:Unrecognized field "{name}" (class com.intuit.schema.finance.v3.{entity}), '
        f"not marked as ignorable ({len(names)} known properties: {listed}])\n specified is unsupported or invalid"
    )
    return validation("Request has invalid or unsupported property", detail, "2010")


def not_supported(refusal: ValueError) -> QboFault:
    """2010 for a parameter or field QuickBooks takes but this fake does not apply (fakes/parameters.py), or for a
    parameter value it cannot read: the refusal's words say which."""
    return validation("Request has invalid or unsupported property", str(refusal), "2010")


def invalid_property(name: str, value: object) -> QboFault:
    detail = f"Property Name:{name} (value {value!r}) specified is unsupported or invalid"
    return validation("Request has invalid or unsupported property", detail, "2010")


def unparsable_body(reason: str) -> QboFault:
    detail = f"Property Name:Unable to parse the request body: {reason} specified is unsupported or invalid"
    return validation("Request has invalid or unsupported property", detail, "2010")


def invalid_id(value: str) -> QboFault:
    """2030, as error__500.yml: `element` "Id" and no `time`."""
    detail = f"Id should be a valid number. Supplied value:{value}"
    return validation("Invalid ID", detail, "2030", "Id", with_time=False)


def unsupported_operation(relative: str) -> QboFault:
    """The 400 QBO gives a path it has no resource for (error__500.yml; code "500")."""
    detail = (
        f"Operation Could not find resource for relative : {relative} of full path: "
        f"https://c50.sandbox.qbo.intuit.com/qbo50{relative} is not supported."
    )
    return validation("Unsupported Operation", detail, "500")


def query_parse_error(detail: str) -> QboFault:
    return validation("Error parsing query", f"QueryParserError: {detail}", "4000")


def invalid_query(detail: str) -> QboFault:
    """4001, as error__400.yml (`invalid context declaration: Custmoer`)."""
    return validation("Invalid query", f"QueryValidationError: {detail}", "4001")


def amount_mismatch(amount: object) -> QboFault:
    detail = f"Amount is not equal to UnitPrice * Qty. Supplied value:{amount}"
    return validation("Amount is not equal to UnitPrice * Qty", detail, "6070", "")


def duplicate_doc_number(doc_number: str, txn_type: str, txn_id: str) -> QboFault:
    detail = (
        "Duplicate Document Number Error : You must specify a different number. This number has already been "
        f"used. DocNumber={doc_number} is assigned to TxnType={txn_type} with TxnId={txn_id}"
    )
    return validation("Duplicate Document Number Error", detail, "6140", "")


def string_too_long(name: str, maximum: int, supplied: int) -> QboFault:
    detail = (
        "String length is either shorter or longer than supported by specification. "
        f"Min:0 Max:{maximum} supported. Supplied length:{supplied}"
    )
    return validation("String length specified does not match the supported length", detail, "2050", name)


def throttled() -> QboFault:
    """429 ThrottleExceeded, worded as the XML bodies quoted in PHP-SDK#54 and quickbooks-ruby#348."""
    return QboFault(
        429,
        [
            error(
                "message=ThrottleExceeded; errorCode=003001; statusCode=429",
                "The request limit was reached.  Try again later",
                "3001",
            )
        ],
        "SERVICE",
    )


def system_fault(status: int = 500) -> QboFault:
    return QboFault(
        status,
        [error("An application error has occurred while processing your request", SYSTEM_FAILURE_DETAIL, "10000")],
        "SystemFault",
    )


# ------------------------------------------------------------------------------------------ rendering


def fault_response(fault: QboFault, now: datetime, fmt: FaultFormat = "json") -> Response:
    if fmt == "xml":
        return Response(
            status=fault.status,
            body=fault_xml(fault, now).encode("utf-8"),
            headers=(("Content-Type", XML_CONTENT_TYPE),),
        )
    return Response(
        status=fault.status,
        body=dumps(fault.body(now)).encode("utf-8"),
        headers=(("Content-Type", FAULT_CONTENT_TYPE),),
    )


def fault_xml(fault: QboFault, now: datetime) -> str:
    """`<IntuitResponse><Fault type=...><Error code=...>` as QBO's XML answers have it."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        f'<IntuitResponse time="{envelope_time(now)}" xmlns="http://schema.intuit.com/finance/v3">',
        f"    <Fault type={quoteattr(fault.fault_type)}>",
    ]
    for entry in fault.errors:
        element = f" element={quoteattr(str(entry['element']))}" if "element" in entry else ""
        lines.append(f"        <Error code={quoteattr(str(entry.get('code', '')))}{element}>")
        lines.append(f"            <Message>{escape(str(entry.get('Message', '')))}</Message>")
        lines.append(f"            <Detail>{escape(str(entry.get('Detail', '')))}</Detail>")
        lines.append("        </Error>")
    lines += ["    </Fault>", "</IntuitResponse>"]
    return "\n".join(lines)


def _gateway_body(message: str, detail: str, code: str, fault_type: str, now: datetime) -> dict[str, Any]:
    return {
        "warnings": None,
        "intuitObject": None,
        "fault": {"error": [{"message": message, "detail": detail, "code": code, "element": None}], "type": fault_type},
        "report": None,
        "queryResponse": None,
        "batchItemResponse": [],
        "attachableResponse": [],
        "syncErrorResponse": None,
        "requestId": None,
        "time": epoch_millis(now),
        "status": None,
        "cdcresponse": [],
    }


def unauthorized(detail: str, now: datetime) -> Response:
    """The gateway's 401 (error__401.yml), e.g. detail `Token expired: <token>`."""
    body = _gateway_body(
        "message=AuthenticationFailed; errorCode=003200; statusCode=401", detail, "3200", "AUTHENTICATION", now
    )
    return Response(
        status=401,
        body=dumps(body).encode("utf-8"),
        headers=(
            ("Content-Type", FAULT_CONTENT_TYPE),
            ("WWW-Authenticate", 'Bearer realm="Intuit", error="invalid_token"'),
        ),
    )


def forbidden(now: datetime) -> Response:
    """The gateway's 403 for a token of another company (code 3100, quickbooks.md §2)."""
    body = _gateway_body(
        "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403", "", "3100", "AUTHORIZATION", now
    )
    return Response(status=403, body=dumps(body).encode("utf-8"), headers=(("Content-Type", FAULT_CONTENT_TYPE),))
