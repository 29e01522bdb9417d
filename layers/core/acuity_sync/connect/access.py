"""Who may open a tenant's settings page: an admin link (signed, minutes long, good once: its nonce is a one-time
value in the table) opens a session, held in a signed cookie; every form carries a CSRF token signed for that
session. One key signs all three (Secrets Manager, read through Powertools Parameters by the wiring), each under its
own salt, so a value of one kind is never accepted as another.

itsdangerous signs (HMAC-SHA1 over a key derived per salt, with a timestamp); nothing here is encrypted, and
nothing secret is in the values: a tenant id, a nonce, a session id."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from itsdangerous import BadData, BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_decode, base64_encode, want_bytes

from acuity_sync.secret import Secret
from acuity_sync.store.one_time import OneTimeKind, OneTimeValues

ADMIN_LINK_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)
ENTER_PATH = "/connect/enter"
Clock = Callable[[], float]  # seconds since the epoch, like time.time


@dataclass(frozen=True, slots=True)
class Session:
    tenant_id: str
    session_id: str  # random per opened link: binds CSRF tokens, consents and pending choices to this browser


class LinkRefused(Exception):
    """An admin link that does not open a session; the text says why in words for the person holding it."""


def _clocked_signer(clock: Clock) -> type[TimestampSigner]:
    class ClockedSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock())

        def verify_signature(self, value: str | bytes, sig: str | bytes) -> bool:
            # A 20-byte HMAC in 27 base64 characters leaves 2 spare bits in the last one: itsdangerous decodes
            # "...A" and "...B" to the same bytes. Only the one spelling we issue is accepted, so any changed
            # character is a refused link.
            try:
                canonical = base64_encode(base64_decode(sig)) == want_bytes(sig)
            except BadData:  # not base64 at all: not ours
                return False
            return canonical and super().verify_signature(value, sig)

    return ClockedSigner


class Access:
    def __init__(self, signing_key: Secret, one_time: OneTimeValues, *, clock: Clock = time.time) -> None:
        self._key = signing_key
        self._one_time = one_time
        self._clock = clock
        signer = _clocked_signer(clock)
        key = signing_key.reveal()
        self._links = URLSafeTimedSerializer(key, salt="acuity-sync admin link", signer=signer)
        self._sessions = URLSafeTimedSerializer(key, salt="acuity-sync session", signer=signer)
        self._csrf = URLSafeTimedSerializer(key, salt="acuity-sync csrf", signer=signer)

    # ------------------------------------------------------------------ admin links

    def issue_link(self, tenant_id: str, pages_url: str) -> str:
        """A link to the tenant's settings page: signed, good for ADMIN_LINK_LIFETIME, and once."""
        nonce = secrets.token_urlsafe(24)
        self._one_time.put(OneTimeKind.ADMIN_LINK, nonce, {"tenant_id": tenant_id}, ADMIN_LINK_LIFETIME)
        token = self._links.dumps({"t": tenant_id, "n": nonce})
        return f"{pages_url.rstrip('/')}{ENTER_PATH}?token={token}"

    def redeem_link(self, token: str) -> Session:
        """The session an admin link opens; LinkRefused when it is expired, altered or used already."""
        document = self._load(self._links, token, ADMIN_LINK_LIFETIME, expired="This link has expired")
        tenant_id, nonce = document.get("t"), document.get("n")
        if not isinstance(tenant_id, str) or not isinstance(nonce, str):
            raise LinkRefused("This link is not valid")
        stored = self._one_time.take(OneTimeKind.ADMIN_LINK, nonce)
        if stored is None or not hmac.compare_digest(stored.get("tenant_id", ""), tenant_id):
            raise LinkRefused("This link was used already (each link opens the page once)")
        return Session(tenant_id, secrets.token_urlsafe(18))

    # ------------------------------------------------------------------ sessions and CSRF

    def session_cookie(self, session: Session) -> str:
        return self._sessions.dumps({"t": session.tenant_id, "s": session.session_id})

    def read_session(self, cookie: str | None) -> Session | None:
        """The session a cookie holds; None when there is none, or it is altered or older than SESSION_LIFETIME."""
        if not cookie:
            return None
        try:
            document = self._load(self._sessions, cookie, SESSION_LIFETIME, expired="")
        except LinkRefused:
            return None
        tenant_id, session_id = document.get("t"), document.get("s")
        if not isinstance(tenant_id, str) or not isinstance(session_id, str):
            return None
        return Session(tenant_id, session_id)

    def csrf_token(self, session: Session) -> str:
        return self._csrf.dumps(session.session_id)

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        """True only for a token signed for this very session (not another session's, not altered)."""
        if not token:
            return False
        try:
            value = self._csrf.loads(token, max_age=int(SESSION_LIFETIME.total_seconds()))
        except BadSignature:
            return False
        return isinstance(value, str) and hmac.compare_digest(value, session.session_id)

    # ------------------------------------------------------------------ OAuth

    def pkce_verifier(self, state: str) -> Secret:
        """The PKCE verifier of a consent, derived from its state with the key (RFC 7636: 43 to 128 unreserved
        characters): nothing secret is stored between the consent and its callback."""
        mac = hmac.new(self._key.reveal().encode("utf-8"), f"pkce:{state}".encode(), hashlib.sha256).digest()
        return Secret(base64.urlsafe_b64encode(mac).decode("ascii").rstrip("="))

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _load(serializer: URLSafeTimedSerializer, token: str, lifetime: timedelta, *, expired: str) -> dict[str, Any]:
        try:
            document = serializer.loads(token, max_age=int(lifetime.total_seconds()))
        except SignatureExpired:
            raise LinkRefused(expired) from None
        except BadSignature:
            raise LinkRefused("This link is not valid (it was changed, or is not one of ours)") from None
        if not isinstance(document, dict):
            raise LinkRefused("This link is not valid")
        return document
