"""One customer per client, however many of the client's bookings sync at once (a class series, several spots
booked together: each is its own FIFO group, so their syncs run in parallel).

Before a sync looks a client up in the ledger or adds it, it claims the client (tenant, ledger, a hash of the
client's e-mail) in the table. The claim's holder finds or creates the customer and publishes its id in the same
item; the others wait for that id and reuse it. A holder that dies leaves a claim that lapses after `lease`: the
next claimer looks the customer up in the ledger first (the dead one may have created it), so a crash never adds
the client twice either. A sync that waits longer than `wait` is retried later (Transient), never dead-lettered
by waiting.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from acuity_sync.domain.errors import Transient
from acuity_sync.store.customers import ClaimAnswer

_POLL_FIRST = 0.05  # seconds: a ledger answers a create in a few hundred milliseconds when all goes well
_POLL_MAX = 1.0
_MAX_STEPS = 1000  # no loop below runs forever whatever the table says


class CustomerIds(Protocol):
    """The customer ids of one tenant and ledger, by client key (store/customers.py keeps them in the table)."""

    def get(self, key: str) -> str | None: ...

    def claim(self, key: str, owner: str, until: datetime, now: datetime) -> ClaimAnswer:
        """Granted when no id is published and no live claim is held."""
        ...

    def put(self, key: str, customer_id: str) -> None:
        """Publish the id (and end any claim)."""
        ...

    def release(self, key: str, owner: str) -> None:
        """End `owner`'s claim without an id (its lookup or create failed); best effort: a claim lapses anyway."""
        ...


@dataclass(frozen=True, slots=True)
class ClaimTiming:
    # A claim outlives what its holder may do under it: a ledger lookup and a create, within one invocation of the
    # sync function (60 s): a live holder never loses it mid-create.
    lease: timedelta = timedelta(seconds=60)
    # How long a sync waits for another's create before it is retried later instead (its own invocation has 60 s).
    wait: timedelta = timedelta(seconds=20)

    def scaled(self, time_scale: float) -> ClaimTiming:
        """The local stack's time scale shortens both, as it shortens the function's timeout."""
        return ClaimTiming(self.lease * time_scale, self.wait * time_scale)


class OneCustomer:
    """Finds or creates the customer of one client once, across concurrent syncs."""

    def __init__(
        self,
        ids: CustomerIds,
        timing: ClaimTiming = ClaimTiming(),
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._ids = ids
        self._timing = timing
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep

    def known(self, key: str) -> str | None:
        return self._ids.get(key)

    def ensure(self, key: str, find_or_create: Callable[[], str], ledger_words: str) -> str:
        """The client's customer id: published by a peer, or found or created by `find_or_create` under the claim.
        Raises Transient when a peer's claim outlasts the wait."""
        deadline = self._monotonic() + self._timing.wait.total_seconds()
        owner = uuid.uuid4().hex
        pause = _POLL_FIRST
        for _ in range(_MAX_STEPS):
            now = self._clock()
            answer = self._ids.claim(key, owner, now + self._timing.lease, now)
            if answer.customer_id is not None:
                return answer.customer_id
            if answer.granted:
                return self._under_claim(key, owner, find_or_create)
            if self._monotonic() >= deadline:
                break
            self._sleep(pause)  # a peer holds the claim: its id comes in the item, or its claim lapses
            pause = min(pause * 2, _POLL_MAX)
        raise Transient(f"another sync is adding this client to {ledger_words} right now; trying again shortly")

    def _under_claim(self, key: str, owner: str, find_or_create: Callable[[], str]) -> str:
        try:
            customer_id = find_or_create()
        except BaseException:
            self._ids.release(key, owner)
            raise
        self._ids.put(key, customer_id)
        return customer_id
