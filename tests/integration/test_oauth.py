"""The token endpoint client (auth/oauth.py) over HTTP: against the fake QuickBooks's own token endpoint, and
against `TokenEndpoint`, which serves a `TokenAuthority` with each ledger's rules the way that ledger's endpoint is
reached (HTTP Basic and a form for Intuit and Xero, the client credentials in a JSON body for FreshBooks) and
injects the faults the fake QuickBooks cannot at its token endpoint (5xx, 429, slowness, an answer held back).
tests/integration/test_tokens.py uses it too.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs

import httpx
import pytest

from acuity_sync.auth.oauth import (
    InvalidClient,
    InvalidGrant,
    OAuthError,
    OAuthProvider,
    TokenEndpointUnavailable,
    TokenRequestRejected,
    exchange_code,
    refresh,
)
from acuity_sync.domain.names import LedgerName
from acuity_sync.secret import Secret
from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.httpserver import HttpServer, Request, Response, json_response
from acuity_sync_toolkit.fakes.oauth_authority import DAY, HOUR, TokenAuthority, TokenPair
from acuity_sync_toolkit.fakes.oauth_authority import InvalidGrant as AuthorityInvalidGrant

if TYPE_CHECKING:
    from acuity_sync_toolkit.fakes.quickbooks import FakeQuickBooks

Style = Literal["quickbooks", "xero", "freshbooks"]
PATHS: dict[Style, str] = {
    "quickbooks": "/oauth2/v1/tokens/bearer",
    "xero": "/connect/token",
    "freshbooks": "/auth/oauth/token",
}
CLIENT_ID = "ABcdClientId0123"
CLIENT_SECRET = "s3cr3t-Client-Secret-value"
REDIRECT_URI = "https://app.example.test/connect/freshbooks/callback"


def authority_for(style: Style, clock: FakeClock) -> TokenAuthority:
    """Each ledger's token rules (DESIGN.md "Tokens"; the fake QuickBooks uses TokenAuthority.quickbooks)."""
    if style == "quickbooks":
        return TokenAuthority.quickbooks(clock)
    if style == "xero":
        return TokenAuthority(
            clock, access_ttl=30 * 60, refresh_ttl=60 * DAY, rotation="single_use", old_refresh_grace=30 * 60
        )
    return TokenAuthority(clock, access_ttl=12 * HOUR, refresh_ttl=36500 * DAY, rotation="single_use")


class TokenEndpoint:
    """A ledger's token endpoint over a TokenAuthority, with the faults tests need.

    `outage` answers that status to everything; `delay` sleeps before answering; `hold()` makes the next refresh
    do its work at the authority and then wait, before answering, until `release()`: the moment to kill the
    process that asked (a crash between the endpoint's answer and the store)."""

    def __init__(self, authority: TokenAuthority, style: Style) -> None:
        self.authority = authority
        self.style = style
        self.path = PATHS[style]
        self.outage: int | None = None
        self.delay = 0.0
        self.requests = 0
        self.bodies: list[dict[str, Any]] = []  # what arrived, for the tests that check the wire format
        self.codes: dict[str, str] = {}  # authorization code -> subject
        self._lock = threading.Lock()
        self._hold = False
        self.answered = threading.Event()
        self._released = threading.Event()

    def issue(self, subject: str) -> TokenPair:
        """A consent: the first tokens of a grant."""
        return self.authority.issue(subject)

    def hold(self) -> None:
        self._hold = True
        self.answered.clear()
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    def __call__(self, request: Request) -> Response:
        if request.method != "POST" or request.path != self.path:
            return json_response({"error": "not_found"}, status=404)
        with self._lock:
            self.requests += 1
        if self.delay:
            time.sleep(self.delay)
        if self.outage is not None:
            return Response(status=self.outage, body=b"<html>Service Unavailable</html>")
        fields, client = self._read(request)
        with self._lock:
            self.bodies.append({**fields, "_authorization": request.headers.get("authorization", "")})
        if client != (CLIENT_ID, CLIENT_SECRET):
            return json_response({"error": "invalid_client"}, status=401)
        grant_type = fields.get("grant_type")
        try:
            if grant_type == "refresh_token":
                pair = self.authority.refresh(str(fields.get("refresh_token", "")))
            elif grant_type == "authorization_code" and str(fields.get("code")) in self.codes:
                pair = self.authority.issue(self.codes.pop(str(fields["code"])))
            elif grant_type == "authorization_code":
                raise AuthorityInvalidGrant("unknown code")
            else:
                return json_response({"error": "unsupported_grant_type"}, status=400)
        except AuthorityInvalidGrant:
            return json_response({"error": "invalid_grant"}, status=400)
        answer = pair.as_json()
        if self.style != "quickbooks":
            del answer["x_refresh_token_expires_in"]  # only Intuit says when the refresh token lapses
        if self.style == "freshbooks":
            answer.update(token_type="Bearer", created_at=int(time.time()), scope="user:profile:read")
        if self._hold:
            self._hold = False
            self.answered.set()
            self._released.wait(timeout=60)
        return json_response(answer)

    def _read(self, request: Request) -> tuple[dict[str, Any], tuple[str, str] | None]:
        if self.style == "freshbooks":
            try:
                body = request.json()
            except ValueError:
                return {}, None
            if not isinstance(body, dict):
                return {}, None
            return body, (str(body.get("client_id")), str(body.get("client_secret")))
        fields = {name: values[0] for name, values in parse_qs(request.body.decode("utf-8")).items()}
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return fields, None
        try:
            client_id, _, secret = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return fields, None
        return fields, (client_id, secret)


