"""The one authorization endpoint of the fake ledgers: a consent page as the real ones have, and the codes it hands
out (research: quickbooks.md §4, xero_freshbooks.md A4 and B2; RFC 6749 §4.1, RFC 7636).

    GET  {authorize_path}?response_type=code&client_id=..&redirect_uri=..&state=..[&scope][&code_challenge&..]
         -> 200 a consent page: its first form allows access (choosing the company where the ledger lets the owner
            choose), its second denies; an unknown client or a missing redirect is an error page, never a redirect
    POST {authorize_path}/decision
         -> 302 to redirect_uri?code=..&state=.. (QuickBooks adds realmId), or ?error=access_denied&state=..

A code is single use, lives 5 minutes (FreshBooks' documented lifetime; Intuit's and Xero's are of that order), is
bound to its client and redirect URI, and with a PKCE challenge needs the matching verifier (S256 only). What a code
grants is a token subject reaching the chosen companies (`LedgerFake.grant_companies`): one realm at Intuit, the
organisations ticked at Xero, every business of the user at FreshBooks.

The page's query and the decision's form are declared as the API routes' are (fakes/parameters.py: PAGE, DECISION):
another parameter is refused with the error page, not ignored. The token endpoints that redeem the codes declare
their forms the same way, per grant (`TokenEndpoint`, built from the parameters below by each fake's accepted.py):
a field the grant does not apply is OAuth's `invalid_request` saying it is not supported by this fake, a grant type
other than authorization_code and refresh_token is `unsupported_grant_type` saying the same.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs, urlencode

from acuity_sync_toolkit.fakes.httpserver import Request, Response
from acuity_sync_toolkit.fakes.oauth_authority import InvalidGrant, TokenPair
from acuity_sync_toolkit.fakes.parameters import (
    NotSupported,
    Param,
    Query,
    Unreadable,
    nonempty_text,
    one_of,
    supported,
)

CODE_TTL = 300.0
# What the consent page applies (RFC 6749 §4.1.1, RFC 7636 §4.3): what our connect flow sends
# (acuity_sync/auth/oauth.py authorization_url); the page carries them into its two forms.
PAGE = Query(
    (
        Param("response_type"),
        Param("client_id"),
        Param("redirect_uri"),
        Param("state"),
        Param("scope"),
        Param("code_challenge"),
        Param("code_challenge_method"),
    )
)
# What the page's forms post: the carried parameters, the decision and the companies chosen (one per checkbox).
DECISION = Query(
    (
        *(param for param in PAGE.params if param.name != "response_type"),
        Param("decision", one_of("allow", "deny")),
        Param("company", repeatable=True),
    )
)


# The fields of a token request (RFC 6749 §4.1.3, §6; RFC 7636 §4.5), for the fakes' accepted.py to declare theirs.
GRANT_TYPE = Param("grant_type", supported("authorization_code", "refresh_token"))
CODE = Param("code", nonempty_text)
REDIRECT_URI = Param("redirect_uri")
REFRESH_TOKEN = Param("refresh_token", nonempty_text)
CODE_VERIFIER = Param("code_verifier", nonempty_text)
CLIENT_ID = Param("client_id")
CLIENT_SECRET = Param("client_secret")
TOKEN = Param("token", nonempty_text)  # what a revocation revokes (RFC 7009 §2.1)


@dataclass(frozen=True, slots=True)
class TokenEndpoint:
    """What a token endpoint applies for each grant: the fields of an authorization_code request (`by_code`) and
    of a refresh_token request (`by_refresh`); a field of one grant sent with the other is refused too."""

    by_code: Query
    by_refresh: Query

    def read(
        self, form: Mapping[str, Sequence[str]], headers: Mapping[str, str] | None = None, *, where: str
    ) -> dict[str, Any]:
        """The applied fields' values (a missing grant_type is left to the fake); NotSupported or Unreadable."""
        grant = list(form.get("grant_type") or ())
        if grant == ["refresh_token"]:
            return self.by_refresh.read(form, headers, where=f"{where} (grant_type=refresh_token)")
        return self.by_code.read(form, headers, where=f"{where} (grant_type=authorization_code)")


