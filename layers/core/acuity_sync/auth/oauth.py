"""The OAuth2 endpoints of each ledger: refresh a token, and for the connect flow the consent's URL (with a PKCE
challenge where the ledger takes one), the code's exchange and the revocation of a grant.

No library does this for us on purpose: a library that refreshes by itself would rotate a refresh token behind
the back of the lease in auth/tokens.py, and with single-use refresh tokens (Xero, FreshBooks) that loses the
connection. Every call here is one HTTP request; the caller decides about retries.

Each ledger's endpoint and its rules (client authentication, token lifetimes, whether it wants our redirect URI
with a refresh) are its declaration's `oauth` (ledgers/<ledger>/__init__.py, with the research behind them);
`OAuthProvider.for_ledger` reads them from the registry.

Tokens and the client secret are `Secret`s: revealed only into the request, never into a log line or an
exception text (an error carries the status, the OAuth error code and the provider's request id).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from acuity_sync.domain.grant import TokenGrant
from acuity_sync.domain.names import LedgerName
from acuity_sync.ledgers.base import ClientAuthentication, OAuthRules
from acuity_sync.ledgers.registry import ledger_declaration
from acuity_sync.secret import Secret

logger = logging.getLogger(__name__)

Clock = Callable[[], float]  # seconds since the epoch, like time.time


DEFAULT_TIMEOUT = 5.0  # seconds, per phase (connect, write, read, pool): token endpoints answer in well under one
_TIMEOUT_PHASES = 4  # httpx applies the timeout to each phase: the worst case is this many times it
_ERROR_CODE = re.compile(r"[a-z_]{1,64}")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,80}")
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9._~+/=-]{20,}")  # anything that might be a token, in a description
_DESCRIPTION_CHARS = 160
_MAX_LIFETIME_SECONDS = 10 * 366 * 24 * 3600.0


# ------------------------------------------------------------------------------------------------ errors


class OAuthError(Exception):
    """A token request failed. The text names the ledger, the status and the OAuth error code, never a token."""

    def __init__(self, message: str, *, status: int | None = None, error: str = "", request_id: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.error = error  # the OAuth error code ("invalid_grant", ...), "" when none was readable
        self.request_id = request_id  # the provider's id for this request (Intuit's intuit_tid), for support


class InvalidGrant(OAuthError):
    """400 invalid_grant: the refresh token (or code) is unknown, expired, revoked or already used."""


class InvalidClient(OAuthError):
    """Our client id or secret was refused (invalid_client, unauthorized_client): our configuration, not the
    tenant's connection."""


class TokenRequestRejected(OAuthError):
    """Another 4xx (invalid_request, unsupported_grant_type, invalid_scope, ...): a request we built wrongly."""


class TokenEndpointUnavailable(OAuthError):
    """5xx, 429, a timeout, a dropped connection or an answer we cannot read: try again later.

    The request may have been processed: a refresh token may have been used up (see auth/tokens.py)."""


# ------------------------------------------------------------------------------------------------ configuration