def provider_for(style: Style, base_url: str, *, secret: str = CLIENT_SECRET, timeout: float = 2.0) -> OAuthProvider:
    url = base_url + PATHS[style]
    if style == "quickbooks":
        return OAuthProvider.for_ledger(
            LedgerName.QUICKBOOKS, CLIENT_ID, Secret(secret), token_url=url, timeout=timeout
        )
    if style == "xero":
        return OAuthProvider.for_ledger(LedgerName.XERO, CLIENT_ID, Secret(secret), token_url=url, timeout=timeout)
    return OAuthProvider.for_ledger(
        LedgerName.FRESHBOOKS, CLIENT_ID, Secret(secret), redirect_uri=REDIRECT_URI, token_url=url, timeout=timeout
    )


# ------------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(params=["quickbooks", "xero", "freshbooks"])
def style(request: pytest.FixtureRequest) -> Style:
    value: Style = request.param
    return value


@pytest.fixture
def endpoint(style: Style) -> Iterator[tuple[TokenEndpoint, str]]:
    fake = TokenEndpoint(authority_for(style, FakeClock()), style)
    with HttpServer(fake) as server:
        yield fake, server.url


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


def assert_secret_free(error: BaseException, *secrets: str) -> None:
    """Neither the text nor the repr of the error or anything chained to it holds a token or the client secret."""
    seen: BaseException | None = error
    while seen is not None:
        for text in (str(seen), repr(seen), repr(seen.args)):
            for secret in (*secrets, CLIENT_SECRET):
                assert secret not in text
        seen = seen.__cause__ or seen.__context__


# ------------------------------------------------------------------------------------------------ success


def test_refresh_returns_new_tokens_the_authority_accepts(
    endpoint: tuple[TokenEndpoint, str], style: Style, http: httpx.Client
) -> None:
    fake, url = endpoint
    issued = fake.authority.issue("company-1")
    sent_at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC).timestamp()

    grant = refresh(provider_for(style, url), Secret(issued.refresh_token), http, clock=lambda: sent_at)

    assert fake.authority.check_access(grant.access_token.reveal()) == "company-1"
    assert grant.refresh_token.reveal() != issued.refresh_token  # every ledger rotates it
    start = datetime.fromtimestamp(sent_at, UTC)
    lifetimes = {"quickbooks": 3600, "xero": 1800, "freshbooks": 12 * 3600}
    assert grant.access_expires_at == start + timedelta(seconds=lifetimes[style])
    if style == "quickbooks":  # Intuit says when the refresh token lapses: 100 days from now
        assert grant.refresh_expires_at == start + timedelta(days=100)
    elif style == "xero":  # no expiry in the answer: unused for 60 days
        assert grant.refresh_expires_at == start + timedelta(days=60)
    else:  # FreshBooks' refresh token never expires
        assert grant.refresh_expires_at is None
    assert fake.authority.refreshes == 1


