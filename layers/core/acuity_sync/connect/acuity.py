"""The Acuity account of a tenant: its user id and API key checked with `GET /me` (a refusal said in words the
owner can act on), and the webhooks that send its changes to the tenant's URL, registered through Acuity's API:
only `appointment.changed` and `order.completed` (DESIGN.md principle 1), idempotently (`GET /webhooks` first: a
subscription already there is kept, one of ours pointing elsewhere is replaced), within Acuity's 25 per account,
and removed again on request. `acuity-sync tenant add` and the settings page both come here."""

from __future__ import annotations

from dataclasses import dataclass

from acuity_sync.acuity.client import AcuityClient, AcuityError
from acuity_sync.acuity.models import AccountInfo

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
        return client.me()
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
        hooks = client.webhooks()
        removed = 0
        kept: list[str] = []
        for hook in hooks:
            if not _ours(hook.target, tenant_id):
                continue
            if hook.target == target and hook.event in REGISTERED_EVENTS and hook.event not in kept:
                kept.append(hook.event)
            else:
                client.delete_webhook(hook.id)
                removed += 1
        missing = [event for event in REGISTERED_EVENTS if event not in kept]
        room = MAX_WEBHOOKS - (len(hooks) - removed)
        if len(missing) > room:
            raise AcuityRefused(
                f"Acuity allows {MAX_WEBHOOKS} webhooks per account and this one has {len(hooks) - removed}: remove "
                f"{len(missing) - room} you no longer use (Integrations → API → webhooks in Acuity), then try again"
            )
        for event in missing:
            client.create_webhook(event, target)
    except AcuityError as error:
        raise AcuityRefused(str(error)) from None
    return Registration(tuple(missing), tuple(kept), removed)


def remove_webhooks(client: AcuityClient, tenant_id: str) -> int:
    """Delete every subscription of this account that points at this tenant; how many there were."""
    try:
        ours = [hook for hook in client.webhooks() if _ours(hook.target, tenant_id)]
        for hook in ours:
            client.delete_webhook(hook.id)
    except AcuityError as error:
        raise AcuityRefused(str(error)) from None
    return len(ours)
