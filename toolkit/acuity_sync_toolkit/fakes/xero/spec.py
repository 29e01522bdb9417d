"""The official Xero Accounting OpenAPI spec (../shared/reference/xero/xero_accounting.yaml), loaded once per process.

The spec carries boolean schema defaults written as strings (`default: 'false'`); they are turned into booleans on
load, or openapi-core would reject every body that omits such a field; read-only fields lose their defaults (or
openapi-core would fill them into a request, then refuse it). The spec itself is not validated.
`unknown_fields` finds the body fields the spec does not define (the spec never says `additionalProperties: false`,
so openapi-core alone accepts a misspelled field): strict mode refuses them.
"""

from __future__ import annotations

import functools
import json
import threading
import warnings
from typing import Any

import yaml
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from acuity_sync_toolkit.paths import REFERENCE

SPEC_PATH = REFERENCE / "xero" / "xero_accounting.yaml"
IDENTITY_PATH = SPEC_PATH.with_name("xero-identity.yaml")
HOST_URL = "https://api.xero.com"
_LOCK = threading.Lock()
# One validation at a time: `warnings.catch_warnings` swaps process-wide state, and openapi-core fills caches
# lazily; the fake's server threads validating at once broke both ("dictionary changed size during iteration").
_VALIDATING = threading.Lock()


def _fix_defaults(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "boolean" and isinstance(node.get("default"), str):
            node["default"] = node["default"] == "true"
        if node.get("readOnly") is True:
            node.pop("default", None)  # openapi-core would fill it into a request, then refuse it as read-only
        for value in node.values():
            _fix_defaults(value)
    elif isinstance(node, list):
        for value in node:
            _fix_defaults(value)


@functools.cache
def spec_document() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    _fix_defaults(document)
    return document


@functools.cache
def openapi() -> OpenAPI:
    with _LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return OpenAPI.from_dict(spec_document(), config=Config(spec_validator_cls=None))


def _mock_request(method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> MockRequest:
    return MockRequest(
        HOST_URL, method.lower(), path, args=query, headers=headers, data=body or None, content_type="application/json"
    )


def request_errors(method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> list[str]:
    """Why the spec refuses this request (an empty list: it conforms)."""
    with _VALIDATING, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = openapi().unmarshal_request(_mock_request(method, path, query, headers, body))
    return [_describe(error) for error in result.errors]


def response_errors(
    method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes, status: int, content: bytes
) -> list[str]:
    """Why the spec refuses this response to this request (an empty list: it conforms)."""
    response = MockResponse(content, status_code=status, content_type="application/json")
    with _VALIDATING, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = openapi().unmarshal_response(_mock_request(method, path, query, headers, body), response)
    return [
        _describe(error)
        for error in result.errors
        # Xero answers 401/403/404/429/5xx on every path (its HTTP response codes page); the spec lists few of them
        if not (status >= 400 and type(error).__name__ == "ResponseNotFound")
    ]


@functools.cache
def identity_openapi() -> OpenAPI:
    """The Identity API spec (GET /Connections), beside the accounting one."""
    with _LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return OpenAPI.from_file_path(str(IDENTITY_PATH), config=Config(spec_validator_cls=None))


def connections_errors(content: bytes) -> list[str]:
    """Why the identity spec refuses this answer to GET /Connections."""
    request = MockRequest(HOST_URL, "get", "/Connections", headers={"Authorization": "Bearer x"})
    response = MockResponse(content, status_code=200, content_type="application/json")
    with _VALIDATING, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = identity_openapi().unmarshal_response(request, response)
    return [_describe(error) for error in result.errors]


def _describe(error: BaseException) -> str:
    cause = error.__cause__
    details = getattr(cause, "schema_errors", None) or ()
    messages = [getattr(item, "message", str(item)) for item in details]
    return f"{type(error).__name__}: {'; '.join(messages) or cause or error}"


def _resolve(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec_document()
        for part in str(node["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _body_schema(method: str, pattern: str) -> Any:
    operation = spec_document()["paths"].get(pattern, {}).get(method.lower(), {})
    body = _resolve(operation.get("requestBody"))
    if not isinstance(body, dict):
        return None
    return body.get("content", {}).get("application/json", {}).get("schema")


def unknown_fields(method: str, pattern: str, body: bytes) -> list[str]:
    """Dotted paths of the body's fields that the operation's schema does not define."""
    schema = _body_schema(method, pattern)
    if schema is None or not body:
        return []
    try:
        data = json.loads(body)
    except ValueError:
        return []
    found: list[str] = []
    _walk(data, schema, "", found)
    return found


def _walk(value: Any, schema: Any, where: str, found: list[str]) -> None:
    schema = _resolve(schema)
    if not isinstance(schema, dict):
        return
    if isinstance(value, dict):
        properties = schema.get("properties")
        if properties is None:
            return
        for key, item in value.items():
            name = f"{where}.{key}" if where else key
            if key not in properties:
                if schema.get("additionalProperties") in (None, False):
                    found.append(name)
                continue
            _walk(item, properties[key], name, found)
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            _walk(item, schema["items"], f"{where}[{index}]", found)
