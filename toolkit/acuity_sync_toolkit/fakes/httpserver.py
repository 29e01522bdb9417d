"""A tiny routing HTTP server on the standard library, shared by the local fakes (Acuity, QuickBooks, Xero, ...).

An app is any callable from `Request` to `Response`; `Router` is one. `HttpServer` serves an app from a daemon
thread on 127.0.0.1 (port 0 = ephemeral), speaks HTTP/1.1 with keep-alive, and is quiet: no access log on stderr.
The server answers some requests itself, with `error_response(status)`: 400 when the body's framing is broken,
413 when the body is longer than `max_body_bytes` (answered from the headers, before the body is read), 500 when
the app raises. It adds Date, Content-Length and, when it closes the connection, Connection unless the app's
response has them; nothing else (no Server header).

    router = Router()

    @router.route("GET", "/api/v1/appointments/{id}")
    def get_appointment(request: Request) -> Response:
        return json_response({"id": int(request.path_params["id"])})

    with HttpServer(router) as server:
        httpx.get(f"{server.url}/api/v1/appointments/1")
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import re
import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

logger = logging.getLogger(__name__)

App = Callable[["Request"], "Response"]

# Idle keep-alive connections are dropped after this, so their threads do not linger.
_IDLE_CONNECTION_SECONDS = 30.0


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only headers; `get_all` returns every value of a repeated header."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = list(items)
        self._first: dict[str, str] = {}
        for name, value in self._items:
            self._first.setdefault(name.lower(), value)

    def __getitem__(self, name: str) -> str:
        return self._first[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._first

    def __iter__(self) -> Iterator[str]:
        return iter(self._first)

    def __len__(self) -> int:
        return len(self._first)

    def get_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self._items if key.lower() == wanted]

    def multi_items(self) -> list[tuple[str, str]]:
        """Every header as received: names as sent, repeats kept, in order."""
        return list(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str  # as received, still percent-encoded
    query: Mapping[str, list[str]]  # a multi-dict: ?a=1&a=2 -> {"a": ["1", "2"]}
    headers: Headers
    body: bytes
    client_host: str = "127.0.0.1"
    path_params: Mapping[str, str] = field(default_factory=dict)
    raw_query: str = ""  # the query string as received, without "?"
    protocol: str = "HTTP/1.1"  # of the request line
    server_port: int = 0  # the port the request came in on

    def query_one(self, name: str, default: str | None = None) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def json(self, **loads_kwargs: Any) -> Any:
        """The body parsed as JSON; raises ValueError (json.JSONDecodeError) when it is not JSON."""
        return json.loads(self.body.decode("utf-8"), **loads_kwargs)

    def with_path_params(self, params: Mapping[str, str]) -> Request:
        return dataclasses.replace(self, path_params=dict(params))


@dataclass(frozen=True, slots=True)
class Response:
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(data, separators=(",", ":")).encode("utf-8")
    extra = tuple((headers or {}).items())
    return Response(status=status, body=body, headers=(("Content-Type", "application/json"), *extra))


def empty(status: int = 204, headers: Mapping[str, str] | None = None) -> Response:
    return Response(status=status, headers=tuple((headers or {}).items()))


def status(code: int, text: str | None = None) -> Response:
    """A plain-text response whose body is the reason phrase unless `text` is given."""
    message = text if text is not None else HTTPStatus(code).phrase
    return Response(status=code, body=message.encode("utf-8"), headers=(("Content-Type", "text/plain; charset=utf-8"),))


_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """`/appointments/{id}` -> a regex whose named groups match one path segment each."""
    parts: list[str] = []
    position = 0
    for match in _PARAM.finditer(pattern):
        parts.append(re.escape(pattern[position : match.start()]))
        parts.append(f"(?P<{match.group(1)}>[^/]+)")
        position = match.end()
    parts.append(re.escape(pattern[position:]))
    return re.compile("".join(parts) + r"\Z")


@dataclass(frozen=True, slots=True)
class _Route:
    method: str
    pattern: str
    regex: re.Pattern[str]
    handler: App


def _default_not_found(request: Request) -> Response:  # noqa: ARG001 - a Router hook
    return status(404)


def _default_method_not_allowed(request: Request, allowed: list[str]) -> Response:  # noqa: ARG001
    return Response(
        status=405,
        body=b"Method Not Allowed",
        headers=(("Allow", ", ".join(sorted(set(allowed)))), ("Content-Type", "text/plain; charset=utf-8")),
    )


class Router:
    """A route table: the first route whose pattern matches the path and whose method matches wins; `before`, when
    given, sees the route's pattern and the request first (a fake checks the request's parameters there)."""

    def __init__(
        self,
        *,
        not_found: App = _default_not_found,
        method_not_allowed: Callable[[Request, list[str]], Response] = _default_method_not_allowed,
        before: Callable[[str, Request], None] | None = None,
    ) -> None:
        self._routes: list[_Route] = []
        self._not_found = not_found
        self._method_not_allowed = method_not_allowed
        self._before = before  # called with the matched route's pattern before its handler (it may raise)

    def add(self, method: str, pattern: str, handler: App) -> None:
        self._routes.append(_Route(method.upper(), pattern, compile_pattern(pattern), handler))

    def route(self, method: str, pattern: str) -> Callable[[App], App]:
        def register(handler: App) -> App:
            self.add(method, pattern, handler)
            return handler

        return register

    def __call__(self, request: Request) -> Response:
        allowed: list[str] = []
        for route in self._routes:
            match = route.regex.match(request.path)
            if match is None:
                continue
            if route.method != request.method:
                allowed.append(route.method)
                continue
            routed = request.with_path_params(match.groupdict())
            if self._before is not None:
                self._before(route.pattern, routed)
            return route.handler(routed)
        if allowed:
            return self._method_not_allowed(request, allowed)
        return self._not_found(request)


class _Unreadable(Exception):
    """The request's body cannot be read to its end: answer `status`, then close the connection."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes: do not wait 40 ms for an ACK
    timeout = _IDLE_CONNECTION_SECONDS
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        # Quiet by default: the access log goes to logging at DEBUG, never straight to stderr.
        logger.debug("%s - %s", self.address_string(), format % args)

    def _serve(self) -> None:
        try:
            request = self._read_request()
        except _Unreadable as error:
            # The rest of the body is never read, so this connection cannot carry another request.
            self.close_connection = True
            self._write_response(self.server.error_response(error.status))
            return
        try:
            response = self.server.app(request)
        except Exception:
            logger.exception("unhandled error in %s %s", request.method, request.path)
            response = self.server.error_response(500)
        self._write_response(response)

    def _read_request(self) -> Request:
        split = urlsplit(self.path)
        return Request(
            method=self.command,
            path=split.path or "/",
            query=parse_qs(split.query, keep_blank_values=True),
            headers=Headers(self.headers.items()),
            body=self._read_body(),
            client_host=self.client_address[0],
            raw_query=split.query,
            protocol=self.request_version,
            server_port=int(self.server.server_address[1]),
        )

    def _read_body(self) -> bytes:
        limit = self.server.max_body_bytes
        try:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                return self._read_chunked(limit)
            length = _non_negative(self.headers.get("Content-Length") or "0", 10)
        except ValueError:
            raise _Unreadable(400) from None
        if limit is not None and length > limit:
            raise _Unreadable(413)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self, limit: int | None) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size = _non_negative(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                # Trailers end with an empty line.
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            total += size
            if limit is not None and total > limit:
                raise _Unreadable(413)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _write_response(self, response: Response) -> None:
        self.log_request(response.status)
        self.send_response_only(response.status)
        names = {name.lower() for name, _ in response.headers}
        if "date" not in names:
            self.send_header("Date", self.date_time_string())
        for name, value in response.headers:
            self.send_header(name, value)
        if "content-length" not in names:
            self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection and "connection" not in names:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve  # noqa: N815


def _non_negative(text: str | bytes, base: int) -> int:
    value = int(text, base)
    if value < 0:
        raise ValueError(f"negative length {value}")
    return value


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        app: App,
        max_body_bytes: int | None,
        error_response: Callable[[int], Response],
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.error_response = error_response
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        """Wake threads blocked on idle keep-alive connections so that they end now."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:  # noqa: ARG002 - the stdlib's signature
        # A client hanging up mid-request is normal for a test server: log it, do not print a traceback.
        logger.debug("connection error from %s", client_address, exc_info=True)


class Startable:
    """Something that runs between `start()` (which returns it) and `stop()`; `with` does both."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class HttpServer(Startable):
    """Serves `app` on `host:port` from a daemon thread; `start()` returns once it accepts connections.

    `max_body_bytes` (None: no limit) and `error_response` (the response for a status the server answers itself:
    400, 413, 500) are described in the module's docstring."""

    def __init__(
        self,
        app: App,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_body_bytes: int | None = None,
        error_response: Callable[[int], Response] = status,
    ) -> None:
        self._app = app
        self._host = host
        self._port = port
        self._max_body_bytes = max_body_bytes
        self._error_response = error_response
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("server already started")
        server = _Server((self._host, self._port), self._app, self._max_body_bytes, self._error_response)
        thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name=f"http-{server.server_address[1]}", daemon=True
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("server not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"
