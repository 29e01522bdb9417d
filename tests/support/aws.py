"""Our AWS code runs against moto, with the resources created from template.yaml itself."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import boto3
import pytest

from acuity_sync.store.kms import SecretBox
from acuity_sync.store.tenants import TenantProfile, TenantStore
from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = PROJECT_ROOT / "template.yaml"
REGION = "us-east-1"


def set_fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")


def tenant_store(stack: ProvisionedStack) -> TenantStore:
    box = SecretBox(boto3.client("kms", region_name=stack.region), stack.kms_key_arn)
    return TenantStore(boto3.client("dynamodb", region_name=stack.region), stack.table_name, box)


def add_tenant(stack: ProvisionedStack, profile: TenantProfile) -> TenantProfile:
    return tenant_store(stack).create(profile)


@contextmanager
def loaded_handler(stack: ProvisionedStack, logical_id: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """Import the handler module the template names, fresh, with the function's environment (as a cold start)."""
    spec = stack.functions[logical_id]
    for name, value in spec.environment.items():
        monkeypatch.setenv(name, value)
    module_name, _, _function = spec.handler.rpartition(".")
    path = spec.code_dir / f"{module_name}.py"
    unique = f"_handler_under_test_{logical_id}"
    module_spec = importlib.util.spec_from_file_location(unique, path)
    assert module_spec is not None
    assert module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[unique] = module
    try:
        module_spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(unique, None)


def queue_depths(stack: ProvisionedStack) -> dict[str, int]:
    sqs = boto3.client("sqs", region_name=stack.region)
    depths = {}
    for logical_id, url in stack.queue_urls.items():
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        depths[logical_id] = int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )
    return depths
