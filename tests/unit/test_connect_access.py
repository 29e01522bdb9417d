"""Admin links, sessions, CSRF tokens and PKCE verifiers (acuity_sync.connect.access), with a clock the tests
move: a link opens once and only within its minutes, an altered one never; a session cookie or CSRF token is
only good for what it was signed for; the consent URL carries the ledger's scopes and PKCE challenge."""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from acuity_sync.auth.oauth import authorization_url, pkce_challenge
from acuity_sync.connect.access import ADMIN_LINK_LIFETIME, SESSION_LIFETIME, Access, LinkRefused, Session
from acuity_sync.domain.names import LedgerName
from acuity_sync.ledgers.registry import ledger_declaration
from acuity_sync.secret import Secret
from acuity_sync.store.one_time import OneTimeKind, OneTimeValues

KEY = Secret("k" * 64)


class MemoryOneTime(OneTimeValues):
    """The one-time store's contract (put once, take once) in memory: these tests are about the signing."""

    def __init__(self) -> None:
        self.values: dict[tuple[OneTimeKind, str], dict[str, str]] = {}

    def put(self, kind: OneTimeKind, value: str, fields: Mapping[str, str], lifetime: timedelta) -> None:  # noqa: ARG002
        self.values[(kind, value)] = dict(fields)

    def take(self, kind: OneTimeKind, value: str) -> dict[str, str] | None:
        return self.values.pop((kind, value), None)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def test_a_link_opens_a_session_once_within_its_lifetime() -> None:
    clock, store = Clock(), MemoryOneTime()
    access = Access(KEY, store, clock=clock)
    link = access.issue_link("tenant-aaaaaaaaaaaaaaaa", "https://pages.example")
    assert link.startswith("https://pages.example/connect/enter?token=")
    clock.now += ADMIN_LINK_LIFETIME.total_seconds() - 1
    session = access.redeem_link(token_of(link))
    assert session.tenant_id == "tenant-aaaaaaaaaaaaaaaa"
    with pytest.raises(LinkRefused, match="used already"):
        access.redeem_link(token_of(link))


def test_an_expired_link_is_refused_before_its_nonce_is_spent() -> None:
    clock, store = Clock(), MemoryOneTime()
    access = Access(KEY, store, clock=clock)
    link = access.issue_link("tenant-aaaaaaaaaaaaaaaa", "https://pages.example")
    clock.now += ADMIN_LINK_LIFETIME.total_seconds() + 1
    with pytest.raises(LinkRefused, match="expired"):
        access.redeem_link(token_of(link))
    assert len(store.values) == 1  # the nonce is not taken by a refused link (it lapses by TTL)


def test_an_altered_link_or_one_signed_with_another_key_is_refused() -> None:
    store = MemoryOneTime()
    access = Access(KEY, store)
    token = token_of(access.issue_link("tenant-aaaaaaaaaaaaaaaa", "https://pages.example"))
    middle = len(token) // 3  # inside the payload
    flipped = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    for altered in (flipped, token + "x"):
        with pytest.raises(LinkRefused, match="not valid"):
            access.redeem_link(altered)
    other = Access(Secret("o" * 64), store)
    with pytest.raises(LinkRefused, match="not valid"):
        other.redeem_link(token)


def test_a_link_whose_signature_differs_only_in_its_spare_bits_is_refused() -> None:
    """A 20-byte signature in 27 base64 characters leaves 2 spare bits in the last one: the three characters
    that differ from it only there decode to the same bytes, and each must be refused all the same (before, an e2e
    run that flipped the last character failed whenever the link happened to end in one of A-D)."""
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
    store = MemoryOneTime()
    access = Access(KEY, store)
    token = token_of(access.issue_link("tenant-aaaaaaaaaaaaaaaa", "https://pages.example"))
    index = alphabet.index(token[-1])
    siblings = [alphabet[(index & ~3) | spare] for spare in range(4) if (index & ~3) | spare != index]
    for sibling in siblings:
        with pytest.raises(LinkRefused, match="not valid"):
            access.redeem_link(token[:-1] + sibling)
    assert len(store.values) == 1  # refused before the nonce is spent: the real link still opens
    assert access.redeem_link(token).tenant_id == "tenant-aaaaaaaaaaaaaaaa"


def test_session_cookies_and_csrf_tokens_are_good_only_for_what_they_were_signed_for() -> None:
    clock = Clock()
    access = Access(KEY, MemoryOneTime(), clock=clock)
    session = Session("tenant-aaaaaaaaaaaaaaaa", "session-1")
    cookie = access.session_cookie(session)
    assert access.read_session(cookie) == session
    csrf = access.csrf_token(session)
    assert access.csrf_ok(session, csrf)
    assert not access.csrf_ok(Session(session.tenant_id, "session-2"), csrf)  # another session's
    assert not access.csrf_ok(session, None)
    assert not access.csrf_ok(session, csrf[:-2])
    # A value of one kind is never accepted as another: each is signed under its own salt.
    assert access.read_session(csrf) is None
    assert not access.csrf_ok(session, cookie)
    assert access.read_session(token_of(access.issue_link(session.tenant_id, "https://p"))) is None
    clock.now += SESSION_LIFETIME.total_seconds() + 1
    assert access.read_session(cookie) is None


def test_the_pkce_verifier_is_derived_from_the_state_and_fits_rfc_7636() -> None:
    access = Access(KEY, MemoryOneTime())
    verifier = access.pkce_verifier("state-1").reveal()
    assert 43 <= len(verifier) <= 128
    assert set(verifier) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    assert access.pkce_verifier("state-1").reveal() == verifier
    assert access.pkce_verifier("state-2").reveal() != verifier
    assert Access(Secret("o" * 64), MemoryOneTime()).pkce_verifier("state-1").reveal() != verifier


def test_pkce_challenge_is_rfc_7636s_s256() -> None:
    # RFC 7636 Appendix B.
    verifier = Secret("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
    assert pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


@pytest.mark.parametrize("ledger", list(LedgerName))
def test_the_consent_url_carries_each_ledgers_declared_scopes_and_pkce(ledger: LedgerName) -> None:
    rules = ledger_declaration(ledger).oauth
    verifier = Secret("v" * 50) if rules.pkce else None
    url = authorization_url(
        rules, "client", "https://pages.example/oauth/x/callback", "the-state", code_verifier=verifier
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == rules.authorize_url
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    assert query["response_type"] == "code"
    assert query["state"] == "the-state"
    assert query["redirect_uri"] == "https://pages.example/oauth/x/callback"
    assert query.get("scope", "") == " ".join(rules.scopes)
    assert ("code_challenge" in query) == rules.pkce
    if rules.pkce:
        assert query["code_challenge_method"] == "S256"
    assert ledger is not LedgerName.QUICKBOOKS or query["scope"] == "com.intuit.quickbooks.accounting"
    assert ledger is not LedgerName.XERO or "offline_access" in query["scope"].split()
