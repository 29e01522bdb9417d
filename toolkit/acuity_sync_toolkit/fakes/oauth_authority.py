"""The one OAuth2 token authority of the fakes: opaque tokens, expiries on a movable clock, rotation rules.

Every fake ledger (`LedgerFake`) has one, following its ledger's rules, declared here as `TokenRules`
(../shared/research/):

- QuickBooks (`QUICKBOOKS_TOKENS`, quickbooks.md §4): access tokens live 1 h; every refresh returns a new refresh
  token ("rotating_with_grace"); "Your previous refresh tokens expire 24 hours after you receive a new one"
  (oauth-jsclient README); a refresh token expires 100 days after it was issued unless used (rolling), and no grant
  outlives 5 years (Intuit blog 2025-11-12).
- Xero (`XERO_TOKENS`, research A4): access 30 min; refresh "single_use", 60 days unused, with a 30-minute grace.
- FreshBooks (`FRESHBOOKS_TOKENS`, research §B2): access 12 h; refresh "single_use" that never expires, no grace.

The two rotation modes differ in what an already-used refresh token returns while its grace lasts:

- "rotating_with_grace": a fresh pair, exactly as the latest token would (the sources only say the old token stays
  valid); the token that was the latest until then becomes "previous" and starts its own grace.
- "single_use": the very pair its first use returned (a replay), so a client whose response was lost can recover.

Every refresh token of a grant (one `issue()`, then its refresh chain) dies with the grant when it is revoked.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from typing import Any, Literal

from acuity_sync_toolkit.fakes.clock import FakeClock

Rotation = Literal["rotating_with_grace", "single_use"]
ROTATIONS: tuple[Rotation, ...] = ("rotating_with_grace", "single_use")

HOUR = 3600.0
DAY = 24 * HOUR


@dataclass(frozen=True, slots=True)
class TokenRules:
    """One ledger's token rules (lifetimes in seconds)."""

    access_ttl: float
    refresh_ttl: float
    rotation: Rotation
    old_refresh_grace: float = 0.0
    max_grant_lifetime: float | None = None
    access_prefix: str = ""  # only makes tokens in logs look like the real ones
    refresh_prefix: str = ""


QUICKBOOKS_TOKENS = TokenRules(
    access_ttl=HOUR,
    refresh_ttl=100 * DAY,
    rotation="rotating_with_grace",
    old_refresh_grace=DAY,
    max_grant_lifetime=5 * 365 * DAY,
    access_prefix="eyJ",  # Intuit's access tokens are JWEs
    refresh_prefix="AB11",  # as Intuit's refresh tokens begin
)
XERO_TOKENS = TokenRules(access_ttl=1800, refresh_ttl=60 * DAY, rotation="single_use", old_refresh_grace=1800)
FRESHBOOKS_TOKENS = TokenRules(
    access_ttl=12 * HOUR, refresh_ttl=100 * 365 * DAY, rotation="single_use", old_refresh_grace=0.0
)


class InvalidGrant(Exception):
    """The refresh token is unknown, expired, revoked, or used again beyond its grace: OAuth's `invalid_grant`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int  # seconds the access token lives
    x_refresh_token_expires_in: int  # seconds the refresh token lives (Intuit's name for it)
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret

    def as_json(self) -> dict[str, Any]:
        """The token endpoint's answer, as Intuit sends it (quickbooks.md §4, oauth-jsclient README sample)."""
        return {
            "token_type": self.token_type,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_in": self.expires_in,
            "x_refresh_token_expires_in": self.x_refresh_token_expires_in,
        }


@dataclass(slots=True)
class _Grant:
    subject: str
    started: float  # clock.monotonic() at issue()
    latest_refresh: str
    revoked: bool = False


@dataclass(slots=True)
class _RefreshToken:
    grant: _Grant
    expires_at: float
    superseded_at: float | None = None  # when a newer refresh token of the grant was handed out
    successor: TokenPair | None = None  # what this token's first use returned (replayed in "single_use" mode)


@dataclass(slots=True)
class _AccessToken:
    grant: _Grant
    expires_at: float


