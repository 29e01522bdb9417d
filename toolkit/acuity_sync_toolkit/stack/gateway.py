"""The local gateway: API Gateway HTTP API with Lambda proxy integrations (payload format 2.0) on 127.0.0.1.

It builds the event as HTTP API does and maps the function's answer back as HTTP API does, so that a handler
that works here works behind the real API. The rules, from "Create AWS Lambda proxy integrations for HTTP
APIs" (API Gateway developer guide, payload format 2.0) unless a comment names another source:
- headers: names lower-cased; a repeated header is one entry, its values joined with commas; Cookie headers
  go to `cookies` (one entry per cookie) and not to `headers`; API Gateway adds x-forwarded-* and
  x-amzn-trace-id. `queryStringParameters`, `pathParameters`, `cookies` and `body` are left out when empty.
- the response: a dict with `statusCode` is read as {statusCode, headers, cookies, body, isBase64Encoded}
  (each cookie becomes a Set-Cookie header; format 2.0 has no multiValueHeaders); anything else is the
  body of a 200 with content-type application/json (a string as it is, any other value as JSON).
- API Gateway's own answers: 404 {"message":"Not Found"} when no route matches the path and method, 413 for
  a body over 10 MB (HTTP API's payload quota), 429 when the route's throttle (a token bucket: rate per
  second, burst) is spent, 500 {"message":"Internal Server Error"} when the function fails.
- routes: `{name}` matches one path segment, a last `{name+}` the rest of the path; the most specific route
  wins; a `$default` route takes whatever no other route matches.
Local choices: `requestContext.domainName` is the Host header (127.0.0.1:PORT), so URLs a handler builds from
it lead back here. Not modelled: HTTP API's 30-second integration timeout (503) and Lambda's 6 MB limit on
a synchronous request or response. The gateway is an app (Request -> Response) of acuity_sync_toolkit.fakes.httpserver,
which serves it: HTTP/1.1 with keep-alive, the 413 answered from the headers before the body is read.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import secrets
import string
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, unquote

from acuity_sync_toolkit.fakes.httpserver import HttpServer, Request, Response
from acuity_sync_toolkit.stack.functions import HttpRoute
from acuity_sync_toolkit.stack.lambda_runtime import LOCAL_ACCOUNT_ID, FunctionError, FunctionPool

logger = logging.getLogger(__name__)

DEFAULT_ROUTE = "$default"
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # HTTP API quota: "Maximum payload size 10 MB"
# What a route gets when the template sets no throttle: the account-level defaults of API Gateway.
DEFAULT_RATE_LIMIT = 10_000.0
DEFAULT_BURST_LIMIT = 5_000
_ID_ALPHABET = string.ascii_letters + string.digits
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# When HTTP API base64-encodes a request body (format 2.0). The docs say only "if the content type of the
# request is binary, the body is base64-encoded" and do not list the types. Checked against real AWS (HTTP
# API, payload 2.0, AWS_PROXY) in ministackorg/ministack pull request #766: the body arrives as text
# (isBase64Encoded false) only for text/* and exactly application/json, application/xml and
# application/javascript (parameters such as charset ignored); everything else is base64, including a missing
# Content-Type and application/x-www-form-urlencoded (which Acuity's webhooks use). deno_registry2 issue #33
# saw the same for form bodies.
_TEXT_MEDIA_TYPES = frozenset({"application/json", "application/xml", "application/javascript"})

_PARAMETER = re.compile(r"^\{([A-Za-z0-9_.:-]+)(\+?)\}$")

# The messages of API Gateway's own answers, {"message": ...}.
_MESSAGES = {
    400: "Bad Request",
    404: "Not Found",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


def is_text_media_type(content_type: str | None) -> bool:
    """False when HTTP API would base64-encode a body of this Content-Type (see _TEXT_MEDIA_TYPES)."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type.startswith("text/") or media_type in _TEXT_MEDIA_TYPES


