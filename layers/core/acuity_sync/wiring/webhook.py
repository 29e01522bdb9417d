"""The webhook function's intake, from its environment. Imports only what the webhook needs (cold starts)."""

from __future__ import annotations

import boto3

from acuity_sync.intake import WebhookIntake
from acuity_sync.queues import LedgerQueues
from acuity_sync.store.audit import AuditTrail
from acuity_sync.store.kms import SecretBox
from acuity_sync.store.tenant_cache import TenantDirectory
from acuity_sync.store.tenants import TenantStore
from acuity_sync.wiring.config import WEBHOOK_AWS_CONFIG, FunctionSettings


def build_webhook_intake(settings: FunctionSettings | None = None) -> WebhookIntake:
    settings = settings or FunctionSettings.from_environment()
    dynamodb = boto3.client("dynamodb", config=WEBHOOK_AWS_CONFIG)
    kms = boto3.client("kms", config=WEBHOOK_AWS_CONFIG)
    sqs = boto3.client("sqs", config=WEBHOOK_AWS_CONFIG)
    tenants = TenantStore(dynamodb, settings.table_name, SecretBox(kms, settings.kms_key_id))
    return WebhookIntake(
        tenants=TenantDirectory(tenants),
        queues=LedgerQueues(sqs, settings.queue_urls),
        audit=AuditTrail(dynamodb, settings.table_name),
    )