def oauth_refusal(refused: NotSupported | Unreadable) -> tuple[str, str]:
    """OAuth's error code and description for a token or revocation request a declaration refused."""
    code = "unsupported_grant_type" if refused.name == "grant_type" else "invalid_request"
    return code, str(refused)


def form_of(body: bytes, content_type: str | None) -> dict[str, list[str]]:
    """A token or revocation request's fields, from a form or (where the API takes one) a JSON object, as lists
    of values the way a query is read (a JSON value that is not a string reads as its JSON text)."""
    if "json" in (content_type or ""):
        try:
            document = json.loads(body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return {}
        if not isinstance(document, dict):
            return {}
        return {str(key): [value if isinstance(value, str) else json.dumps(value)] for key, value in document.items()}
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


class CompanyChoice(StrEnum):
    ONE = "one"  # a select: exactly one company (Intuit's company picker)
    SEVERAL = "several"  # checkboxes: any of them (Xero's organisation list)
    ALL = "all"  # nothing to pick: the consent is the user's, for all their businesses (FreshBooks)


@dataclass(frozen=True, slots=True)
class _Code:
    companies: tuple[str, ...]
    client_id: str
    redirect_uri: str
    challenge: str | None
    expires_at: float


class ConsentAuthority:
    """One fake ledger's consent page and codes. `companies()` lists (id, name) of the companies the fake's one
    user owns; `issue(companies)` starts a grant reaching them and returns its tokens."""

    def __init__(
        self,
        *,
        app_name: str,
        authorize_path: str,
        choice: CompanyChoice,
        companies: Callable[[], Sequence[tuple[str, str]]],
        issue: Callable[[tuple[str, ...]], TokenPair],
        monotonic: Callable[[], float],
        client_id: str | None,  # None: any client id is accepted (the fake Xero keeps no client list)
        company_parameter: str = "",  # added to the redirect (QuickBooks: realmId)
    ) -> None:
        self.authorize_path = authorize_path
        self.decision_path = f"{authorize_path}/decision"
        self._app_name = app_name
        self._choice = choice
        self._companies = companies
        self._issue = issue
        self._monotonic = monotonic
        self._client_id = client_id
        self._company_parameter = company_parameter
        self._codes: dict[str, _Code] = {}
        self._lock = threading.Lock()
        self.consents = 0  # pages answered "allow" (for tests)

    def handles(self, request: Request) -> bool:
        return (request.method == "GET" and request.path == self.authorize_path) or (
            request.method == "POST" and request.path == self.decision_path
        )

    def __call__(self, request: Request) -> Response:
        try:
            if request.method == "GET":
                return self._page(PAGE.read(request.query, where=f"GET {self.authorize_path}"))
            posted = parse_qs(request.body.decode("utf-8", "replace"))
            form = DECISION.read(posted, where=f"POST {self.decision_path}")
        except (NotSupported, Unreadable) as refused:
            return self._refusal(str(refused))
        picked = form.pop("company", [])
        return self._decide(form, picked)

    # ------------------------------------------------------------------ codes

    def code_for(
        self, companies: Sequence[str], client_id: str, redirect_uri: str, challenge: str | None = None
    ) -> str:
        """A code as an allowed consent makes one (tests that skip the page use it)."""
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Code(
                tuple(companies), client_id, redirect_uri, challenge, self._monotonic() + CODE_TTL
            )
        return code

    def redeem(self, code: str, client_id: str | None, redirect_uri: str, verifier: str | None) -> TokenPair:
        """The tokens for a code, once; InvalidGrant for an unknown, used or expired code, another client or
        redirect URI, or a verifier that does not match the challenge."""
        with self._lock:
            found = self._codes.pop(code, None)
        if found is None or self._monotonic() >= found.expires_at:
            raise InvalidGrant("unknown, used or expired authorization code")
        if found.redirect_uri != redirect_uri or (client_id is not None and client_id != found.client_id):
            raise InvalidGrant("the code was issued to another client or redirect URI")
        if found.challenge is not None and not (verifier and hmac.compare_digest(_s256(verifier), found.challenge)):
            raise InvalidGrant("code_verifier does not match the code_challenge")
        return self._issue(found.companies)

    # ------------------------------------------------------------------ the page

    def _refusal(self, message: str) -> Response:
        body = (
            f"<!doctype html><title>{self._app_name}</title><h1>Something went wrong</h1><p>{html.escape(message)}</p>"
        )
        return Response(400, body.encode("utf-8"), (("Content-Type", "text/html; charset=utf-8"),))

    def _check(self, params: dict[str, str]) -> str | None:
        if params.get("response_type") != "code":
            return "response_type must be code"
        if not params.get("redirect_uri", "").startswith(("http://", "https://")):
            return "redirect_uri is missing or not an http(s) URL"
        if self._client_id is not None and params.get("client_id") != self._client_id:
            return "unknown client_id"
        if not params.get("client_id"):
            return "client_id is missing"
        if params.get("code_challenge") and params.get("code_challenge_method") != "S256":
            return "code_challenge_method must be S256"
        return None

    def _page(self, params: dict[str, str]) -> Response:
        problem = self._check(params)
        if problem is not None:
            return self._refusal(problem)
        carried = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(params[name])}">'
            for name in ("client_id", "redirect_uri", "state", "scope", "code_challenge", "code_challenge_method")
            if name in params
        )
        companies = list(self._companies())
        if self._choice is CompanyChoice.ONE:
            options = "".join(
                f'<option value="{html.escape(cid)}">{html.escape(name)}</option>' for cid, name in companies
            )
            pick = f'<label for="company">Company</label><select id="company" name="company">{options}</select>'
        elif self._choice is CompanyChoice.SEVERAL:
            pick = "".join(
                f'<label><input type="checkbox" name="company" value="{html.escape(cid)}" checked> {html.escape(name)}'
                "</label><br>"
                for cid, name in companies
            )
        else:
            pick = "<p>" + ", ".join(html.escape(name) for _, name in companies) + "</p>"
        scope = html.escape(params.get("scope", "the app's scopes"))
        body = (
            f"<!doctype html><html><head><title>{self._app_name}: allow access</title></head><body>"
            f"<h1>{self._app_name}</h1><p>Acuity sync wants access to: {scope}</p>"
            f'<form method="post" action="{self.decision_path}" id="allow">{carried}'
            f'<input type="hidden" name="decision" value="allow">{pick}'
            '<button type="submit">Allow access</button></form>'
            f'<form method="post" action="{self.decision_path}" id="deny">{carried}'
            '<input type="hidden" name="decision" value="deny"><button type="submit">Cancel</button></form>'
            "</body></html>"
        )
        return Response(200, body.encode("utf-8"), (("Content-Type", "text/html; charset=utf-8"),))

    def _decide(self, form: dict[str, str], picked: list[str]) -> Response:
        problem = self._check({"response_type": "code", **form})
        if problem is not None:
            return self._refusal(problem)
        redirect_uri, state = form["redirect_uri"], form.get("state", "")
        if form.get("decision") != "allow":
            return _redirect(redirect_uri, {"error": "access_denied", "state": state})
        known = {cid for cid, _ in self._companies()}
        chosen = sorted(known) if self._choice is CompanyChoice.ALL else [cid for cid in picked if cid in known]
        if not chosen or (self._choice is CompanyChoice.ONE and len(chosen) != 1):
            return self._refusal("choose a company to connect")
        code = self.code_for(chosen, form.get("client_id", ""), redirect_uri, form.get("code_challenge") or None)
        self.consents += 1
        parameters = {"code": code, "state": state}
        if self._company_parameter:
            parameters[self._company_parameter] = chosen[0]
        return _redirect(redirect_uri, parameters)


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode("ascii").rstrip("=")


def _redirect(redirect_uri: str, parameters: dict[str, str]) -> Response:
    location = f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{urlencode(parameters)}"
    return Response(302, b"", (("Location", location),))