@dataclass(frozen=True, slots=True)
class OAuthProvider:
    """One ledger's token endpoint and our app's credentials there."""

    ledger: LedgerName
    token_url: str
    client_id: str
    client_secret: Secret = field(repr=False)
    client_authentication: ClientAuthentication = ClientAuthentication.HTTP_BASIC
    access_lifetime: timedelta = timedelta(hours=1)  # when the answer has no expires_in
    refresh_lifetime: timedelta | None = None  # when the answer has no refresh expiry; None: it never expires
    redirect_uri: str = ""  # sent with a refresh too when set (FreshBooks' SDK does)
    timeout: float = DEFAULT_TIMEOUT

    @property
    def worst_case_seconds(self) -> float:
        """The longest one token request can take before httpx gives up: a lease must outlast it."""
        return _TIMEOUT_PHASES * self.timeout

    @classmethod
    def for_ledger(
        cls,
        ledger: LedgerName,
        client_id: str,
        client_secret: Secret,
        *,
        redirect_uri: str = "",
        token_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> OAuthProvider:
        """Our app at the ledger's token endpoint, by the ledger's declared rules. `token_url` replaces the
        production endpoint (the local stack's fakes); `redirect_uri` is required where the rules want it."""
        rules = ledger_declaration(ledger).oauth
        if rules.wants_redirect_uri and not redirect_uri:
            raise ValueError(f"the {ledger} token endpoint wants our redirect URI with every refresh")
        return cls(
            ledger=LedgerName(ledger),
            token_url=token_url or rules.token_url,
            client_id=client_id,
            client_secret=client_secret,
            client_authentication=rules.client_authentication,
            access_lifetime=rules.access_lifetime,
            refresh_lifetime=rules.refresh_lifetime,
            redirect_uri=redirect_uri,
            timeout=timeout,
        )


# ------------------------------------------------------------------------------------------------ requests


def refresh(
    provider: OAuthProvider, refresh_token: Secret, http: httpx.Client, *, clock: Clock = time.time
) -> TokenGrant:
    """New tokens for `refresh_token`. Raises InvalidGrant, InvalidClient, TokenRequestRejected or
    TokenEndpointUnavailable. When the answer holds no refresh token, the one sent stays in use."""
    return _token_request(
        provider,
        {"grant_type": "refresh_token", "refresh_token": refresh_token.reveal()},
        http,
        clock=clock,
        previous_refresh_token=refresh_token,
    )


def exchange_code(
    provider: OAuthProvider,
    code: Secret,
    redirect_uri: str,
    http: httpx.Client,
    *,
    clock: Clock = time.time,
    code_verifier: Secret | None = None,
) -> TokenGrant:
    """The first tokens of a connection, for the code the consent redirect brought back (the connect flow), with
    the PKCE verifier when the consent carried its challenge."""
    fields = {"grant_type": "authorization_code", "code": code.reveal(), "redirect_uri": redirect_uri}
    if code_verifier is not None:
        fields["code_verifier"] = code_verifier.reveal()
    return _token_request(provider, fields, http, clock=clock, previous_refresh_token=None)


# ------------------------------------------------------------------------------------------------ consent


def pkce_challenge(verifier: Secret) -> str:
    """RFC 7636 S256: BASE64URL(SHA256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.reveal().encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def authorization_url(
    rules: OAuthRules,
    client_id: str,
    redirect_uri: str,
    state: str,
    *,
    authorize_url: str | None = None,
    code_verifier: Secret | None = None,
) -> str:
    """Where the owner is sent to consent: response_type=code, our client, the redirect, the ledger's scopes (when
    it names any), the state, and the PKCE challenge when a verifier is given. `authorize_url` replaces the
    production endpoint (the local stack's fakes)."""
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri}
    if rules.scopes:
        query["scope"] = " ".join(rules.scopes)
    query["state"] = state
    if code_verifier is not None:
        query["code_challenge"] = pkce_challenge(code_verifier)
        query["code_challenge_method"] = "S256"
    endpoint = authorize_url or rules.authorize_url
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"


def revoke(provider: OAuthProvider, revoke_url: str, token: Secret, http: httpx.Client) -> None:
    """Revoke the grant `token` belongs to: POST `{"token"}` with the client as the provider authenticates it
    (Intuit: HTTP Basic; FreshBooks: in the JSON body). Raises TokenEndpointUnavailable or another OAuthError."""
    headers = {"Accept": "application/json"}
    body: dict[str, str] = {"token": token.reveal()}
    if provider.client_authentication is ClientAuthentication.HTTP_BASIC:
        headers["Authorization"] = _basic(provider.client_id, provider.client_secret)
    else:
        body |= {"client_id": provider.client_id, "client_secret": provider.client_secret.reveal()}
    try:
        response = http.post(revoke_url, json=body, headers=headers, timeout=provider.timeout, follow_redirects=False)
    except httpx.TransportError as error:
        raise TokenEndpointUnavailable(
            f"{provider.ledger} revocation endpoint unreachable ({type(error).__name__})"
        ) from None
    if response.status_code in (200, 204):
        return
    raise _error(provider, response, _request_id(response))


def _token_request(
    provider: OAuthProvider,
    fields: dict[str, str],
    http: httpx.Client,
    *,
    clock: Clock,
    previous_refresh_token: Secret | None,
) -> TokenGrant:
    sent_at = clock()
    headers = {"Accept": "application/json"}
    # Redirects are never followed, whatever the client's default: a redirected POST would carry the secrets on.
    try:
        if provider.client_authentication is ClientAuthentication.HTTP_BASIC:
            headers["Authorization"] = _basic(provider.client_id, provider.client_secret)
            response = http.post(
                provider.token_url, data=fields, headers=headers, timeout=provider.timeout, follow_redirects=False
            )
        else:
            body = {**fields, "client_id": provider.client_id, "client_secret": provider.client_secret.reveal()}
            if provider.redirect_uri and "redirect_uri" not in body:
                body["redirect_uri"] = provider.redirect_uri
            response = http.post(
                provider.token_url, json=body, headers=headers, timeout=provider.timeout, follow_redirects=False
            )
    except httpx.TimeoutException as error:
        raise TokenEndpointUnavailable(f"{provider.ledger} token endpoint timed out ({type(error).__name__})") from None
    except httpx.TransportError as error:
        # `from None`: the chained httpx error holds the request, and the request holds the token.
        raise TokenEndpointUnavailable(
            f"{provider.ledger} token endpoint unreachable ({type(error).__name__})"
        ) from None

    request_id = _request_id(response)
    logger.debug("%s token endpoint answered %s (request id %s)", provider.ledger, response.status_code, request_id)
    if response.status_code == 200:
        return _grant(provider, response, sent_at, previous_refresh_token, request_id)
    raise _error(provider, response, request_id)


