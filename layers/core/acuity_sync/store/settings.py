"""A tenant's settings per ledger: item `TENANT#{t}` / `SETTINGS#{ledger}`, the settings as JSON, versioned.

Every write names the version it was based on, so two people (or the settings page and the CLI) changing the
settings at once cannot silently overwrite each other: the second gets SettingsConflict and re-reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from acuity_sync.domain.names import LedgerName
from acuity_sync.domain.settings import LedgerSettings
from acuity_sync.ledgers.registry import default_settings, parse_settings, settings_error_messages
from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.keys import PROFILE, is_well_formed_tenant_id, settings_sk, tenant_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import PutTypeDef


@dataclass(frozen=True, slots=True)
class VersionedSettings:
    """The settings and the version to name when changing them; version 0 means never saved (the defaults)."""

    settings: LedgerSettings
    version: int
    updated_at: str = ""


class SettingsConflict(Exception):
    """The settings changed since they were read: read them again and reapply the change."""

    def __init__(self, tenant_id: str, ledger: LedgerName, expected_version: int, current_version: int | None) -> None:
        now = "" if current_version is None else f" (now version {current_version})"
        super().__init__(
            f"the {ledger} settings of tenant {tenant_id} were changed by someone else since version "
            f"{expected_version} was read{now}; read them again and reapply the change"
        )
        self.tenant_id = tenant_id
        self.ledger = ledger
        self.expected_version = expected_version
        self.current_version = current_version


class UnknownTenant(LookupError):
    """No profile for this tenant id: settings are never stored for a tenant that does not exist."""

    def __init__(self, tenant_id: str) -> None:
        super().__init__(f"no tenant {tenant_id!r}")
        self.tenant_id = tenant_id


class StoredSettingsInvalid(ValueError):
    """The stored document no longer validates (e.g. written by a newer release); never guessed around."""

    def __init__(self, tenant_id: str, ledger: LedgerName, messages: list[str]) -> None:
        super().__init__(f"the stored {ledger} settings of tenant {tenant_id} are invalid: " + "; ".join(messages))
        self.messages = messages


def settings_key(tenant_id: str, ledger: LedgerName) -> dict[str, Any]:
    return {"pk": {"S": tenant_pk(tenant_id)}, "sk": {"S": settings_sk(ledger)}}


def settings_from_item(tenant_id: str, ledger: LedgerName, item: Mapping[str, Any] | None) -> VersionedSettings:
    """The settings a stored item holds (the defaults at version 0 without one); StoredSettingsInvalid when its
    document no longer validates."""
    if item is None:
        return VersionedSettings(default_settings(ledger), 0)
    try:
        settings = parse_settings(ledger, json.loads(item["settings"]["S"]))
    except ValidationError as error:
        raise StoredSettingsInvalid(tenant_id, ledger, settings_error_messages(error)) from error
    return VersionedSettings(settings, int(item["version"]["N"]), item.get("updated_at", {}).get("S", ""))


def _now() -> datetime:
    return datetime.now(UTC)


class SettingsStore:
    """One GetItem to read; one transaction to write (the tenant must exist, the version must match)."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str, *, clock: Callable[[], datetime] = _now) -> None:
        self._dynamodb = dynamodb
        self._table_name = table_name
        self._clock = clock

    def get(self, tenant_id: str, ledger: LedgerName) -> VersionedSettings:
        """The stored settings, or the defaults at version 0; StoreUnavailable when DynamoDB fails."""
        ledger = LedgerName(ledger)
        try:
            item = self._dynamodb.get_item(
                TableName=self._table_name,
                Key=settings_key(tenant_id, ledger),
                ConsistentRead=True,  # a read-modify-write must start from the latest version
            ).get("Item")
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"settings unavailable: {type(error).__name__}") from error
        return settings_from_item(tenant_id, ledger, item)

    def put(self, tenant_id: str, ledger: LedgerName, settings: LedgerSettings, expected_version: int) -> int:
        """Save `settings` if they are still at `expected_version` (0: never saved); returns the new version.
        Raises SettingsConflict, UnknownTenant, or StoreUnavailable."""
        ledger = LedgerName(ledger)
        if settings.ledger != ledger:
            raise ValueError(f"{settings.ledger} settings cannot be saved as the {ledger} settings")
        if expected_version < 0:
            raise ValueError(f"expected_version must be 0 or more (got {expected_version})")
        if not is_well_formed_tenant_id(tenant_id):
            raise UnknownTenant(tenant_id)
        version = expected_version + 1
        put: PutTypeDef = {
            "TableName": self._table_name,
            "Item": {
                **settings_key(tenant_id, ledger),
                "settings": {"S": settings.model_dump_json()},
                "version": {"N": str(version)},
                "updated_at": {"S": self._clock().isoformat(timespec="seconds")},
            },
            "ConditionExpression": "attribute_not_exists(pk)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",  # the current version, for the conflict's message
        }
        if expected_version > 0:
            put["ConditionExpression"] = "version = :expected"
            put["ExpressionAttributeValues"] = {":expected": {"N": str(expected_version)}}
        try:
            self._dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": self._table_name,
                            "Key": {"pk": {"S": tenant_pk(tenant_id)}, "sk": {"S": PROFILE}},
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    {"Put": put},
                ]
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise StoreUnavailable(f"settings not saved: {type(error).__name__}") from error
            raise self._cancelled(error, tenant_id, ledger, expected_version) from error
        except BotoCoreError as error:
            raise StoreUnavailable(f"settings not saved: {type(error).__name__}") from error
        return version

    @staticmethod
    def _cancelled(error: ClientError, tenant_id: str, ledger: LedgerName, expected_version: int) -> Exception:
        """Which condition failed: the tenant (first item) or the version (second); else, e.g. a concurrent
        transaction on the same items, the store was busy and a retry may pass."""
        reasons: list[dict[str, Any]] = list(error.response.get("CancellationReasons", []))  # type: ignore[arg-type]
        codes = [reason.get("Code") for reason in reasons]
        if codes[:1] == ["ConditionalCheckFailed"]:
            return UnknownTenant(tenant_id)
        if codes[1:2] == ["ConditionalCheckFailed"]:
            old = reasons[1].get("Item", {}).get("version", {}).get("N")
            return SettingsConflict(tenant_id, ledger, expected_version, int(old) if old is not None else None)
        return StoreUnavailable(f"settings not saved: transaction cancelled ({', '.join(map(str, codes))})")
