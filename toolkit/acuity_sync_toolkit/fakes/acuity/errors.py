"""Acuity's error answers: `{"status_code", "error", "message"}` with the HTTP status (../shared/research/acuity.md)."""

from __future__ import annotations

from typing import Any

from acuity_sync_toolkit.fakes.httpserver import Response, json_response

JsonObject = dict[str, Any]

RATE_LIMIT_MESSAGE = "Rate limit reached. Limit 10req/s and 20 concurrent connections."


class FakeAcuityError(Exception):
    """An error answered as Acuity answers it: `{"status_code", "error", "message"}`."""

    def __init__(self, status_code: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error = error
        self.message = message

    def body(self) -> JsonObject:
        return error_body(self.status_code, self.error, self.message)

    def response(self) -> Response:
        return json_response(self.body(), status=self.status_code)


def error_body(status_code: int, error: str, message: str) -> JsonObject:
    return {"status_code": status_code, "error": error, "message": message}


def bad_request(message: str) -> FakeAcuityError:
    return FakeAcuityError(400, "bad_request", message)


def not_found(message: str = "Not Found") -> FakeAcuityError:
    return FakeAcuityError(404, "not_found", message)


UNAUTHORIZED = FakeAcuityError(401, "unauthorized", "Unauthorized")
METHOD_NOT_ALLOWED = FakeAcuityError(405, "method_not_allowed", "Method Not Allowed")
TOO_MANY_REQUESTS = FakeAcuityError(429, "too_many_requests", RATE_LIMIT_MESSAGE)