def _request_id(response: httpx.Response) -> str:
    # Intuit's transaction id: `Intuit-Tid` in recorded traffic, `intuit_tid` where Intuit's own SDK reads it.
    value = response.headers.get("intuit-tid") or response.headers.get("intuit_tid") or ""
    return value if _REQUEST_ID.fullmatch(value) else ""


def _basic(client_id: str, client_secret: Secret) -> str:
    # As Intuit's and Xero's own SDKs send it: not form-urlencoded first (RFC 6749 §2.3.1 says to, but servers
    # that do not decode would then refuse a secret with a '+' or '/'; the ids and secrets are URL-safe anyway).
    pair = f"{client_id}:{client_secret.reveal()}"
    return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


def _grant(
    provider: OAuthProvider,
    response: httpx.Response,
    sent_at: float,
    previous_refresh_token: Secret | None,
    request_id: str,
) -> TokenGrant:
    document = _json_object(response)
    access = document.get("access_token") if document is not None else None
    if document is None or not isinstance(access, str) or not access:
        # The endpoint may have used the refresh token up and we cannot read what it gave in return.
        raise TokenEndpointUnavailable(
            f"{provider.ledger} token endpoint answered 200 without a readable access token",
            status=200,
            request_id=request_id,
        )
    refresh_value = document.get("refresh_token")
    if isinstance(refresh_value, str) and refresh_value:
        refresh_token = Secret(refresh_value)
    elif previous_refresh_token is not None:
        refresh_token = previous_refresh_token  # RFC 6749 §6: the server may keep the refresh token as it is
    else:
        raise TokenEndpointUnavailable(
            f"{provider.ledger} token endpoint answered without a refresh token", status=200, request_id=request_id
        )
    access_seconds = _seconds(document.get("expires_in"))
    refresh_seconds = _seconds(document.get("x_refresh_token_expires_in"))
    start = datetime.fromtimestamp(sent_at, UTC)
    access_expires_at = start + (
        timedelta(seconds=access_seconds) if access_seconds is not None else provider.access_lifetime
    )
    if refresh_seconds is not None:
        refresh_expires_at: datetime | None = start + timedelta(seconds=refresh_seconds)
    elif provider.refresh_lifetime is not None:
        refresh_expires_at = start + provider.refresh_lifetime
    else:
        refresh_expires_at = None
    return TokenGrant(Secret(access), refresh_token, access_expires_at, refresh_expires_at)


def _error(provider: OAuthProvider, response: httpx.Response, request_id: str) -> OAuthError:
    status = response.status_code
    document = _json_object(response)
    raw_code = document.get("error") if document is not None else None
    code = raw_code if isinstance(raw_code, str) and _ERROR_CODE.fullmatch(raw_code) else ""
    description = _description(document)
    what = f"{provider.ledger} token endpoint answered {status}" + (f" {code}" if code else "") + description
    if request_id:
        what += f" (request id {request_id})"
    if status >= 500 or status == 429:
        return TokenEndpointUnavailable(what, status=status, error=code, request_id=request_id)
    if code == "invalid_grant":
        return InvalidGrant(what, status=status, error=code, request_id=request_id)
    if code in {"invalid_client", "unauthorized_client"} or (status == 401 and not code):
        return InvalidClient(what, status=status, error=code, request_id=request_id)
    return TokenRequestRejected(what, status=status, error=code, request_id=request_id)


def _description(document: Mapping[str, Any] | None) -> str:
    value = document.get("error_description") if document is not None else None
    if not isinstance(value, str) or not value.strip():
        return ""
    # Providers word these for people, but nothing promises they never echo a token: mask anything token-like.
    text = _TOKEN_LIKE.sub("[redacted]", " ".join(value.split()))[:_DESCRIPTION_CHARS]
    return f": {text}"


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        document = json.loads(response.content)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _seconds(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    # A lifetime we cannot believe (negative, NaN, centuries) is ignored: the provider's default applies.
    return number if math.isfinite(number) and 0 < number <= _MAX_LIFETIME_SECONDS else None
