"""The local gateway: HTTP API payload format 2.0 events in, Lambda proxy responses out, API Gateway's errors."""

from __future__ import annotations

import base64
import http.client
import json
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model
from pydantic import BaseModel

from acuity_sync_toolkit.stack.functions import FunctionSpec, HttpRoute
from acuity_sync_toolkit.stack.gateway import MAX_PAYLOAD_BYTES, LocalGateway, is_text_media_type, map_response
from acuity_sync_toolkit.stack.lambda_runtime import FunctionPool

ROOT = Path(__file__).resolve().parents[2]
ECHO = FunctionSpec(
    logical_id="EchoFunction",
    code_dir=ROOT / "tests" / "fixtures" / "functions" / "echo",
    handler="app.lambda_handler",
    layer_dirs=(ROOT / "layers" / "core",),
    runtime="python3.11",
    timeout_seconds=5,
    memory_mb=128,
    environment={},
)
WEBHOOK = HttpRoute("POST", "/webhooks/acuity/{tenant_id}")
FILE = HttpRoute("GET", "/files/readme")
FILES = HttpRoute("GET", "/files/{path+}")
ANY_ITEM = HttpRoute("ANY", "/items/{id}")
THROTTLED = HttpRoute("POST", "/throttled", throttling_burst_limit=2, throttling_rate_limit=0.01)
REQUEST_ID = re.compile(r"^[A-Za-z0-9]{15}=$")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.header_values(name)
        return values[0] if values else None

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def event(self) -> dict[str, Any]:
        event: dict[str, Any] = self.json()["event"]
        return event


@pytest.fixture(scope="module")
def pool() -> Iterator[FunctionPool]:
    with FunctionPool(ECHO, max_workers=2) as function_pool:
        function_pool.warm(1)
        yield function_pool


@pytest.fixture(scope="module")
def gateway(pool: FunctionPool) -> Iterator[LocalGateway]:
    routes = [(route, pool) for route in (WEBHOOK, FILE, FILES, ANY_ITEM, THROTTLED)]
    with LocalGateway(routes) as local_gateway:
        yield local_gateway