class LocalGateway:
    """Serves `routes` (each an HttpRoute of the template and the pool of the function behind it)."""

    def __init__(
        self,
        routes: Sequence[tuple[HttpRoute, FunctionPool]],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_id: str = "local",
        stage: str = "$default",
    ) -> None:
        self._routes = [_Route.of(route, pool) for route, pool in routes]
        self._host = host
        self._port = port
        self.api_id = api_id
        self.stage = stage
        self._server: HttpServer | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the gateway is not started")
        return self._server.url

    def start(self) -> LocalGateway:
        if self._server is not None:
            raise RuntimeError("the gateway is already started")
        self._server = HttpServer(
            self, self._host, self._port, max_body_bytes=MAX_PAYLOAD_BYTES, error_response=_server_error
        ).start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __call__(self, request: Request) -> Response:
        """The gateway as an httpserver app."""
        return self.handle(HttpRequest.of(request)).served()

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Route one request, invoke the function and map its answer, as HTTP API does."""
        request_id = _request_id()
        match = self._match(request.method, request.path)
        if match is None:
            return _gateway_error(404, request_id)
        route, path_parameters = match
        if not route.bucket.take():
            return _gateway_error(429, request_id)
        event = build_event(request, route.route_key, path_parameters, request_id, self.api_id, self.stage)
        try:
            result = route.pool.invoke(event)
        except FunctionError as error:
            logger.info("%s failed: %s", route.route_key, error)
            return _gateway_error(500, request_id)
        except RuntimeError:  # the pool is closed: the stack is stopping
            return _gateway_error(500, request_id)
        try:
            response = map_response(result)
        except _MalformedResponse as error:
            logger.info("%s answered a malformed response: %s", route.route_key, error)
            return _gateway_error(500, request_id)
        return response.with_header("apigw-requestid", request_id)

    def _match(self, method: str, path: str) -> tuple[_Route, dict[str, str]] | None:
        """The most specific route that matches, as API Gateway picks it: literal segments before variables,
        variables before a greedy {name+}, a named method before ANY."""
        segments = _segments(path)
        candidates = [
            (route, parameters)
            for route in self._routes
            if route.accepts(method) and (parameters := route.match(segments)) is not None
        ]
        if not candidates:
            return None
        return min(candidates, key=lambda candidate: candidate[0].rank)


# ---------------------------------------------------------------------------------------------------------
# Requests and responses.
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    path: str  # as received, still percent-encoded
    query: str  # the raw query string, without "?"
    headers: tuple[tuple[str, str], ...]  # as received: names as sent, repeats kept
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"
    server_port: int = 0

    @classmethod
    def of(cls, request: Request) -> HttpRequest:
        return cls(
            method=request.method,
            path=request.path,
            query=request.raw_query,
            headers=tuple(request.headers.multi_items()),
            body=request.body,
            source_ip=request.client_host,
            protocol=request.protocol,
            server_port=request.server_port,
        )


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def with_header(self, name: str, value: str) -> HttpResponse:
        return HttpResponse(self.status, (*self.headers, (name, value)), self.body)

    def header_values(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    def served(self) -> Response:
        """As httpserver sends it; it adds date, content-length and, when it closes the connection, connection."""
        return Response(self.status, self.body, self.headers)


def build_event(
    request: HttpRequest,
    route_key: str,
    path_parameters: dict[str, str],
    request_id: str,
    api_id: str,
    stage: str,
) -> dict[str, Any]:
    """The Lambda event of payload format 2.0 for one request."""
    headers, cookies = _event_headers(request)
    now_ms = int(time.time() * 1000)
    domain_name = headers.get("host", f"{api_id}.execute-api.localhost")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.path,
        "rawQueryString": request.query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if query_parameters := _query_parameters(request.query):
        event["queryStringParameters"] = query_parameters
    event["requestContext"] = {
        "accountId": LOCAL_ACCOUNT_ID,
        "apiId": api_id,
        "domainName": domain_name,
        "domainPrefix": domain_name.split(".", 1)[0],
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": route_key,
        "stage": stage,
        "time": _clf_time(now_ms),
        "timeEpoch": now_ms,
    }
    if path_parameters:
        event["pathParameters"] = path_parameters
    event.update(_event_body(request))
    return event


def _event_headers(request: HttpRequest) -> tuple[dict[str, str], list[str]]:
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
        else:
            headers[key] = f"{headers[key]},{value}" if key in headers else value
    # What API Gateway adds in front of the integration.
    forwarded_for = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded_for}, {request.source_ip}" if forwarded_for else request.source_ip
    headers["x-forwarded-port"] = str(request.server_port)
    headers["x-forwarded-proto"] = "http"
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}")
    return headers, cookies


def _query_parameters(raw_query: str) -> dict[str, str]:
    parameters: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
    return parameters


def _event_body(request: HttpRequest) -> dict[str, Any]:
    if not request.body:
        return {"isBase64Encoded": False}
    content_type = next((value for name, value in request.headers if name.lower() == "content-type"), None)
    if is_text_media_type(content_type):
        return {"body": request.body.decode("utf-8", errors="replace"), "isBase64Encoded": False}
    return {"body": base64.b64encode(request.body).decode("ascii"), "isBase64Encoded": True}


def _request_id() -> str:
    # HTTP API's request ids look like "JKJaXmPLvHcESHA=": 15 letters and digits and one "=".
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(15)) + "="


def _clf_time(epoch_ms: int) -> str:
    """12/Mar/2020:19:03:58 +0000, with English month names whatever the locale."""
    moment = time.gmtime(epoch_ms / 1000)
    month = _MONTHS[moment.tm_mon - 1]
    return f"{moment.tm_mday:02d}/{month}/{moment.tm_year}:{time.strftime('%H:%M:%S', moment)} +0000"


class _MalformedResponse(ValueError):
    """A function answer API Gateway would refuse (it answers 500 then)."""


# Headers API Gateway sets itself on the way out.
_HOP_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})


def map_response(result: Any) -> HttpResponse:
    """The HTTP response API Gateway sends for a function's answer (format 2.0)."""
    if not (isinstance(result, dict) and "statusCode" in result):
        body = result if isinstance(result, str) else json.dumps(result)
        return HttpResponse(200, (("content-type", "application/json"),), body.encode("utf-8"))
    status = result["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise _MalformedResponse(f"statusCode {status!r}")
    headers = [
        (name, value) for name, value in _response_headers(result.get("headers")) if name.lower() not in _HOP_HEADERS
    ]
    headers.extend(("set-cookie", cookie) for cookie in _response_cookies(result.get("cookies")))
    if not any(name.lower() == "content-type" for name, _ in headers):
        # HTTP API's default when the function names none (fujiwara/ridge pull request #9; awslabs/
        # aws-lambda-go-api-proxy issue #116): not application/json as REST APIs do.
        headers.append(("content-type", "text/plain; charset=utf-8"))
    return HttpResponse(status, tuple(headers), _response_body(result))


def _response_headers(headers: Any) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if not isinstance(headers, dict):
        raise _MalformedResponse("headers is not an object")
    return [(str(name), _header_value(value)) for name, value in headers.items()]


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise _MalformedResponse(f"header value {value!r}")


def _response_cookies(cookies: Any) -> list[str]:
    if cookies is None:
        return []
    if not isinstance(cookies, list) or not all(isinstance(cookie, str) for cookie in cookies):
        raise _MalformedResponse("cookies is not a list of strings")
    return cookies


def _response_body(result: dict[str, Any]) -> bytes:
    body = result.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise _MalformedResponse("body is not a string")
    if not result.get("isBase64Encoded"):
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error as error:
        raise _MalformedResponse(f"body is not base64: {error}") from None


def _gateway_error(status: int, request_id: str) -> HttpResponse:
    message = _MESSAGES.get(status) or HTTPStatus(status).phrase
    body = json.dumps({"message": message}, separators=(",", ":")).encode("utf-8")
    return HttpResponse(status, (("content-type", "application/json"), ("apigw-requestid", request_id)), body)


def _server_error(status: int) -> Response:
    """What the server answers itself (400 bad framing, 413 a body over MAX_PAYLOAD_BYTES, 500), as API Gateway."""
    return _gateway_error(status, _request_id()).served()


# ---------------------------------------------------------------------------------------------------------
# Routes and throttling.
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Segment:
    text: str  # the literal, or the variable's name
    variable: bool = False
    greedy: bool = False


@dataclass(frozen=True, slots=True)
class _Route:
    route: HttpRoute
    pool: FunctionPool
    segments: tuple[_Segment, ...]
    bucket: _TokenBucket

    @classmethod
    def of(cls, route: HttpRoute, pool: FunctionPool) -> _Route:
        if route.payload_format_version != "2.0":
            raise ValueError(f"{route.method} {route.path}: only payload format 2.0 is built here")
        segments = () if route.path == DEFAULT_ROUTE else tuple(_parse_segment(text) for text in _segments(route.path))
        if any(segment.greedy for segment in segments[:-1]):
            raise ValueError(f"{route.path}: a greedy variable must be the last segment")
        rate = route.throttling_rate_limit if route.throttling_rate_limit is not None else DEFAULT_RATE_LIMIT
        burst = route.throttling_burst_limit if route.throttling_burst_limit is not None else DEFAULT_BURST_LIMIT
        return cls(route, pool, segments, _TokenBucket(rate, burst))

    @property
    def catch_all(self) -> bool:
        """The $default route: any method, any path, when no other route matches."""
        return self.route.path == DEFAULT_ROUTE

    @property
    def route_key(self) -> str:
        return DEFAULT_ROUTE if self.catch_all else f"{self.route.method.upper()} {self.route.path}"

    @property
    def rank(self) -> tuple[bool, bool, int, bool, int]:
        variables = sum(segment.variable for segment in self.segments)
        greedy = any(segment.greedy for segment in self.segments)
        return (self.catch_all, greedy, variables, self.route.method.upper() == "ANY", -len(self.segments))

    def accepts(self, method: str) -> bool:
        return self.catch_all or self.route.method.upper() in (method.upper(), "ANY")

    def match(self, path: tuple[str, ...]) -> dict[str, str] | None:
        if self.catch_all:
            return {}
        parameters: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.greedy:
                rest = path[index:]
                if not rest or not all(rest):
                    return None
                parameters[segment.text] = unquote("/".join(rest))
                return parameters
            if index >= len(path) or not path[index]:
                return None
            if segment.variable:
                parameters[segment.text] = unquote(path[index])
            elif unquote(path[index]) != segment.text:
                return None
        return parameters if len(path) == len(self.segments) else None


def _segments(path: str) -> tuple[str, ...]:
    stripped = path[1:] if path.startswith("/") else path
    return tuple(stripped.split("/")) if stripped else ()


def _parse_segment(text: str) -> _Segment:
    variable = _PARAMETER.match(text)
    if variable is None:
        return _Segment(text)
    return _Segment(variable.group(1), variable=True, greedy=variable.group(2) == "+")


@dataclass(slots=True)
class _TokenBucket:
    """API Gateway's throttle: `burst` requests at once, refilled at `rate` a second."""

    rate: float
    burst: int
    _tokens: float = field(init=False)
    _stamp: float = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._tokens = float(self.burst)
        self._stamp = time.monotonic()

    def take(self) -> bool:
        with self._lock:
            now = time.monotonic()
            self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True
