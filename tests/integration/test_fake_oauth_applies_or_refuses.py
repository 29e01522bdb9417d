"""The fake ledgers' OAuth and identity endpoints apply or refuse each field, as their APIs take them: the token
endpoint per grant (consent.TokenEndpoint, each fake's accepted.TOKEN), the revocations (QuickBooks, FreshBooks:
accepted.REVOKE), Xero's /connections (accepted.CONNECTIONS) and FreshBooks' users/me (accepted.ME). What our code
sends (acuity_sync/auth/oauth.py exchange_code, refresh, revoke; the connect flow's find_companies and
release_company) is accepted; a made-up field, or a real one the fake does not apply, is a 400 saying it is not
supported by this fake."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from acuity_sync.auth.oauth import InvalidGrant, OAuthProvider, exchange_code, refresh, revoke
from acuity_sync.domain.names import LedgerName
from acuity_sync.ledgers.base import GrantedAccess
from acuity_sync.ledgers.freshbooks import connect as freshbooks_connect
from acuity_sync.ledgers.xero import connect as xero_connect
from acuity_sync.secret import Secret
from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.freshbooks import FakeFreshBooks
from acuity_sync_toolkit.fakes.quickbooks import FakeQuickBooks
from acuity_sync_toolkit.fakes.service import LedgerFake
from acuity_sync_toolkit.fakes.xero import FakeXero

COMPANY = {"freshbooks": "ABC123", "quickbooks": "9341453050298", "xero": "6c0b1fc7-7b5e-4e0e-9a3c-1f2d3e4f5a6b"}
CLIENT = "local-client"
SECRET = "local-secret"
REDIRECT = "https://sync.example.com/connect/callback"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
NOT_SUPPORTED = "not supported by this fake"
TOKEN_PATH = {"freshbooks": "/auth/oauth/token", "quickbooks": "/oauth2/v1/tokens/bearer", "xero": "/connect/token"}
REVOKE_PATH = {"freshbooks": "/auth/oauth/revoke", "quickbooks": "/v2/oauth2/tokens/revoke"}
LEDGERS = ["freshbooks", "quickbooks", "xero"]


def _fake(ledger: str) -> LedgerFake:
    clock = FakeClock(frozen=True)
    if ledger == "freshbooks":
        freshbooks = FakeFreshBooks(clock=clock, client_id=CLIENT, client_secret=SECRET)
        freshbooks.add_business(COMPANY[ledger], name="Studio Nord")
        return freshbooks
    if ledger == "quickbooks":
        quickbooks = FakeQuickBooks(clock=clock, client_id=CLIENT, client_secret=SECRET)
        quickbooks.add_company(COMPANY[ledger])
        return quickbooks
    xero = FakeXero(clock=clock)
    xero.add_organisation(COMPANY[ledger], name="Studio Nord")
    return xero


@pytest.fixture(params=LEDGERS)
def ledger(request: pytest.FixtureRequest) -> Iterator[tuple[str, LedgerFake, httpx.Client]]:
    with _fake(request.param) as fake, httpx.Client(base_url=fake.url, timeout=30, follow_redirects=False) as http:
        yield request.param, fake, http


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def _code(name: str, fake: LedgerFake) -> str:
    """A code as the consent page hands out (Xero's with the PKCE challenge our connect flow sends)."""
    challenge = _challenge(VERIFIER) if name == "xero" else None
    code: str = fake.consent.code_for([COMPANY[name]], CLIENT, REDIRECT, challenge)  # type: ignore[attr-defined]
    return code


def _provider(name: str, fake: LedgerFake) -> OAuthProvider:
    return OAuthProvider.for_ledger(
        LedgerName(name), CLIENT, Secret(SECRET), redirect_uri=REDIRECT, token_url=fake.url + TOKEN_PATH[name]
    )


def _basic() -> str:
    return "Basic " + base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()


def _post_token(name: str, http: httpx.Client, fields: dict[str, str], **headers: str) -> httpx.Response:
    """A token request as each API takes it: Intuit and Xero a form with the client in HTTP Basic, FreshBooks the
    client in a JSON body."""
    if name == "freshbooks":
        body = {**fields, "client_id": CLIENT, "client_secret": SECRET}
        return http.post(TOKEN_PATH[name], json=body, headers=headers)
    return http.post(TOKEN_PATH[name], data=fields, headers={"Authorization": _basic(), **headers})


def _grant_fields(name: str, fake: LedgerFake, grant: str) -> dict[str, str]:
    if grant == "refresh_token":
        return {"grant_type": "refresh_token", "refresh_token": fake.issue_tokens(COMPANY[name]).refresh_token}
    fields = {"grant_type": "authorization_code", "code": _code(name, fake), "redirect_uri": REDIRECT}
    if name == "xero":
        fields["code_verifier"] = VERIFIER
    return fields


def _refused(answer: httpx.Response, name: str, error: str = "invalid_request") -> None:
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["error"] == error
    assert NOT_SUPPORTED in body["error_description"]
    assert name in body["error_description"]


# ------------------------------------------------------------------------------------------------ token endpoint


def test_what_our_code_sends_to_the_token_endpoint_is_accepted(ledger: tuple[str, LedgerFake, httpx.Client]) -> None:
    name, fake, http = ledger
    provider = _provider(name, fake)
    verifier = Secret(VERIFIER) if name == "xero" else None
    granted = exchange_code(provider, Secret(_code(name, fake)), REDIRECT, http, code_verifier=verifier)
    assert granted.access_token.reveal()
    refreshed = refresh(provider, granted.refresh_token, http)
    assert refreshed.refresh_token.reveal() != granted.refresh_token.reveal()


# A made-up field, and real ones the fake does not apply: Intuit and Xero take the client in HTTP Basic only
# (FreshBooks' is in the body), none of them a scope at the token endpoint; only Xero applies PKCE.
UNAPPLIED = {
    "quickbooks": ["made_up", "scope", "client_id", "client_secret", "code_verifier"],
    "xero": ["made_up", "scope", "client_secret"],
    "freshbooks": ["made_up", "scope", "code_verifier"],
}


@pytest.mark.parametrize("grant", ["authorization_code", "refresh_token"])
@pytest.mark.parametrize(("name", "field"), [(name, field) for name, fields in UNAPPLIED.items() for field in fields])
def test_a_token_request_field_the_fake_does_not_apply_is_refused(name: str, field: str, grant: str) -> None:
    with _fake(name) as fake, httpx.Client(base_url=fake.url) as http:
        _refused(_post_token(name, http, {**_grant_fields(name, fake, grant), field: "x"}), field)
        assert fake.authority.refreshes == 0, "a refused refresh spends nothing"


@pytest.mark.parametrize(("grant", "other"), [("refresh_token", "code"), ("refresh_token", "code_verifier")])
def test_a_field_of_the_other_grant_is_refused(
    ledger: tuple[str, LedgerFake, httpx.Client], grant: str, other: str
) -> None:
    name, fake, http = ledger
    answer = _post_token(name, http, {**_grant_fields(name, fake, grant), other: "x"})
    _refused(answer, other)


def test_a_code_grant_does_not_take_a_refresh_token(ledger: tuple[str, LedgerFake, httpx.Client]) -> None:
    name, fake, http = ledger
    answer = _post_token(name, http, {**_grant_fields(name, fake, "authorization_code"), "refresh_token": "x"})
    _refused(answer, "refresh_token")


@pytest.mark.parametrize("grant_type", ["client_credentials", "password"])
def test_a_grant_type_the_fake_does_not_apply_is_unsupported(
    ledger: tuple[str, LedgerFake, httpx.Client], grant_type: str
) -> None:
    name, _fake, http = ledger
    _refused(_post_token(name, http, {"grant_type": grant_type}), "grant_type", "unsupported_grant_type")


def test_intuits_hard_expiry_header_is_refused() -> None:
    with _fake("quickbooks") as fake, httpx.Client(base_url=fake.url) as http:
        answer = _post_token(
            "quickbooks",
            http,
            _grant_fields("quickbooks", fake, "refresh_token"),
            **{"x-include-refresh-token-hard-expires-in": "true"},
        )
        _refused(answer, "x-include-refresh-token-hard-expires-in")


def test_freshbooks_takes_its_token_request_as_a_form_too_but_not_the_client_in_basic() -> None:
    with _fake("freshbooks") as fake, httpx.Client(base_url=fake.url) as http:
        fields = {**_grant_fields("freshbooks", fake, "refresh_token"), "client_id": CLIENT, "client_secret": SECRET}
        assert http.post(TOKEN_PATH["freshbooks"], data=fields).status_code == 200
        fields = {**_grant_fields("freshbooks", fake, "refresh_token"), "client_id": CLIENT, "client_secret": SECRET}
        _refused(http.post(TOKEN_PATH["freshbooks"], json=fields, headers={"Authorization": _basic()}), "Authorization")


def test_a_pkce_app_at_xero_names_its_client_in_the_form() -> None:
    with _fake("xero") as fake, httpx.Client(base_url=fake.url) as http:
        fields = {**_grant_fields("xero", fake, "authorization_code"), "client_id": CLIENT}
        assert http.post(TOKEN_PATH["xero"], data=fields).status_code == 200  # no Basic header: a PKCE app
        fields = {**_grant_fields("xero", fake, "refresh_token"), "client_id": CLIENT}
        assert http.post(TOKEN_PATH["xero"], data=fields).status_code == 200


# ------------------------------------------------------------------------------------------------ revocation


@pytest.mark.parametrize("name", ["quickbooks", "freshbooks"])
def test_what_our_code_sends_to_revoke_is_accepted_and_revokes(name: str) -> None:
    with _fake(name) as fake, httpx.Client() as http:
        pair = fake.issue_tokens(COMPANY[name])
        revoke(_provider(name, fake), fake.url + REVOKE_PATH[name], Secret(pair.refresh_token), http)
        with pytest.raises(InvalidGrant):
            refresh(_provider(name, fake), Secret(pair.refresh_token), http)


@pytest.mark.parametrize("name", ["quickbooks", "freshbooks"])
@pytest.mark.parametrize("field", ["made_up", "token_type_hint"])
def test_a_revocation_field_the_fake_does_not_apply_is_refused(name: str, field: str) -> None:
    with _fake(name) as fake, httpx.Client(base_url=fake.url) as http:
        pair = fake.issue_tokens(COMPANY[name])
        body: dict[str, Any] = {"token": pair.refresh_token, field: "refresh_token"}
        if name == "freshbooks":
            answer = http.post(REVOKE_PATH[name], json={**body, "client_id": CLIENT, "client_secret": SECRET})
        else:
            answer = http.post(REVOKE_PATH[name], json=body, headers={"Authorization": _basic()})
        _refused(answer, field)
        assert fake.authority.refresh(pair.refresh_token).access_token, "a refused revocation revokes nothing"


# ------------------------------------------------------------------------------------------------ identity


def _access(fake: LedgerFake, http: httpx.Client, name: str) -> GrantedAccess:
    token = fake.issue_tokens(COMPANY[name]).access_token
    return GrantedAccess(http=http, api_url=fake.url, access_token=Secret(token), callback={})


def test_freshbooks_users_me_answers_what_the_connect_flow_asks_and_refuses_a_parameter() -> None:
    with _fake("freshbooks") as fake, httpx.Client() as http:
        access = _access(fake, http, "freshbooks")
        assert [company.company_id for company in freshbooks_connect.find_companies(access)] == [COMPANY["freshbooks"]]
        answer = http.get(
            fake.url + "/auth/api/v1/users/me",
            params={"include[]": "business"},
            headers={"Authorization": f"Bearer {access.access_token.reveal()}"},
        )
        assert answer.status_code == 400
        assert NOT_SUPPORTED in answer.text
        assert "include[]" in answer.text


def test_xero_connections_answer_what_the_connect_flow_asks_and_apply_or_refuse_each_parameter() -> None:
    with _fake("xero") as fake, httpx.Client() as http:
        access = _access(fake, http, "xero")
        bearer = {"Authorization": f"Bearer {access.access_token.reveal()}"}
        assert [company.company_id for company in xero_connect.find_companies(access)] == [COMPANY["xero"]]
        listed = http.get(fake.url + "/connections", headers=bearer).json()
        event = listed[0]["authEventId"]
        assert http.get(fake.url + "/connections", params={"authEventId": event}, headers=bearer).json() == listed
        other = {"authEventId": "00000000-0000-0000-0000-000000000000"}
        assert http.get(fake.url + "/connections", params=other, headers=bearer).json() == []
        refused = http.get(fake.url + "/connections", params={"tenantId": COMPANY["xero"]}, headers=bearer)
        assert refused.status_code == 400
        assert NOT_SUPPORTED in refused.json()["Detail"]
        assert "tenantId" in refused.json()["Detail"]
        deleting = http.delete(f"{fake.url}/connections/{listed[0]['id']}", params={"force": "true"}, headers=bearer)
        assert deleting.status_code == 400
        assert NOT_SUPPORTED in deleting.json()["Detail"]
        assert http.get(fake.url + "/connections", headers=bearer).json() == listed, "a refused delete deletes nothing"
        xero_connect.release_company(access, COMPANY["xero"])
        assert http.get(fake.url + "/connections", headers=bearer).json() == []