def send(
    gateway: LocalGateway,
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes | None = None,
) -> Answer:
    """One request with exactly these header lines (repeats and case kept), on a fresh connection."""
    host, port = gateway.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return Answer(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


def respond_with(gateway: LocalGateway, response: Any) -> Answer:
    """Have the function answer `response` as its return value."""
    body = json.dumps({"response": response}).encode()
    headers = [("Content-Type", "application/json"), ("x-echo-action", "respond")]
    return send(gateway, "POST", "/webhooks/acuity/t1", headers, body)


def test_a_form_post_becomes_a_format_2_event(gateway: LocalGateway) -> None:
    form = b"action=appointment.changed&id=42&calendarID=7&appointmentTypeID=3"
    before_ms = int(time.time() * 1000)
    answer = send(
        gateway,
        "POST",
        "/webhooks/acuity/tenant-123?b=2&a=1&a=3&empty=&sp=x%20y",
        [
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("X-Acuity-Signature", "c2lnbmF0dXJl"),
            ("X-Dup", "one"),
            ("x-dup", "two"),
            ("Mixed-CASE-Header", "Value"),
            ("Cookie", "session=abc; theme=dark"),
            ("Cookie", "late=1"),
            ("User-Agent", "AcuityScheduling/1.0"),
        ],
        form,
    )
    after_ms = int(time.time() * 1000)

    assert answer.status == 200
    event = answer.event
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /webhooks/acuity/{tenant_id}"
    assert event["rawPath"] == "/webhooks/acuity/tenant-123"
    assert event["rawQueryString"] == "b=2&a=1&a=3&empty=&sp=x%20y"
    assert event["queryStringParameters"] == {"b": "2", "a": "1,3", "empty": "", "sp": "x y"}
    assert event["pathParameters"] == {"tenant_id": "tenant-123"}
    assert event["cookies"] == ["session=abc", "theme=dark", "late=1"]
    headers = event["headers"]
    assert all(name == name.lower() for name in headers)
    assert "cookie" not in headers
    assert headers["x-dup"] == "one,two"
    assert headers["mixed-case-header"] == "Value"
    assert headers["x-acuity-signature"] == "c2lnbmF0dXJl"
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert headers["content-length"] == str(len(form))
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-amzn-trace-id"].startswith("Root=1-")
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == form

    context = event["requestContext"]
    port = gateway.url.rsplit(":", 1)[1]
    assert context["accountId"] == "123456789012"
    assert context["apiId"] == "local"
    assert context["domainName"] == f"127.0.0.1:{port}" == headers["host"]
    assert context["domainPrefix"] == "127"
    assert context["http"] == {
        "method": "POST",
        "path": "/webhooks/acuity/tenant-123",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "AcuityScheduling/1.0",
    }
    assert context["routeKey"] == event["routeKey"]
    assert context["stage"] == "$default"
    assert REQUEST_ID.match(context["requestId"])
    assert answer.header("apigw-requestid") == context["requestId"]
    assert before_ms <= context["timeEpoch"] <= after_ms
    parsed = datetime.strptime(context["time"], "%d/%b/%Y:%H:%M:%S %z")
    assert abs(parsed.timestamp() * 1000 - context["timeEpoch"]) < 1000
    assert context["time"].endswith(" +0000")


def test_each_request_gets_its_own_request_id(gateway: LocalGateway) -> None:
    ids = {send(gateway, "GET", "/files/readme").event["requestContext"]["requestId"] for _ in range(3)}

    assert len(ids) == 3


def test_empty_parts_are_left_out_of_the_event(gateway: LocalGateway) -> None:
    event = send(gateway, "GET", "/files/readme").event

    for absent in ("cookies", "queryStringParameters", "pathParameters", "body"):
        assert absent not in event
    assert event["rawQueryString"] == ""
    assert event["isBase64Encoded"] is False
    assert event["routeKey"] == "GET /files/readme"


@pytest.mark.parametrize(
    ("content_type", "encoded"),
    [
        ("application/json", False),
        ("application/json; charset=utf-8", False),
        ("TEXT/PLAIN", False),
        ("text/csv", False),
        ("application/xml", False),
        ("application/javascript", False),
        ("application/x-www-form-urlencoded", True),
        ("application/octet-stream", True),
        ("image/png", True),
        ("application/vnd.api+json", True),
        (None, True),
    ],
)
def test_the_body_is_base64_unless_its_type_is_text(
    gateway: LocalGateway, content_type: str | None, encoded: bool
) -> None:
    body = '{"name": "Zoë"}'.encode()
    headers = [("Content-Type", content_type)] if content_type else []

    event = send(gateway, "POST", "/webhooks/acuity/t1", headers, body).event

    assert is_text_media_type(content_type) is not encoded
    assert event["isBase64Encoded"] is encoded
    assert (base64.b64decode(event["body"]) if encoded else event["body"].encode()) == body


def keys_the_model_ignores(data: Any, parsed: Any, where: str = "$") -> list[str]:
    """Keys of `data` that the parsed model does not hold (pydantic ignores unknown keys: a misspelt one would pass)."""
    if isinstance(data, dict) and isinstance(parsed, dict):
        return [f"{where}.{key}" for key in data if key not in parsed] + [
            ignored
            for key in data
            if key in parsed
            for ignored in keys_the_model_ignores(data[key], parsed[key], f"{where}.{key}")
        ]
    if isinstance(data, list) and isinstance(parsed, list):
        return [
            ignored for item, held in zip(data, parsed, strict=True) for ignored in keys_the_model_ignores(item, held)
        ]
    return []


def as_held(model: BaseModel) -> Any:
    return model.model_dump(by_alias=True, exclude_unset=True)


FORM = ("Content-Type", "application/x-www-form-urlencoded")


@pytest.mark.parametrize(
    ("method", "target", "headers", "body", "encoded"),
    [
        ("POST", "/webhooks/acuity/t1?a=1&a=2", [FORM, ("Cookie", "s=1; t=2")], b"action=changed&id=1", True),
        ("POST", "/webhooks/acuity/t1", [("Content-Type", "application/json")], b'{"id": 1}', False),
        ("GET", "/files/readme", [], None, False),
        ("GET", "/files/docs/guide.md?q=x%20y", [("User-Agent", "test")], None, False),
        ("PATCH", "/items/9", [("Content-Type", "application/octet-stream")], b"\x00\x01", True),
    ],
)
def test_every_event_is_one_powertools_parses_as_http_api_v2(
    gateway: LocalGateway, method: str, target: str, headers: list[tuple[str, str]], body: bytes | None, encoded: bool
) -> None:
    event = send(gateway, method, target, headers, body).event

    parsed = APIGatewayProxyEventV2Model.model_validate(event)

    assert keys_the_model_ignores(event, as_held(parsed)) == []
    assert parsed.requestContext.http.method == method
    assert parsed.rawPath == target.split("?", maxsplit=1)[0]
    assert parsed.routeKey == event["routeKey"]
    assert parsed.requestContext.requestId == event["requestContext"]["requestId"]
    assert parsed.isBase64Encoded is encoded


def test_the_most_specific_route_wins(gateway: LocalGateway) -> None:
    literal = send(gateway, "GET", "/files/readme").event
    greedy = send(gateway, "GET", "/files/docs/guide/intro.md").event
    any_method = send(gateway, "DELETE", "/items/9").event

    assert literal["routeKey"] == "GET /files/readme"
    assert greedy["routeKey"] == "GET /files/{path+}"
    assert greedy["pathParameters"] == {"path": "docs/guide/intro.md"}
    assert any_method["routeKey"] == "ANY /items/{id}"
    assert any_method["requestContext"]["http"]["method"] == "DELETE"


def test_the_default_route_takes_what_no_other_route_matches(pool: FunctionPool) -> None:
    routes = [(WEBHOOK, pool), (HttpRoute("ANY", "$default"), pool)]
    with LocalGateway(routes) as local_gateway:
        unmatched = send(local_gateway, "GET", "/anything/at/all?x=1").event
        matched = send(local_gateway, "POST", "/webhooks/acuity/t1", body=b"").event

    assert unmatched["routeKey"] == unmatched["requestContext"]["routeKey"] == "$default"
    assert "pathParameters" not in unmatched
    assert matched["routeKey"] == "POST /webhooks/acuity/{tenant_id}"


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("POST", "/nowhere"),
        ("GET", "/webhooks/acuity/t1"),  # the path exists, for POST only
        ("POST", "/webhooks/acuity/t1/extra"),
        ("POST", "/webhooks/acuity/"),
        ("GET", "/files"),
    ],
)
def test_no_matching_route_is_404(gateway: LocalGateway, method: str, target: str) -> None:
    answer = send(gateway, method, target, body=b"" if method == "POST" else None)

    assert answer.status == 404
    assert answer.json() == {"message": "Not Found"}
    assert answer.header("content-type") == "application/json"
    assert REQUEST_ID.match(answer.header("apigw-requestid") or "")


