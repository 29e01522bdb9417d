from __future__ import annotations

from typing import Any

from acuity_sync.secret import Secret
from acuity_sync.store.tenant_cache import MISS_TTL_SECONDS, PROFILE_TTL_SECONDS, REREAD_AFTER_SECONDS, TenantDirectory
from acuity_sync.store.tenants import TenantProfile


class CountingStore:
    """Stands in for DynamoDB: counts reads, and lets a test rotate a key."""

    def __init__(self) -> None:
        self.reads = 0
        self.profiles: dict[str, TenantProfile] = {}

    def get(self, tenant_id: str) -> TenantProfile | None:
        self.reads += 1
        return self.profiles.get(tenant_id)


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(store: CountingStore, clock: ManualClock, **kwargs: Any) -> TenantDirectory:
    return TenantDirectory(store, clock=clock, **kwargs)  # type: ignore[arg-type]


def profile(tenant_id: str, key: str) -> TenantProfile:
    return TenantProfile(tenant_id=tenant_id, name="Studio", acuity_user_id="1", acuity_api_key=Secret(key))


def test_a_profile_is_read_once_while_fresh_then_again() -> None:
    store, clock = CountingStore(), ManualClock()
    store.profiles["t" * 32] = profile("t" * 32, "k1")
    directory = make(store, clock)
    assert directory.lookup("t" * 32).profile is not None
    clock.now += PROFILE_TTL_SECONDS - 1
    directory.lookup("t" * 32)
    assert store.reads == 1
    clock.now += 2
    directory.lookup("t" * 32)
    assert store.reads == 2


def test_misses_are_cached_for_their_own_shorter_time() -> None:
    store, clock = CountingStore(), ManualClock()
    directory = make(store, clock)
    for _ in range(100):
        assert directory.lookup("u" * 32).profile is None
    assert store.reads == 1
    clock.now += MISS_TTL_SECONDS
    directory.lookup("u" * 32)
    assert store.reads == 2


def test_the_cache_is_bounded_and_forgets_the_least_recently_used() -> None:
    store, clock = CountingStore(), ManualClock()
    directory = make(store, clock, max_entries=3)
    for name in ("a", "b", "c"):
        directory.lookup(name * 32)
    directory.lookup("a" * 32)  # a is now the most recent
    directory.lookup("d" * 32)  # evicts b
    reads = store.reads
    directory.lookup("a" * 32)
    assert store.reads == reads
    directory.lookup("b" * 32)
    assert store.reads == reads + 1


def test_a_key_is_worth_rereading_only_when_it_is_not_fresh() -> None:
    store, clock = CountingStore(), ManualClock()
    store.profiles["t" * 32] = profile("t" * 32, "old")
    directory = make(store, clock)
    entry = directory.lookup("t" * 32)
    assert not directory.is_stale_for_signature(entry)
    clock.now += REREAD_AFTER_SECONDS
    assert directory.is_stale_for_signature(entry)
    store.profiles["t" * 32] = profile("t" * 32, "rotated")
    fresh = directory.reload("t" * 32)
    assert fresh.profile is not None
    assert fresh.profile.acuity_api_key.reveal() == "rotated"
    assert directory.lookup("t" * 32) == fresh
