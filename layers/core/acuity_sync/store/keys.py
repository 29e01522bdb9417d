"""The table's keys, in one place (README "The table" lists them). E-mails never appear in keys."""

from __future__ import annotations

import hashlib
import re

from acuity_sync.domain.names import EventKind, LedgerName

TTL_ATTRIBUTE = "expires_at"
PROFILE = "PROFILE"

# Tenant ids are random and unguessable (defence in depth beside the signature); anything else is unknown
# without a table read.
_TENANT_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")


def is_well_formed_tenant_id(tenant_id: str) -> bool:
    return _TENANT_ID.fullmatch(tenant_id) is not None


def tenant_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


def connection_sk(ledger: LedgerName) -> str:
    return f"CONN#{ledger}"


def settings_sk(ledger: LedgerName) -> str:
    return f"SETTINGS#{ledger}"


def snapshot_sk(kind: EventKind, object_id: int) -> str:
    return f"SNAP#{kind}#{object_id}"


def code_sk(code: str) -> str:
    """A package, gift certificate, subscription or coupon code's kind, per tenant (store/codes.py): the code is
    hashed, as it is a bearer credential for a prepaid service."""
    return "CODE#" + hashlib.sha256(code.strip().casefold().encode("utf-8")).hexdigest()


def ledger_pk(tenant_id: str, ledger: LedgerName | None) -> str:
    """Sync records, customer cache, audit trail and parked events live under the tenant and ledger;
    webhook-level audit entries (before any ledger is involved) live under the tenant alone."""
    return tenant_pk(tenant_id) if ledger is None else f"TENANT#{tenant_id}#{ledger}"


def record_sk(kind: EventKind, object_id: int) -> str:
    return f"{'APPT' if kind is EventKind.APPOINTMENT else 'ORDER'}#{object_id}"


def audit_sk(kind: EventKind | None, object_id: int, timestamp: str, request_id: str) -> str:
    return f"LOG#{kind or 'unknown'}#{object_id}#{timestamp}#{request_id}"


PARKED_PREFIX = "PARK#"


def parked_sk(kind: EventKind, object_id: int) -> str:
    return f"{PARKED_PREFIX}{kind}#{object_id}"


# The connect flow's one-time values (OAuth states, admin link nonces): keyed by a hash of the value, never the value.
ONE_TIME = "ONCE"


def one_time_pk(kind: str, digest: str) -> str:
    return f"ONCE#{kind}#{digest}"


def pending_grant_sk(ledger: LedgerName) -> str:
    """A consent's tokens while the owner chooses which of its companies to connect (short TTL)."""
    return f"PENDING#{ledger}"


LAST_SYNC = "LAST_SYNC"  # under ledger_pk(tenant, ledger): the latest outcome saved, for the settings page


SEEN_PREFIX = "SEEN#"


def seen_sk(kind: EventKind, object_id: int) -> str:
    """The Acuity state the last finished sync of one appointment or order read (store/seen.py)."""
    return f"{SEEN_PREFIX}{kind}#{object_id}"


TENANT_LIST = "TENANTS"  # gsi1pk of every tenant profile: the tenants, listed in id order (maintenance rotates)
MAINTENANCE_PK = "MAINTENANCE"  # the maintenance function's own items: where each part's rotation stands


def backfill_sk(kind: EventKind, object_id: int) -> str:
    """An appointment or order waiting to be backfilled into one ledger (store/backfills.py)."""
    return f"BACKFILL#{kind}#{object_id}"