def test_a_structured_response_maps_status_headers_cookies_and_body(gateway: LocalGateway) -> None:
    answer = respond_with(
        gateway,
        {
            "statusCode": 201,
            "headers": {"Content-Type": "text/html", "X-Custom": "yes", "X-Number": 7},
            "cookies": ["a=1; Path=/", "b=2; HttpOnly"],
            "body": "<p>made</p>",
        },
    )

    assert answer.status == 201
    assert answer.header("content-type") == "text/html"
    assert answer.header("x-custom") == "yes"
    assert answer.header("x-number") == "7"
    assert answer.header_values("set-cookie") == ["a=1; Path=/", "b=2; HttpOnly"]
    assert answer.body == b"<p>made</p>"


def test_a_base64_response_body_is_sent_decoded(gateway: LocalGateway) -> None:
    raw = bytes(range(256))
    answer = respond_with(
        gateway,
        {
            "statusCode": 200,
            "headers": {"content-type": "application/octet-stream"},
            "isBase64Encoded": True,
            "body": base64.b64encode(raw).decode(),
        },
    )

    assert answer.status == 200
    assert answer.body == raw
    assert answer.header("content-length") == "256"


@pytest.mark.parametrize(
    ("response", "body"),
    [({"hello": "world"}, b'{"hello": "world"}'), ([1, 2], b"[1, 2]"), ("plain words", b"plain words")],
)
def test_a_response_without_status_code_is_a_json_200(gateway: LocalGateway, response: Any, body: bytes) -> None:
    answer = respond_with(gateway, response)

    assert answer.status == 200
    assert answer.header("content-type") == "application/json"
    assert answer.body == body


