"""What a function reads from its environment (set by template.yaml, or by the local stack from it).
Secrets are never here: they come from DynamoDB (KMS-encrypted) or Secrets Manager."""

from __future__ import annotations

import os
from dataclasses import dataclass

from botocore.config import Config

from acuity_sync.domain.names import ALL_LEDGERS, LedgerName


def queue_url_variable(ledger: LedgerName) -> str:
    return f"QUEUE_URL_{ledger.upper()}"


@dataclass(frozen=True, slots=True)
class FunctionSettings:
    table_name: str
    kms_key_id: str
    queue_urls: dict[LedgerName, str]

    @classmethod
    def from_environment(cls) -> FunctionSettings:
        return cls(
            table_name=os.environ["TABLE_NAME"],
            kms_key_id=os.environ["KMS_KEY_ID"],
            queue_urls={
                ledger: os.environ[queue_url_variable(ledger)]
                for ledger in ALL_LEDGERS
                if queue_url_variable(ledger) in os.environ
            },
        )


# The webhook answers Acuity while it waits: short timeouts, few retries, then a 503 that Acuity retries.
WEBHOOK_AWS_CONFIG = Config(connect_timeout=2, read_timeout=3, retries={"mode": "standard", "total_max_attempts": 2})


@dataclass(frozen=True, slots=True)
class SyncFunctionSettings:
    """A sync function's environment: its ledger's queue, the secret holding our OAuth client for that ledger
    (Secrets Manager, read through Powertools Parameters), and the ledger's API base URL (the local stack points
    it at a fake)."""

    table_name: str
    kms_key_id: str
    queue_url: str
    oauth_secret_name: str
    api_url: str | None
    time_scale: float  # ACUITY_SYNC_TIME_SCALE: set below 1 by the local stack only; never in the template

    @classmethod
    def from_environment(cls, ledger: LedgerName) -> SyncFunctionSettings:
        return cls(
            table_name=os.environ["TABLE_NAME"],
            kms_key_id=os.environ["KMS_KEY_ID"],
            queue_url=os.environ[queue_url_variable(ledger)],
            oauth_secret_name=os.environ["OAUTH_SECRET_NAME"],
            api_url=os.environ.get("LEDGER_API_URL") or None,
            time_scale=float(os.environ.get("ACUITY_SYNC_TIME_SCALE", "1")),
        )


@dataclass(frozen=True, slots=True)
class MaintenanceSettings:
    """The maintenance function's environment: every ledger's queue (it re-enqueues) and OAuth client secret (it
    refreshes tokens before they lapse)."""

    table_name: str
    kms_key_id: str
    queue_urls: dict[LedgerName, str]
    oauth_secret_names: dict[LedgerName, str]
    time_scale: float  # ACUITY_SYNC_TIME_SCALE: set below 1 by the local stack only; never in the template

    @classmethod
    def from_environment(cls) -> MaintenanceSettings:
        return cls(
            table_name=os.environ["TABLE_NAME"],
            kms_key_id=os.environ["KMS_KEY_ID"],
            queue_urls=FunctionSettings.from_environment().queue_urls,
            oauth_secret_names={
                ledger: os.environ[oauth_secret_variable(ledger)]
                for ledger in ALL_LEDGERS
                if oauth_secret_variable(ledger) in os.environ
            },
            time_scale=float(os.environ.get("ACUITY_SYNC_TIME_SCALE", "1")),
        )


# The sync functions have a minute per batch: room for retries, still far inside the visibility timeout.
SYNC_AWS_CONFIG = Config(connect_timeout=3, read_timeout=10, retries={"mode": "standard", "total_max_attempts": 3})


def oauth_secret_variable(ledger: LedgerName) -> str:
    return f"OAUTH_SECRET_{ledger.upper()}"


def api_url_variable(ledger: LedgerName) -> str:
    return f"LEDGER_API_URL_{ledger.upper()}"


@dataclass(frozen=True, slots=True)
class ConnectFunctionSettings:
    """The connect function's environment: the three queues (a reconnect or a settings change re-queues parked
    events), our OAuth client's secret and the API URL of each ledger, and the secret holding the key that signs
    admin links, sessions and CSRF tokens (both read through Powertools Parameters)."""

    table_name: str
    kms_key_id: str
    queue_urls: dict[LedgerName, str]
    oauth_secret_names: dict[LedgerName, str]
    api_urls: dict[LedgerName, str]
    signing_secret_name: str
    time_scale: float  # ACUITY_SYNC_TIME_SCALE: set below 1 by the local stack only; never in the template

    @classmethod
    def from_environment(cls) -> ConnectFunctionSettings:
        return cls(
            table_name=os.environ["TABLE_NAME"],
            kms_key_id=os.environ["KMS_KEY_ID"],
            queue_urls={ledger: os.environ[queue_url_variable(ledger)] for ledger in ALL_LEDGERS},
            oauth_secret_names={ledger: os.environ[oauth_secret_variable(ledger)] for ledger in ALL_LEDGERS},
            api_urls={ledger: os.environ.get(api_url_variable(ledger), "") for ledger in ALL_LEDGERS},
            signing_secret_name=os.environ["SIGNING_SECRET_NAME"],
            time_scale=float(os.environ.get("ACUITY_SYNC_TIME_SCALE", "1")),
        )


# The connect function answers a person in a browser: short timeouts, one retry.
CONNECT_AWS_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 2})