def test_each_ledger_gets_its_client_authentication(
    endpoint: tuple[TokenEndpoint, str], style: Style, http: httpx.Client
) -> None:
    fake, url = endpoint
    issued = fake.authority.issue("company-1")
    refresh(provider_for(style, url), Secret(issued.refresh_token), http)

    (body,) = fake.bodies
    if style == "freshbooks":
        assert body["_authorization"] == ""
        assert body["client_id"] == CLIENT_ID
        assert body["client_secret"] == CLIENT_SECRET
        assert body["redirect_uri"] == REDIRECT_URI
    else:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        assert body["_authorization"] == f"Basic {expected}"
        assert "client_secret" not in body
    assert body["grant_type"] == "refresh_token"
    assert body["refresh_token"] == issued.refresh_token


def test_exchange_code_starts_a_grant(endpoint: tuple[TokenEndpoint, str], style: Style, http: httpx.Client) -> None:
    fake, url = endpoint
    fake.codes["the-code"] = "company-9"

    grant = exchange_code(provider_for(style, url), Secret("the-code"), REDIRECT_URI, http)

    assert fake.authority.check_access(grant.access_token.reveal()) == "company-9"
    assert fake.authority.issued == 1
    assert fake.bodies[0]["redirect_uri"] == REDIRECT_URI


def test_an_answer_without_a_refresh_token_keeps_the_one_sent(http: httpx.Client) -> None:
    def app(request: Request) -> Response:
        return json_response({"access_token": "new-access", "token_type": "bearer", "expires_in": "3600"})

    with HttpServer(app) as server:
        grant = refresh(provider_for("quickbooks", server.url), Secret("kept-refresh"), http, clock=lambda: 0.0)

    assert grant.refresh_token == Secret("kept-refresh")
    assert grant.access_expires_at == datetime.fromtimestamp(3600, UTC)  # a numeric string is read too


@pytest.mark.parametrize("expires_in", [-5, 0, "soon", None, True, 1e308])
def test_an_unbelievable_lifetime_falls_back_to_the_ledgers(http: httpx.Client, expires_in: object) -> None:
    def app(request: Request) -> Response:
        return json_response({"access_token": "a", "refresh_token": "r", "expires_in": expires_in})

    with HttpServer(app) as server:
        grant = refresh(provider_for("xero", server.url), Secret("r0"), http, clock=lambda: 0.0)

    assert grant.access_expires_at == datetime.fromtimestamp(1800, UTC)


# ------------------------------------------------------------------------------------------------ refusals


def test_a_used_up_refresh_token_is_invalid_grant(
    endpoint: tuple[TokenEndpoint, str], style: Style, http: httpx.Client
) -> None:
    fake, url = endpoint
    unknown = "AB11-never-issued-refresh-token-0123456789"

    with pytest.raises(InvalidGrant) as caught:
        refresh(provider_for(style, url), Secret(unknown), http)

    assert (caught.value.status, caught.value.error) == (400, "invalid_grant")
    assert str(caught.value) == f"{style} token endpoint answered 400 invalid_grant"
    assert_secret_free(caught.value, unknown)
    assert fake.authority.invalid_grants == 1


def test_a_revoked_grant_is_invalid_grant(
    endpoint: tuple[TokenEndpoint, str], style: Style, http: httpx.Client
) -> None:
    fake, url = endpoint
    issued = fake.authority.issue("company-1")
    fake.authority.revoke_subject("company-1")

    with pytest.raises(InvalidGrant) as caught:
        refresh(provider_for(style, url), Secret(issued.refresh_token), http)
    assert_secret_free(caught.value, issued.refresh_token, issued.access_token)


