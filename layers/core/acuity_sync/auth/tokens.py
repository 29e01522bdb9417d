"""Live access tokens for the ledger adapters: handed out from the connection item, refreshed by exactly one
process at a time. The item and its conditional writes are store/connections.py's; this is the protocol.

Refreshing (DESIGN.md "Tokens"). A process that finds the access token within `margin` of its expiry (or that
was told it was refused: `rejected`) takes the lease with a conditional UpdateItem (no live lease, version
unchanged), calls the token endpoint, stores the new tokens with a conditional UpdateItem (version unchanged;
the same write drops the lease and bumps the version) and only then returns them. The others poll the item with
jittered backoff until the version moves. The lease outlives the slowest token request (OAuthProvider.
worst_case_seconds) and the store's part (opening the refresh token, storing the answer: ConnectionStore.
worst_refresh_seconds, from the clients' own timeouts and retries), so a holder that is merely slow keeps it;
one that died loses it when it lapses, and the next process refreshes with the refresh token still stored. (Why
the store is fenced by the version and not by the lease: store/connections.py.)

Time. Lambda kills an invocation at its timeout, wherever it is. `time_left` (the invocation's remaining time)
stops a refresh from starting without the time for the worst token request and the store's worst part around it:
the message is retried by a later invocation instead (Transient). A store that fails is tried again while the
invocation has time for another whole attempt; past the lease that is still safe, because the store is fenced by
the version, and a late store wins over a `needs_reauth` that a peer wrote after being refused the same token.
That win is `restored`: the keeper calls `on_restored(tenant, ledger)`, so that the events its peers parked for a
reconnect meanwhile are queued again (wiring/sync.py).

A holder that dies between the endpoint's answer and the store (the window is two KMS Encrypt calls and one
UpdateItem):

- QuickBooks: the old refresh token stays valid 24 h after a new one is issued; the next process refreshes with
  it and gets a fresh pair. Nothing is lost.
- Xero: single-use with a 30-minute grace; the next process (the lease lapses in seconds) retries the same token
  within the grace and is served. Only when nothing asks for a token for 30 minutes after such a crash is the
  connection lost: the next refresh gets invalid_grant and the connection is marked as below.
- FreshBooks: single-use, no grace documented: the pair the dead process received is gone. The next refresh gets
  invalid_grant, the re-read shows the same version, and the connection is marked `needs_reauth`: events park
  with that reason (NeedsReauth), ConnectionsNeedingReauth counts it, the maintenance function and the connect
  flow list it under `REAUTH#freshbooks`, and the parked events resume once the owner reconnects. Nothing is
  lost, but a person must act; that is the price of a provider without grace.

On invalid_grant the item is read again first: if its version moved (a peer stored new tokens, or the owner
reconnected) that state is used; only a refusal of the token that is still current marks the connection.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from acuity_sync.auth import oauth
from acuity_sync.auth.oauth import (
    InvalidClient,
    InvalidGrant,
    OAuthProvider,
    TokenEndpointUnavailable,
    TokenRequestRejected,
)
from acuity_sync.domain.errors import NeedsReauth, Transient
from acuity_sync.domain.grant import TokenGrant
from acuity_sync.domain.names import LedgerName
from acuity_sync.ledgers.registry import ledger_declaration
from acuity_sync.observability import MetricName, count, logger
from acuity_sync.secret import Secret
from acuity_sync.store.connections import ConnectionStatus, ConnectionStore, Outcome, StoredConnection
from acuity_sync.store.errors import StoreUnavailable

if TYPE_CHECKING:
    import httpx

Clock = Callable[[], float]  # seconds since the epoch, like time.time

DEFAULT_MARGIN = timedelta(minutes=5)
# > a token request at the default timeout (4 x 5 s) + the store's part with the sync functions' token-store clients
# (wiring/config.py TOKEN_STORE_AWS_CONFIG: 4 calls of at most 3 s): 32 s, and a margin for clock skew.
DEFAULT_LEASE = timedelta(seconds=40)
DEFAULT_WAIT = timedelta(seconds=10)  # then Transient: the message is retried later
TIME_RESERVE_SECONDS = 1.0  # what an invocation keeps after the worst refresh: returning, the batch response
_POLL_FIRST = 0.1  # seconds: a token endpoint answers in a few hundred milliseconds when all goes well
_POLL_MAX = 1.0
_STORE_RETRIES = (0.2, 0.5, 1.0)  # the tokens in hand may be the only copy: do not give up on one hiccup
_MAX_STEPS = 64  # no loop below runs forever whatever the table says


class NotConnected(NeedsReauth):
    """The tenant has no connection to this ledger (never connected, or disconnected)."""


@dataclass(frozen=True, slots=True)
class LedgerCredentials:
    """What an adapter needs for a call: whose books, and a live access token."""

    company_id: str
    access_token: Secret
    access_expires_at: datetime


class TokenKeeper:
    """Hands out a live access token per connection, refreshing it under the lease when it must.

    One per process (a Lambda container): it holds no state between calls but its configuration. `time_left`
    (the Lambda context's remaining time, in seconds) stops it from starting a refresh it may not live to store:
    it raises Transient instead, and the message is retried by a later invocation. `on_restored(tenant, ledger)`
    is called after a store that ended a peer's `needs_reauth` (see the module)."""

    def __init__(
        self,
        store: ConnectionStore,
        providers: Mapping[LedgerName, OAuthProvider],
        http: httpx.Client,
        *,
        margin: timedelta = DEFAULT_MARGIN,
        lease: timedelta = DEFAULT_LEASE,
        wait: timedelta = DEFAULT_WAIT,
        clock: Clock = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        time_left: Callable[[], float] | None = None,
        on_restored: Callable[[str, LedgerName], None] | None = None,
    ) -> None:
        self._store_seconds = store.worst_refresh_seconds
        for provider in providers.values():
            if lease.total_seconds() <= provider.worst_case_seconds + self._store_seconds:
                raise ValueError(
                    f"the lease ({lease.total_seconds():g} s) must outlast a {provider.ledger} token request "
                    f"({provider.worst_case_seconds:g} s) and the store's part of it ({self._store_seconds:g} s)"
                )
        self._store = store
        self._providers = dict(providers)
        self._http = http
        self._margin = margin
        self._lease = lease
        self._wait = wait.total_seconds()
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self._time_left = time_left
        self._on_restored = on_restored

    def access_token(
        self, tenant_id: str, ledger: LedgerName, *, force_refresh: bool = False, rejected: Secret | None = None
    ) -> Secret:
        """A live access token for the connection.

        After a 401, pass the token the ledger refused as `rejected`: when a peer has stored another one since,
        that one is returned without refreshing again; when the refused one is still stored, it is refreshed.
        `force_refresh` refreshes the stored token whatever its expiry (once: a refresh stored by a peer while
        this call waited counts). Raises NeedsReauth (NotConnected when there is no connection), Transient (the
        token endpoint is unavailable, or a peer's refresh outlasted `wait`), StoreUnavailable."""
        return self.credentials(tenant_id, ledger, force_refresh=force_refresh, rejected=rejected).access_token

    def credentials(
        self, tenant_id: str, ledger: LedgerName, *, force_refresh: bool = False, rejected: Secret | None = None
    ) -> LedgerCredentials:
        """As access_token(), with the company id the token is for (from the same read)."""
        try:
            return self._credentials(tenant_id, ledger, force_refresh=force_refresh, rejected=rejected)
        except StoreUnavailable as error:
            # The connection store's clients make one attempt per call (so that the lease covers the worst): a
            # hiccup there is retried with the message, like any other transient failure.
            raise Transient(f"the {ledger} connection could not be read just now; retrying later") from error

    def _credentials(
        self, tenant_id: str, ledger: LedgerName, *, force_refresh: bool, rejected: Secret | None
    ) -> LedgerCredentials:
        provider = self._providers.get(ledger)
        if provider is None:
            raise ValueError(f"no OAuth provider configured for {ledger}")
        deadline = self._clock() + self._wait
        record = self._store.read(tenant_id, ledger)
        # The version whose tokens must be replaced even though they have not expired.
        stale_version = record.version if force_refresh and rejected is None and record is not None else None
        polls = 0
        for _ in range(_MAX_STEPS):
            current = _usable(record, ledger)
            now = self._now()
            if current.version != stale_version and current.access_expires_at - now > self._margin:
                token = self._store.open_access(current)
                if rejected is None or token != rejected:
                    return LedgerCredentials(current.company_id, token, current.access_expires_at)
                stale_version = current.version  # the ledger refused the very token stored: replace it
            if current.lease_live(now):
                # A peer is refreshing this version: wait for its answer rather than use the token up twice.
                if self._clock() >= deadline:
                    raise Transient(f"the {ledger} connection is being renewed by another worker; retrying later")
                self._sleep(self._backoff(polls))
                polls += 1
                record = self._store.read(tenant_id, ledger)
                continue
            self._require_time(provider)
            owner = uuid.uuid4().hex
            attempt = self._store.take_lease(current, owner, now + self._lease, now)
            if not attempt.ok:
                record = attempt.current  # a peer took it first, or the item changed: look again
                continue
            assert attempt.current is not None
            result = self._refresh_under_lease(provider, attempt.current, owner)
            if isinstance(result, LedgerCredentials):
                return result
            record = result
        raise Transient(f"the {ledger} connection kept changing; retrying later")

    def is_connected(self, tenant_id: str, ledger: LedgerName) -> bool:
        """Whether the connection is usable now (one strongly consistent read, no KMS call)."""
        record = self._store.read(tenant_id, ledger)
        return record is not None and record.status is ConnectionStatus.CONNECTED

    # ------------------------------------------------------------------ internals

    def _refresh_under_lease(
        self, provider: OAuthProvider, leased: StoredConnection, owner: str
    ) -> LedgerCredentials | StoredConnection | None:
        """Refresh `leased` (whose lease `owner` holds): the new credentials, or the item to look at again."""
        try:
            refresh_token = self._store.open_refresh(leased)
            grant = oauth.refresh(provider, refresh_token, self._http, clock=self._clock)
        except InvalidGrant as error:
            return self._refused(leased, owner, error)
        except (TokenEndpointUnavailable, InvalidClient, TokenRequestRejected) as error:
            self._store.release_lease(leased, owner)
            if isinstance(error, InvalidClient | TokenRequestRejected):
                # Our app's credentials or request, not this tenant's connection: never a reason to disconnect.
                logger.error("%s token refresh rejected: %s", provider.ledger, error)
            raise Transient(f"{provider.ledger} could not renew the connection just now; retrying later") from error
        except BaseException:
            self._store.release_lease(leased, owner)
            raise
        # Stored before it is used: the new refresh token must outlive this process.
        outcome = self._store_with_retries(leased, grant)
        if outcome.ok:
            assert outcome.current is not None
            logger.info("%s connection refreshed (version %d)", provider.ledger, outcome.current.version)
            if outcome.restored:
                self._restored(leased)
            return LedgerCredentials(leased.company_id, grant.access_token, grant.access_expires_at)
        # The version moved while we were at the endpoint (our lease lapsed and a peer stored, or the owner
        # reconnected): what is stored is newer than what we hold.
        logger.warning("%s refresh superseded by a newer version; using the stored one", provider.ledger)
        return outcome.current

    def _store_with_retries(self, leased: StoredConnection, grant: TokenGrant) -> Outcome:
        # The tokens in hand may be the only copy: try again while there is time for a whole attempt (past the
        # lease too; see the module). Without `time_left`, a fixed few times.
        for attempt in range(_MAX_STEPS):
            try:
                return self._store.store_refreshed(leased, grant, self._now())
            except StoreUnavailable:
                delay = self._store_retry_delay(attempt)
                if delay is None:
                    # QuickBooks and Xero (within its grace) recover from this; FreshBooks will need a reconnect.
                    logger.error("%s refreshed tokens could not be stored", leased.ledger)
                    raise
                self._sleep(delay)
        raise AssertionError("unreachable")

    def _store_retry_delay(self, attempt: int) -> float | None:
        delay = _STORE_RETRIES[min(attempt, len(_STORE_RETRIES) - 1)]
        if self._time_left is None:
            return delay if attempt < len(_STORE_RETRIES) else None
        if self._time_left() < delay + self._store_seconds + TIME_RESERVE_SECONDS:
            return None
        return delay

    def _restored(self, leased: StoredConnection) -> None:
        logger.warning(
            "%s connection restored: tokens refreshed before a peer was refused the same token were stored",
            leased.ledger,
        )
        if self._on_restored is None:
            return
        try:
            self._on_restored(leased.tenant_id, leased.ledger)
        except Exception:
            # The tokens are stored; events parked meanwhile wait for the next resume (and are logged here).
            logger.exception("%s events parked for a reconnect were not queued again", leased.ledger)

    def _refused(self, leased: StoredConnection, owner: str, error: InvalidGrant) -> StoredConnection | None:
        # Re-read first: the token may have been rotated by a peer (our lease lapsed) or replaced by a reconnect.
        current = self._store.read(leased.tenant_id, leased.ledger)
        if current is None or current.version != leased.version or current.lease_owner != owner:
            # A newer state, or a peer that took our lapsed lease and is at the endpoint now: theirs decides.
            return current
        reason = f"the {leased.ledger} token endpoint refused the refresh token ({error.error or 'invalid_grant'})"
        marked = self._store.mark_needs_reauth(leased, owner, reason, self._now())
        if not marked.ok:
            return marked.current
        logger.warning("%s connection needs a reconnect: %s", leased.ledger, reason)
        count_needs_reauth(leased.ledger)
        raise NeedsReauth(f"{_display(leased.ledger)} refused to renew the connection: reconnect it in the settings")

    def _require_time(self, provider: OAuthProvider) -> None:
        if self._time_left is None:
            return
        needed = provider.worst_case_seconds + self._store_seconds + TIME_RESERVE_SECONDS
        if self._time_left() < needed:
            raise Transient(f"not enough time left to renew the {provider.ledger} connection safely; retrying later")

    def _backoff(self, polls: int) -> float:
        ceiling = min(_POLL_MAX, _POLL_FIRST * 2.0**polls)
        return ceiling * (0.5 + self._rng.random() / 2)  # jitter: waiters do not read in lockstep

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)


def _usable(record: StoredConnection | None, ledger: LedgerName) -> StoredConnection:
    if record is None:
        raise NotConnected(f"{_display(ledger)} is not connected for this account: connect it in the settings")
    if record.status is ConnectionStatus.NEEDS_REAUTH:
        raise NeedsReauth(f"{_display(ledger)} needs to be reconnected: {record.reauth_reason}")
    return record


def _display(ledger: LedgerName) -> str:
    return ledger_declaration(ledger).display_name


def count_needs_reauth(ledger: LedgerName) -> None:
    """ConnectionsNeedingReauth, dimension ledger, flushed at once (a single metric: its dimension must not leak
    onto the function's other metrics)."""
    count(MetricName.CONNECTIONS_NEEDING_REAUTH, ledger=str(ledger))
