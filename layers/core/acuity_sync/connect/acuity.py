"""The Acuity account of a tenant: its user id and API key checked with `GET /me` (a refusal said in words the
owner can act on), and the webhooks that send its changes to the tenant's URL, registered through Acuity's API:
only `appointment.changed` and `order.completed` (DESIGN.md principle 1), idempotently (`GET /webhooks` first: a
subscription already there is kept, one of ours pointing elsewhere is replaced), within Acuity's 25 per account,
and removed again on request. `acuity-sync tenant add` and the settings page both come here."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from acuity_sync.acuity.client import AcuityClient, AcuityError, AcuityRateLimited
from acuity_sync.acuity.models import AccountInfo, Webhook

_T = TypeVar("_T")
RATE_LIMIT_TRIES = 4  # Acuity's limit is per second: a few short waits see a burst through
LONGEST_WAIT = 5.0  # seconds; a longer Retry-After is the owner's to wait for

REGISTERED_EVENTS = ("appointment.changed", "order.completed")
MAX_WEBHOOKS = 25  # per Acuity account; a 400 beyond it (research/acuity.md §1.3)
WEBHOOK_PATH = "/webhooks/acuity/"


class AcuityRefused(Exception):
    """Acuity refused, or cannot do, what onboarding needs; the text is for the owner."""


def webhook_url(webhook_base_url: str, tenant_id: str) -> str:
    """The tenant's own address: the API's webhook base followed by the tenant id."""
    return f"{webhook_base_url.rstrip('/')}/{tenant_id}"


def check_account(client: AcuityClient) -> AccountInfo:
    """The account these credentials open, or AcuityRefused saying why (401: wrong id or key; 403: no API access
    on this plan; unreachable)."""
    try:
        return _paced(client.me)
    except AcuityError as error:
        raise AcuityRefused(str(error)) from None


@dataclass(frozen=True, slots=True)
class Registration:
    created: tuple[str, ...]  # events subscribed now
    kept: tuple[str, ...]  # events already subscribed to this target
    removed: int  # our subscriptions that pointed elsewhere (another host for this tenant) or at other events


def _ours(target: str, tenant_id: str) -> bool:
    return target.rstrip("/").endswith(f"{WEBHOOK_PATH}{tenant_id}")


def register_webhooks(client: AcuityClient, tenant_id: str, target: str) -> Registration:
    """Make the account send exactly REGISTERED_EVENTS to `target`, reading what it has first."""
    try:
        hooks: list[Webhook] = _paced(client.webhooks)
        removed = 0
        kept: list[str] = []
        for hook in hooks:
            if not _ours(hook.target, tenant_id):
                continue
            if hook.target == target and hook.event in REGISTERED_EVENTS and hook.event not in kept:
                kept.append(hook.event)
            else:
                _paced(partial(client.delete_webhook, hook.id))
                removed += 1
        missing = [event for event in REGISTERED_EVENTS if event not in kept]
        room = MAX_WEBHOOKS - (len(hooks) - removed)
        if len(missing) > room:
            raise AcuityRefused(
                f"Acuity allows {MAX_WEBHOOKS} webhooks per account and this one has {len(hooks) - removed}: remove "
                f"{len(missing) - room} you no longer use (Integrations → API → webhooks in Acuity), then try again"
            )
        for event in missing:
            _paced(partial(client.create_webhook, event, target))
    except AcuityError as error:
        raise AcuityRefused(str(error)) from None
    return Registration(tuple(missing), tuple(kept), removed)


def remove_webhooks(client: AcuityClient, tenant_id: str) -> int:
    """Delete every subscription of this account that points at this tenant; how many there were."""
    try:
        ours = [hook for hook in _paced(client.webhooks) if _ours(hook.target, tenant_id)]
        for hook in ours:
            _paced(partial(client.delete_webhook, hook.id))
    except AcuityError as error:
        raise AcuityRefused(str(error)) from None
    return len(ours)


def _paced(call: Callable[[], _T], sleep: Callable[[float], None] = time.sleep) -> _T:
    """`call`, waited through Acuity's 429s when they are short (10 requests a second per IP, all tenants together)."""
    for attempt in range(RATE_LIMIT_TRIES):
        try:
            return call()
        except AcuityRateLimited as limited:
            if attempt == RATE_LIMIT_TRIES - 1 or limited.retry_after > LONGEST_WAIT:
                raise
            sleep(max(limited.retry_after, 0.1))
    raise AssertionError("unreachable")
