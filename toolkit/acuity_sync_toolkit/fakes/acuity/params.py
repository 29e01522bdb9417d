"""Reading the fake Acuity's requests: JSON bodies, integer query and path parameters, Basic credentials; every
refusal worded as Acuity words it."""

from __future__ import annotations

from decimal import Decimal

from acuity_sync_toolkit.fakes.acuity.errors import JsonObject, bad_request, not_found
from acuity_sync_toolkit.fakes.credentials import basic_credentials
from acuity_sync_toolkit.fakes.httpserver import Request

DEFAULT_LIST_MAX = 100


def account_credentials(request: Request) -> tuple[int | None, str | None]:
    """(user id, API key) from `Authorization: Basic ...`; (None, None) when absent or malformed."""
    credentials = basic_credentials(request.headers.get("Authorization"))
    if credentials is None or not credentials[0].isdigit():
        return None, None
    user, key = credentials
    return int(user), key


def json_object(request: Request) -> JsonObject:
    try:
        body = request.json(parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("Expected a JSON object.") from None
    if not isinstance(body, dict):
        raise bad_request("Expected a JSON object.")
    return body


def int_param(value: str | None, name: str) -> int:
    if value is None or not value.strip().lstrip("-").isdigit():
        raise bad_request(f"{name} must be an integer.")
    return int(value)


def max_param(request: Request) -> int:
    value = request.query_one("max")
    if value is None or value == "":
        return DEFAULT_LIST_MAX
    limit = int_param(value, "max")
    if limit < 1:
        raise bad_request("max must be at least 1.")
    return limit


def path_id(request: Request, collection: str) -> int:
    value = request.path_params.get("id", "")
    if not value.isdigit():
        raise not_found(f"Not Found. Did you mean `/{collection}/{{id:number}}`?")
    return int(value)


def account_param(request: Request) -> int:
    return int_param(request.query_one("account"), "account")


def bool_param(request: Request, name: str, default: bool) -> bool:
    """`true`/`false` (also `1`/`0`), any case; anything else is refused, not read as false."""
    value = request.query_one(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise bad_request(f"{name} must be true or false.")