def test_a_status_code_without_content_type_gets_http_apis_default(gateway: LocalGateway) -> None:
    answer = respond_with(gateway, {"statusCode": 204})

    assert answer.status == 204
    assert answer.header("content-type") == "text/plain; charset=utf-8"
    assert answer.body == b""


@pytest.mark.parametrize(
    "response",
    [
        {"statusCode": "200"},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "isBase64Encoded": True, "body": "not base64!"},
        {"statusCode": 200, "cookies": "a=1"},
    ],
)
def test_a_malformed_response_is_500(gateway: LocalGateway, response: dict[str, Any]) -> None:
    answer = respond_with(gateway, response)

    assert answer.status == 500
    assert answer.json() == {"message": "Internal Server Error"}


@pytest.mark.parametrize("action", ["raise", "exit"])
def test_a_failing_function_is_500_and_the_next_request_is_served(gateway: LocalGateway, action: str) -> None:
    failed = send(gateway, "POST", "/webhooks/acuity/t1", [("x-echo-action", action)], b"")
    after = send(gateway, "POST", "/webhooks/acuity/t1", body=b"")

    assert failed.status == 500
    assert failed.json() == {"message": "Internal Server Error"}
    assert failed.header("content-type") == "application/json"
    assert after.status == 200


def test_a_route_over_its_throttle_is_429(gateway: LocalGateway) -> None:
    statuses = [send(gateway, "POST", "/throttled", body=b"").status for _ in range(2)]
    throttled = send(gateway, "POST", "/throttled", body=b"")
    other_route = send(gateway, "POST", "/webhooks/acuity/t1", body=b"")

    assert statuses == [200, 200]
    assert throttled.status == 429
    assert throttled.json() == {"message": "Too Many Requests"}
    assert other_route.status == 200


def test_a_body_over_10_mb_is_413_and_never_reaches_the_function(gateway: LocalGateway) -> None:
    host, port = gateway.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.putrequest("POST", "/webhooks/acuity/t1")
        connection.putheader("Content-Length", str(MAX_PAYLOAD_BYTES + 1))
        connection.endheaders()  # the body is never sent: the gateway must answer from the headers
        response = connection.getresponse()
        status, body = response.status, response.read()
    finally:
        connection.close()

    assert status == 413
    assert json.loads(body) == {"message": "Request Entity Too Large"}


def test_keep_alive_connections_carry_several_requests(gateway: LocalGateway) -> None:
    host, port = gateway.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        statuses = []
        for _ in range(3):
            connection.request("POST", "/webhooks/acuity/t1", body=b"id=1")
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
    finally:
        connection.close()

    assert statuses == [200, 200, 200]


def test_a_stopped_gateway_no_longer_listens() -> None:
    with FunctionPool(ECHO, max_workers=1) as pool:
        local_gateway = LocalGateway([(WEBHOOK, pool)]).start()
        url = local_gateway.url
        local_gateway.stop()
        local_gateway.stop()  # idempotent

        host, port = url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=2)
        with pytest.raises(ConnectionRefusedError):
            connection.request("GET", "/")
        assert pool.cold_starts == 0  # nothing was invoked


def test_map_response_reads_a_powertools_style_answer() -> None:
    response = map_response(
        {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "body": '{"ok":true}',
            "isBase64Encoded": False,
            "multiValueHeaders": {"X-Ignored": ["a", "b"]},  # not part of format 2.0
        }
    )

    assert response.status == 200
    assert response.header_values("content-type") == ["application/json"]
    assert response.header_values("x-ignored") == []
    assert response.body == b'{"ok":true}'
