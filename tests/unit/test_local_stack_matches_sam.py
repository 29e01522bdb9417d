"""What the local stack derives from template.yaml is what SAM itself makes of it.

aws-sam-translator (the library behind `sam build`/`sam deploy` and CloudFormation's Serverless transform) expands
the template into plain CloudFormation: Lambda functions with SAM's Globals merged in, event source mappings, the
HTTP API's stage with its route settings. The local stack reads the same template its own way (stack/cloudformation/
function_specs.py); here both readings are compared, the intrinsic values on both sides resolved against the same
physical resources, so that only how each derived them can differ.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import pytest
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack, as_string, load_template, resolve_stack
from acuity_sync_toolkit.stack.cloudformation.intrinsics import Resolver
from acuity_sync_toolkit.stack.cloudformation.resources import derived_attributes
from acuity_sync_toolkit.stack.cloudformation.template import (
    DYNAMODB_TABLE,
    KMS_KEY,
    SECRETS_MANAGER,
    SERVERLESS_FUNCTION,
    SQS_QUEUE,
)

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
STACK_NAME = "sam-check"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
LAMBDA_SQS_DEFAULT_BATCH_SIZE = 10  # what Lambda uses when an SQS event source sets no BatchSize
SAM_METHODS = {"x-amazon-apigateway-any-method": "ANY"}  # OpenAPI's name for ANY; other methods are lower-cased
FUNCTION_ARN = re.compile(r"\$\{(\w+)\.Arn\}")


def physical_id(logical_id: str, kind: str) -> str:
    """A plausible Ref value for each resource the local stack creates (nothing is created here)."""
    name = f"{STACK_NAME}-{logical_id}"
    return {
        KMS_KEY: "0b1f3ad2-54d7-4c1e-9a52-6b3f0c9e2d41",
        DYNAMODB_TABLE: name,
        SQS_QUEUE: f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{name}.fifo",
        SECRETS_MANAGER: f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{name}-AbCdEf",
    }[kind]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


@pytest.fixture(scope="module")
def physical_ids(template: dict[str, Any]) -> dict[str, str]:
    kinds = (KMS_KEY, DYNAMODB_TABLE, SQS_QUEUE, SECRETS_MANAGER)
    return {
        logical_id: physical_id(logical_id, resource["Type"])
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] in kinds
    }


@pytest.fixture(scope="module")
def local(physical_ids: dict[str, str]) -> ProvisionedStack:
    """The local stack's reading of the template."""
    return resolve_stack(TEMPLATE, physical_ids, stack_name=STACK_NAME, region=REGION, account_id=ACCOUNT_ID)


@pytest.fixture(scope="module")
def sam(template: dict[str, Any]) -> dict[str, Any]:
    """SAM's expansion of the template, after `sam package` (which points each CodeUri and ContentUri at S3)."""
    packaged = copy.deepcopy(template)
    for resource in packaged["Resources"].values():
        properties = resource.get("Properties") or {}
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://packaged-artifacts/{properties[key]}"
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=REGION))
    expanded: dict[str, Any] = translator.translate(packaged, parameter_values={}, get_managed_policy_map=dict)
    return expanded


@pytest.fixture(scope="module")
def resolve(sam: dict[str, Any], local: ProvisionedStack, template: dict[str, Any]) -> Resolver:
    """Resolves SAM's intrinsic values against the same resources the local stack's reading was resolved against."""
    resolver = Resolver(sam, stack_name=STACK_NAME, region=REGION, account_id=ACCOUNT_ID, parameters=None)
    for logical_id, value in local.physical_ids.items():
        kind = template["Resources"][logical_id]["Type"]
        resolver.record(logical_id, value, derived_attributes(kind, value, REGION, ACCOUNT_ID))
    return resolver