def test_a_wrong_client_secret_is_invalid_client(
    endpoint: tuple[TokenEndpoint, str], style: Style, http: httpx.Client
) -> None:
    fake, url = endpoint
    issued = fake.authority.issue("company-1")
    wrong = "the-wrong-client-secret-value"

    with pytest.raises(InvalidClient) as caught:
        refresh(provider_for(style, url, secret=wrong), Secret(issued.refresh_token), http)

    assert (caught.value.status, caught.value.error) == (401, "invalid_client")
    assert_secret_free(caught.value, wrong, issued.refresh_token)
    assert fake.authority.refreshes == 0


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_server_errors_and_throttling_are_unavailable(
    endpoint: tuple[TokenEndpoint, str], style: Style, http: httpx.Client, status: int
) -> None:
    fake, url = endpoint
    issued = fake.authority.issue("company-1")
    fake.outage = status

    with pytest.raises(TokenEndpointUnavailable) as caught:
        refresh(provider_for(style, url), Secret(issued.refresh_token), http)

    assert caught.value.status == status
    assert_secret_free(caught.value, issued.refresh_token)


def test_a_timeout_is_unavailable(endpoint: tuple[TokenEndpoint, str], style: Style, http: httpx.Client) -> None:
    fake, url = endpoint
    issued = fake.authority.issue("company-1")
    fake.delay = 1.0

    with pytest.raises(TokenEndpointUnavailable, match="timed out") as caught:
        refresh(provider_for(style, url, timeout=0.2), Secret(issued.refresh_token), http)

    assert caught.value.__cause__ is None  # the httpx error holds the request, and the request the token
    assert_secret_free(caught.value, issued.refresh_token)


def test_a_refused_connection_is_unavailable(http: httpx.Client) -> None:
    with HttpServer(lambda _request: Response()) as server:
        url = server.url
    with pytest.raises(TokenEndpointUnavailable, match="unreachable") as caught:
        refresh(provider_for("quickbooks", url), Secret("AB11-refresh-token-value-0123456789"), http)
    assert_secret_free(caught.value, "AB11-refresh-token-value-0123456789")


@pytest.mark.parametrize(
    "body",
    [b"<html>ok</html>", b"[]", b'{"token_type": "bearer"}', b'{"access_token": 42, "refresh_token": "r"}'],
)
def test_a_200_without_a_readable_access_token_is_unavailable(http: httpx.Client, body: bytes) -> None:
    with (
        HttpServer(lambda _request: Response(200, body)) as server,
        pytest.raises(TokenEndpointUnavailable, match="without a readable access token"),
    ):
        refresh(provider_for("quickbooks", server.url), Secret("r0"), http)


def test_other_client_errors_are_rejected_requests(http: httpx.Client) -> None:
    def app(request: Request) -> Response:
        return json_response({"error": "unsupported_grant_type", "error_description": "no such grant"}, status=400)

    with HttpServer(app) as server, pytest.raises(TokenRequestRejected) as caught:
        refresh(provider_for("xero", server.url), Secret("r0"), http)

    assert str(caught.value) == "xero token endpoint answered 400 unsupported_grant_type: no such grant"


def test_a_description_that_echoes_a_token_is_masked(http: httpx.Client) -> None:
    token = "AB11a8f3kd0s9fjq2oe8rut7gh5jd8e9w0q1"

    def app(request: Request) -> Response:
        description = f"Token {token} is not valid for client {CLIENT_SECRET}"
        return json_response({"error": "invalid_grant", "error_description": description}, status=400)

    with HttpServer(app) as server, pytest.raises(InvalidGrant) as caught:
        refresh(provider_for("quickbooks", server.url), Secret(token), http)

    assert "[redacted]" in str(caught.value)
    assert_secret_free(caught.value, token)


def test_an_error_code_that_is_not_a_code_is_not_quoted(http: httpx.Client) -> None:
    def app(request: Request) -> Response:
        return json_response({"error": "Bearer AB11secretlooking/value"}, status=400)

    with HttpServer(app) as server, pytest.raises(TokenRequestRejected) as caught:
        refresh(provider_for("quickbooks", server.url), Secret("r0"), http)

    assert caught.value.error == ""
    assert "AB11" not in str(caught.value)


