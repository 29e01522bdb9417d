"""The fake ledgers' consent pages (fakes/consent.py) apply or refuse each parameter, as their APIs do: what our
connect flow sends (acuity_sync/auth/oauth.py authorization_url) is carried into the page's forms; anything else,
on the page or in the decision the page posts, is the error page saying it is not supported by this fake."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.freshbooks import FakeFreshBooks
from acuity_sync_toolkit.fakes.quickbooks import FakeQuickBooks
from acuity_sync_toolkit.fakes.service import LedgerFake
from acuity_sync_toolkit.fakes.xero import FakeXero

COMPANY = {"freshbooks": "ABC123", "quickbooks": "9341453050298", "xero": "6c0b1fc7-7b5e-4e0e-9a3c-1f2d3e4f5a6b"}
CLIENT = "local-client"
REDIRECT = "https://sync.example.com/connect/callback"
NOT_SUPPORTED = "not supported by this fake"


def _fake(ledger: str) -> LedgerFake:
    clock = FakeClock(frozen=True)
    if ledger == "freshbooks":
        freshbooks = FakeFreshBooks(clock=clock, client_id=CLIENT)
        freshbooks.add_business(COMPANY[ledger], name="Studio Nord")
        return freshbooks
    if ledger == "quickbooks":
        quickbooks = FakeQuickBooks(clock=clock, client_id=CLIENT)
        quickbooks.add_company(COMPANY[ledger])
        return quickbooks
    xero = FakeXero(clock=clock)
    xero.add_organisation(COMPANY[ledger], name="Studio Nord")
    return xero


@pytest.fixture(params=["freshbooks", "quickbooks", "xero"])
def page(request: pytest.FixtureRequest) -> Iterator[tuple[httpx.Client, str, str]]:
    with _fake(request.param) as fake:
        consent = fake.consent  # type: ignore[attr-defined]
        with httpx.Client(base_url=fake.url, timeout=30, follow_redirects=False) as http:
            yield http, consent.authorize_path, COMPANY[request.param]


FLOW = {
    "response_type": "code",
    "client_id": CLIENT,
    "redirect_uri": REDIRECT,
    "scope": "accounting.transactions",
    "state": "s-1",
    "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    "code_challenge_method": "S256",
}


def _hidden(html: str, form: str) -> dict[str, str]:
    body = html.split(f'id="{form}"', 1)[1].split("</form>", 1)[0]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', body))


def test_what_the_connect_flow_sends_is_carried_into_both_forms(page: tuple[httpx.Client, str, str]) -> None:
    http, path, _company = page
    answer = http.get(path, params=FLOW)
    assert answer.status_code == 200, answer.text
    carried = {name: value for name, value in FLOW.items() if name != "response_type"}
    assert _hidden(answer.text, "allow") == {**carried, "decision": "allow"}
    assert _hidden(answer.text, "deny") == {**carried, "decision": "deny"}


@pytest.mark.parametrize("name", ["prompt", "response_mode", "nonce", "acr_values"])
def test_a_parameter_the_page_does_not_apply_is_the_error_page(page: tuple[httpx.Client, str, str], name: str) -> None:
    http, path, _company = page
    answer = http.get(path, params={**FLOW, name: "login"})
    assert answer.status_code == 400
    assert "Location" not in answer.headers  # never a redirect with a code
    assert name in answer.text
    assert NOT_SUPPORTED in answer.text


def test_the_decision_applies_its_fields_and_refuses_others(page: tuple[httpx.Client, str, str]) -> None:
    http, path, company = page
    carried = {name: value for name, value in FLOW.items() if name != "response_type"}
    form = {**carried, "decision": "allow", "company": company}
    for extra in ({"remember": "yes"}, {"decision": "later"}):
        refused = http.post(f"{path}/decision", data={**form, **extra})
        assert refused.status_code == 400, extra
        assert next(iter(extra)) in refused.text
    allowed = http.post(f"{path}/decision", data=form)
    assert allowed.status_code == 302
    query = parse_qs(urlsplit(allowed.headers["Location"]).query)
    assert query["state"] == ["s-1"]
    assert query["code"][0]
    denied = http.post(f"{path}/decision", data={**form, "decision": "deny"})
    assert parse_qs(urlsplit(denied.headers["Location"]).query) == {"error": ["access_denied"], "state": ["s-1"]}