def sam_resources(sam: Mapping[str, Any], kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in sam["Resources"].items():
        if resource["Type"] == kind:
            yield logical_id, resource.get("Properties") or {}


def test_sam_makes_a_lambda_function_of_each_function_the_local_stack_runs(
    sam: dict[str, Any], local: ProvisionedStack, template: dict[str, Any]
) -> None:
    declared = {name for name, resource in template["Resources"].items() if resource["Type"] == SERVERLESS_FUNCTION}
    assert set(local.functions) == declared == dict(sam_resources(sam, "AWS::Lambda::Function")).keys()
    assert len(declared) == 6  # the webhook, three sync functions, the connect and the maintenance functions


def test_each_functions_environment_handler_timeout_and_memory_are_sams(
    sam: dict[str, Any], local: ProvisionedStack, resolve: Resolver
) -> None:
    for name, properties in sam_resources(sam, "AWS::Lambda::Function"):
        spec = local.functions[name]
        variables = properties["Environment"]["Variables"]
        assert spec.environment == {key: as_string(resolve.resolve(value)) for key, value in variables.items()}, name
        assert spec.handler == properties["Handler"]
        assert spec.runtime == properties["Runtime"]
        assert spec.timeout_seconds == int(resolve.resolve(properties["Timeout"]))
        assert spec.memory_mb == int(resolve.resolve(properties["MemorySize"]))


def test_the_event_source_mappings_are_sams(sam: dict[str, Any], local: ProvisionedStack) -> None:
    expected = {
        (
            mapping["FunctionName"]["Ref"],
            mapping["EventSourceArn"]["Fn::GetAtt"][0],
            mapping.get("BatchSize", LAMBDA_SQS_DEFAULT_BATCH_SIZE),
            (mapping.get("ScalingConfig") or {}).get("MaximumConcurrency"),
            "ReportBatchItemFailures" in mapping.get("FunctionResponseTypes", []),
        )
        for _, mapping in sam_resources(sam, "AWS::Lambda::EventSourceMapping")
    }
    derived = {
        (
            spec.logical_id,
            source.queue_logical_id,
            source.batch_size,
            source.maximum_concurrency,
            source.report_batch_item_failures,
        )
        for spec in local.functions.values()
        for source in spec.queue_sources
    }
    assert derived == expected
    assert len(expected) == 3, "one mapping per ledger queue"


def test_the_routes_and_their_throttles_are_sams(sam: dict[str, Any], local: ProvisionedStack) -> None:
    stages = dict(sam_resources(sam, "AWS::ApiGatewayV2::Stage"))
    expected = set()
    for api_id, api in sam_resources(sam, "AWS::ApiGatewayV2::Api"):
        (stage,) = (stage for stage in stages.values() if stage["ApiId"] == {"Ref": api_id})
        for path, operations in api["Body"]["paths"].items():
            for operation, definition in operations.items():
                method = SAM_METHODS.get(operation, operation.upper())
                integration = definition["x-amazon-apigateway-integration"]
                (function,) = FUNCTION_ARN.findall(integration["uri"]["Fn::Sub"])
                throttles = {
                    **(stage.get("DefaultRouteSettings") or {}),
                    **(stage.get("RouteSettings") or {}).get(f"{method} {path}", {}),
                }
                expected.add(
                    (
                        function,
                        method,
                        path,
                        integration["payloadFormatVersion"],
                        throttles.get("ThrottlingBurstLimit"),
                        throttles.get("ThrottlingRateLimit"),
                    )
                )
    derived = {
        (
            spec.logical_id,
            route.method,
            route.path,
            route.payload_format_version,
            route.throttling_burst_limit,
            route.throttling_rate_limit,
        )
        for spec in local.functions.values()
        for route in spec.http_routes
    }
    assert derived == expected
    assert ("WebhookFunction", "POST", "/webhooks/acuity/{tenant_id}", "2.0", 200, 100) in expected


def test_the_schedules_are_sams(sam: dict[str, Any], local: ProvisionedStack) -> None:
    """SAM makes an EventBridge rule of each Schedule event; the local stack runs the function on the same rate."""
    expected = set()
    for _, rule in sam_resources(sam, "AWS::Events::Rule"):
        (target,) = rule["Targets"]
        function = target["Arn"]["Fn::GetAtt"][0]
        expected.add((function, rule["ScheduleExpression"], rule.get("State", "ENABLED") == "ENABLED"))
    derived = {
        (spec.logical_id, schedule.expression, schedule.enabled)
        for spec in local.functions.values()
        for schedule in spec.schedules
    }
    assert derived == expected
    assert ("MaintenanceFunction", "rate(5 minutes)", True) in expected
    (maintenance_schedule,) = local.functions["MaintenanceFunction"].schedules
    assert maintenance_schedule.rate_seconds == 300