def test_nothing_secret_is_logged(
    endpoint: tuple[TokenEndpoint, str], style: Style, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    fake, url = endpoint
    issued = fake.authority.issue("company-1")
    caplog.set_level(logging.DEBUG)

    grant = refresh(provider_for(style, url), Secret(issued.refresh_token), http)
    with pytest.raises(OAuthError):
        refresh(provider_for(style, url), Secret("AB11-never-issued-0123456789abcdef"), http)
    fake.outage = 503
    with pytest.raises(OAuthError):
        refresh(provider_for(style, url), grant.refresh_token, http)

    logged = caplog.text + json.dumps([record.args for record in caplog.records], default=str)
    for secret in (issued.refresh_token, grant.refresh_token.reveal(), grant.access_token.reveal(), CLIENT_SECRET):
        assert secret not in logged
    assert "Secret('********')" in repr(grant)
    assert CLIENT_SECRET not in repr(provider_for(style, url))


# ------------------------------------------------------------------------------------------------ the fake QuickBooks


@pytest.fixture
def qbo() -> Iterator[FakeQuickBooks]:
    # Imported here: tests/integration/test_tokens.py's spawned workers import this module and need none of it.
    from acuity_sync_toolkit.fakes.quickbooks import FakeQuickBooks

    with FakeQuickBooks(clock=FakeClock(frozen=True), client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as fake:
        fake.add_company("9130355")
        yield fake


def test_fake_quickbooks_refresh_rotates_and_the_old_token_lasts_a_day(qbo: FakeQuickBooks, http: httpx.Client) -> None:
    provider = provider_for("quickbooks", qbo.url)
    issued = qbo.issue_tokens("9130355")

    grant = refresh(provider, Secret(issued.refresh_token), http, clock=lambda: 0.0)

    assert qbo.authority.check_access(grant.access_token.reveal()) == "9130355"
    assert grant.refresh_token.reveal() != issued.refresh_token
    assert grant.access_expires_at == datetime.fromtimestamp(3600, UTC)
    assert grant.refresh_expires_at == datetime.fromtimestamp(100 * DAY, UTC)
    # What makes a crash between the answer and the store harmless for QuickBooks: the superseded token still
    # refreshes for 24 hours, and not after.
    qbo.clock.advance(23 * HOUR)
    again = refresh(provider, Secret(issued.refresh_token), http)
    assert qbo.authority.check_access(again.access_token.reveal()) == "9130355"
    qbo.clock.advance(2 * HOUR)
    with pytest.raises(InvalidGrant):
        refresh(provider, Secret(issued.refresh_token), http)
    assert qbo.authority.check_access(refresh(provider, again.refresh_token, http).access_token.reveal()) == "9130355"


def test_fake_quickbooks_refuses_a_revoked_grant(qbo: FakeQuickBooks, http: httpx.Client) -> None:
    issued = qbo.issue_tokens("9130355")
    qbo.authority.revoke_subject("9130355")

    with pytest.raises(InvalidGrant) as caught:
        refresh(provider_for("quickbooks", qbo.url), Secret(issued.refresh_token), http)

    assert (caught.value.status, caught.value.error) == (400, "invalid_grant")
    assert caught.value.request_id.startswith("1-")  # Intuit's intuit_tid, kept for support
    assert_secret_free(caught.value, issued.refresh_token)


def test_fake_quickbooks_refuses_a_wrong_client_secret(qbo: FakeQuickBooks, http: httpx.Client) -> None:
    issued = qbo.issue_tokens("9130355")

    with pytest.raises(InvalidClient) as caught:
        refresh(provider_for("quickbooks", qbo.url, secret="not-the-secret"), Secret(issued.refresh_token), http)

    assert (caught.value.status, caught.value.error) == (401, "invalid_client")
    assert_secret_free(caught.value, "not-the-secret", issued.refresh_token)
    assert qbo.authority.refreshes == 0


def test_a_redirect_is_never_followed() -> None:
    followed: list[str] = []

    def elsewhere(request: Request) -> Response:
        followed.append(request.body.decode())
        return json_response({"access_token": "a", "refresh_token": "r"})

    with (
        HttpServer(elsewhere) as other,
        HttpServer(lambda _request: Response(307, headers=(("Location", other.url + "/steal"),))) as server,
        httpx.Client(follow_redirects=True) as http,
        pytest.raises(TokenRequestRejected, match="answered 307"),
    ):
        refresh(provider_for("quickbooks", server.url), Secret("AB11-refresh-token-0123456789"), http)
    assert followed == []
