"""FreshBooks' error bodies (research xero_freshbooks.md §B3; fixtures get_client_response__not_found.json,
auth_me_response__no_auth.json): accounting errors are `{"response": {"errors": [{errno, field, message, object,
value}]}}`; auth errors are `{"error", "error_description"}`."""

from __future__ import annotations

from typing import Any

from acuity_sync_toolkit.fakes.httpserver import Response, json_response

REQUIRED_FIELD = 1001
INVALID_VALUE = 1004
PARSE_ERROR = 1005
DELETED_RESOURCE = 1011
UNKNOWN_RESOURCE = 1012


class FreshBooksError(Exception):
    """An accounting API error: the HTTP status and one error entry."""

    def __init__(self, status: int, errno: int, field: str, message: str, obj: str, value: object = None) -> None:
        super().__init__(message)
        self.status, self.errno, self.field, self.message = status, errno, field, message
        self.obj, self.value = obj, value

    def body(self) -> dict[str, Any]:
        entry = {
            "errno": self.errno,
            "field": self.field,
            "message": self.message,
            "object": self.obj,
            "value": None if self.value is None else str(self.value),
        }
        return {"response": {"errors": [entry]}}

    def response(self) -> Response:
        return json_response(self.body(), status=self.status)


def not_found(obj: str, field: str, value: object) -> FreshBooksError:
    return FreshBooksError(404, UNKNOWN_RESOURCE, field, f"{obj.capitalize()} not found.", obj, value)


def required(obj: str, field: str) -> FreshBooksError:
    return FreshBooksError(422, REQUIRED_FIELD, field, f"Field '{field}' is required.", obj)


def invalid(obj: str, field: str, value: object, message: str | None = None) -> FreshBooksError:
    return FreshBooksError(422, INVALID_VALUE, field, message or f"Invalid value for field '{field}'.", obj, value)


def deleted(obj: str, field: str, value: object) -> FreshBooksError:
    return FreshBooksError(422, DELETED_RESOURCE, field, f"{obj.capitalize()} is deleted.", obj, value)


def unparsable(obj: str) -> FreshBooksError:
    return FreshBooksError(400, PARSE_ERROR, obj, "The request body could not be parsed.", obj)


def unauthenticated() -> Response:
    body = {"error": "unauthenticated", "error_description": "This action requires authentication to continue."}
    return json_response(body, status=401)


def oauth_error(error: str, description: str, status: int = 400) -> Response:
    return json_response({"error": error, "error_description": description}, status=status)
