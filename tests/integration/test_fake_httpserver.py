"""The fakes' HTTP server on real sockets: routing, request parsing, chunked bodies, its own 404/405/500 answers,
keep-alive and a clean stop."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from acuity_sync_toolkit.fakes.httpserver import HttpServer, Request, Response, Router, empty, json_response


def _echo(request: Request) -> Response:
    return json_response(
        {
            "method": request.method,
            "path": request.path,
            "params": dict(request.path_params),
            "query": {key: list(values) for key, values in request.query.items()},
            "header": request.headers.get("x-test"),
            "body": request.body.decode(),
        }
    )


def _boom(request: Request) -> Response:
    raise RuntimeError("handler failed")


@pytest.fixture
def echo_server() -> Iterator[HttpServer]:
    router = Router()
    router.add("POST", "/things/{id}", _echo)
    router.add("GET", "/things/{id}", _echo)
    router.add("DELETE", "/things/{id}", lambda _request: empty())
    router.add("GET", "/boom", _boom)
    with HttpServer(router) as server:
        yield server


def test_server_routes_and_parses_requests(echo_server: HttpServer) -> None:
    assert echo_server.url.startswith("http://127.0.0.1:")
    assert echo_server.port > 0
    answer = httpx.post(
        f"{echo_server.url}/things/7?a=1&a=2&b=", content=b"raw bytes", headers={"X-Test": "yes"}
    ).json()
    assert answer == {
        "method": "POST",
        "path": "/things/7",
        "params": {"id": "7"},
        "query": {"a": ["1", "2"], "b": [""]},
        "header": "yes",
        "body": "raw bytes",
    }
    assert httpx.delete(f"{echo_server.url}/things/7").status_code == 204


def test_server_reads_chunked_bodies(echo_server: HttpServer) -> None:
    answer = httpx.post(f"{echo_server.url}/things/1", content=iter([b"one ", b"two"]))
    assert answer.json()["body"] == "one two"


def test_server_answers_404_405_and_500(echo_server: HttpServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert httpx.get(f"{echo_server.url}/nothing").status_code == 404
    refused = httpx.put(f"{echo_server.url}/things/1")
    assert refused.status_code == 405
    assert refused.headers["allow"] == "DELETE, GET, POST"
    assert httpx.get(f"{echo_server.url}/boom").status_code == 500
    assert capsys.readouterr().err == "", "quiet: no access log or traceback on stderr"


def test_server_keeps_connections_alive_and_stops_cleanly() -> None:
    server = HttpServer(Router()).start()
    port = server.port
    with httpx.Client() as client:
        first = client.get(f"{server.url}/x")
        second = client.get(f"{server.url}/x")
        assert first.status_code == second.status_code == 404
        assert first.headers.get("connection") != "close"
        server.stop()
    assert not server.running
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_server_refuses_to_start_twice() -> None:
    with HttpServer(Router()) as server, pytest.raises(RuntimeError):
        server.start()