class TokenAuthority:
    """Issues, checks, refreshes and revokes opaque random tokens; thread-safe; time comes from `clock`."""

    def __init__(
        self,
        clock: FakeClock,
        *,
        access_ttl: float,
        refresh_ttl: float,
        rotation: Rotation,
        old_refresh_grace: float = 0.0,
        max_grant_lifetime: float | None = None,
        access_prefix: str = "",
        refresh_prefix: str = "",
    ) -> None:
        if rotation not in ROTATIONS:
            raise ValueError(f"rotation must be one of {', '.join(ROTATIONS)}")
        if access_ttl <= 0 or refresh_ttl <= 0 or old_refresh_grace < 0:
            raise ValueError("lifetimes must be positive and the grace non-negative")
        self._clock = clock
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.rotation: Rotation = rotation
        self.old_refresh_grace = old_refresh_grace
        self.max_grant_lifetime = max_grant_lifetime
        self._access_prefix = access_prefix
        self._refresh_prefix = refresh_prefix
        self._lock = threading.Lock()
        self._access: dict[str, _AccessToken] = {}
        self._refresh: dict[str, _RefreshToken] = {}
        self._grants: list[_Grant] = []
        self._issued = 0
        self._refreshes = 0
        self._invalid_grants = 0

    @classmethod
    def following(cls, clock: FakeClock, rules: TokenRules) -> TokenAuthority:
        """An authority with one ledger's rules (QUICKBOOKS_TOKENS, XERO_TOKENS, FRESHBOOKS_TOKENS)."""
        return cls(
            clock,
            access_ttl=rules.access_ttl,
            refresh_ttl=rules.refresh_ttl,
            rotation=rules.rotation,
            old_refresh_grace=rules.old_refresh_grace,
            max_grant_lifetime=rules.max_grant_lifetime,
            access_prefix=rules.access_prefix,
            refresh_prefix=rules.refresh_prefix,
        )

    @classmethod
    def quickbooks(cls, clock: FakeClock) -> TokenAuthority:
        """Intuit's rules (QUICKBOOKS_TOKENS): 1 h access, rotating refresh with a 24 h grace, 100 days rolling,
        a 5-year cap on the grant."""
        return cls.following(clock, QUICKBOOKS_TOKENS)

    # ------------------------------------------------------------------ counters (for tests)

    @property
    def issued(self) -> int:
        """Grants started with `issue()`."""
        with self._lock:
            return self._issued

    @property
    def refreshes(self) -> int:
        """Successful refreshes (a single-use replay within its grace counts too)."""
        with self._lock:
            return self._refreshes

    @property
    def invalid_grants(self) -> int:
        """Refreshes answered with `invalid_grant`."""
        with self._lock:
            return self._invalid_grants

    # ------------------------------------------------------------------ operations

    def issue(self, subject: str) -> TokenPair:
        """Start a grant for `subject` (a consent): a new access and refresh token."""
        with self._lock:
            now = self._clock.monotonic()
            grant = _Grant(subject=subject, started=now, latest_refresh="")
            self._grants.append(grant)
            self._issued += 1
            pair = self._new_pair(grant, now)
            grant.latest_refresh = pair.refresh_token
            return pair

    def check_access(self, token: str) -> str | None:
        """The subject of a live access token; None when it is unknown, expired or revoked."""
        with self._lock:
            record = self._access.get(token)
            if record is None or record.grant.revoked or self._clock.monotonic() >= record.expires_at:
                return None
            return record.grant.subject

    def subject_of(self, token: str) -> str | None:
        """The subject of any token ever issued (live or not), e.g. to word a 401; None when unknown."""
        with self._lock:
            access = self._access.get(token)
            if access is not None:
                return access.grant.subject
            refresh = self._refresh.get(token)
            return refresh.grant.subject if refresh is not None else None

    def refresh(self, refresh_token: str) -> TokenPair:
        """New tokens for a refresh token, by the rotation rules; raises InvalidGrant."""
        with self._lock:
            try:
                pair = self._refresh_locked(refresh_token, self._clock.monotonic())
            except InvalidGrant:
                self._invalid_grants += 1
                raise
            self._refreshes += 1
            return pair

    def tokens_issued(self) -> list[str]:
        """Every access and refresh token ever handed out (tests check that none is stored in the clear)."""
        with self._lock:
            return [*self._access, *self._refresh]

    def revoke(self, token: str) -> bool:
        """Revoke the whole grant `token` (access or refresh) belongs to; False when the token is unknown."""
        with self._lock:
            record: _AccessToken | _RefreshToken | None = self._access.get(token) or self._refresh.get(token)
            if record is None:
                return False
            record.grant.revoked = True
            return True

    def revoke_subject(self, subject: str) -> int:
        """Revoke every grant of `subject` (the user disconnected the app); returns how many were live."""
        with self._lock:
            live = [grant for grant in self._grants if grant.subject == subject and not grant.revoked]
            for grant in live:
                grant.revoked = True
            return len(live)

    # ------------------------------------------------------------------ internals (lock held)

    def _refresh_locked(self, token: str, now: float) -> TokenPair:
        record = self._refresh.get(token)
        if record is None:
            raise InvalidGrant("unknown refresh token")
        grant = record.grant
        if grant.revoked:
            raise InvalidGrant("the grant was revoked")
        if now >= record.expires_at:
            raise InvalidGrant("the refresh token expired")
        if record.superseded_at is not None:
            if now >= record.superseded_at + self.old_refresh_grace:
                raise InvalidGrant("the refresh token was already used and its grace has ended")
            if self.rotation == "single_use" and record.successor is not None:
                return record.successor
        pair = self._new_pair(grant, now)
        # The token just used and the grant's latest one (they differ when an old token is used within its grace)
        # both become "previous": their grace starts now unless it already started.
        for used in {token, grant.latest_refresh}:
            previous = self._refresh[used]
            if previous.superseded_at is None:
                previous.superseded_at = now
                previous.successor = pair
        grant.latest_refresh = pair.refresh_token
        return pair

    def _new_pair(self, grant: _Grant, now: float) -> TokenPair:
        access = self._access_prefix + secrets.token_urlsafe(32)
        refresh = self._refresh_prefix + secrets.token_urlsafe(32)
        refresh_expires = now + self.refresh_ttl
        if self.max_grant_lifetime is not None:
            refresh_expires = min(refresh_expires, grant.started + self.max_grant_lifetime)
        if refresh_expires <= now:
            raise InvalidGrant("the grant reached its maximum lifetime")
        self._access[access] = _AccessToken(grant=grant, expires_at=now + self.access_ttl)
        self._refresh[refresh] = _RefreshToken(grant=grant, expires_at=refresh_expires)
        return TokenPair(
            access_token=access,
            refresh_token=refresh,
            expires_in=int(self.access_ttl),
            x_refresh_token_expires_in=int(refresh_expires - now),
        )
