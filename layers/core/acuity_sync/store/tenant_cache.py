"""Tenant profiles cached in the container for a short time, misses too, so that a flood of made-up
tenant ids does not reach the table each time (the webhook's), and a sync does not read its tenant per message
(the sync service's, which answers only a go-ahead from it)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from acuity_sync.store.tenants import TenantProfile, TenantStore

PROFILE_TTL_SECONDS = 60.0
MISS_TTL_SECONDS = 30.0
# A key read this recently is as good as fresh: a signature mismatch then is the sender's, not a rotation.
REREAD_AFTER_SECONDS = 10.0
MAX_ENTRIES = 2048


@dataclass(frozen=True, slots=True)
class CachedProfile:
    profile: TenantProfile | None
    fetched_at: float


class TenantDirectory:
    def __init__(
        self,
        store: TenantStore,
        clock: Callable[[], float] = time.monotonic,
        profile_ttl: float = PROFILE_TTL_SECONDS,
        miss_ttl: float = MISS_TTL_SECONDS,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self._store = store
        self._clock = clock
        self._profile_ttl = profile_ttl
        self._miss_ttl = miss_ttl
        self._max_entries = max_entries
        self._entries: OrderedDict[str, CachedProfile] = OrderedDict()

    def lookup(self, tenant_id: str) -> CachedProfile:
        """The profile (None: no such tenant), from the cache while it is fresh."""
        entry = self._entries.get(tenant_id)
        now = self._clock()
        if entry is not None:
            ttl = self._profile_ttl if entry.profile is not None else self._miss_ttl
            if now - entry.fetched_at < ttl:
                self._entries.move_to_end(tenant_id)
                return entry
        return self.reload(tenant_id)

    def reload(self, tenant_id: str) -> CachedProfile:
        entry = CachedProfile(profile=self._store.get(tenant_id), fetched_at=self._clock())
        self._entries[tenant_id] = entry
        self._entries.move_to_end(tenant_id)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return entry

    def is_stale_for_signature(self, entry: CachedProfile) -> bool:
        """Worth one re-read when a signature does not match: the owner may have rotated the key."""
        return self._clock() - entry.fetched_at >= REREAD_AFTER_SECONDS
