"""template.yaml keeps its promises: least privilege, FIFO queues that cannot lose or merge events, a
throttled webhook, and a dashboard and alarms that name metrics the code really emits.

Read with acuity_sync_toolkit.stack.cloudformation.load_template (the loader the local stack uses), so these tests
also pin how the short-form tags are read.
"""

from __future__ import annotations

import ast
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from acuity_sync.domain.names import ALL_LEDGERS, LedgerName
from acuity_sync.intake import WebhookOutcome
from acuity_sync.ledgers.registry import ledger_declaration
from acuity_sync.observability import NAMESPACE, MetricName
from acuity_sync.store.keys import TTL_ATTRIBUTE
from acuity_sync.wiring.config import api_url_variable, oauth_secret_variable, queue_url_variable
from acuity_sync_toolkit.stack.cloudformation import TemplateError, load_template, resolve_stack

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"
TEMPLATE = load_template(TEMPLATE_PATH)
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]

SOURCE_QUEUES = {
    LedgerName.QUICKBOOKS: "QuickBooksQueue",
    LedgerName.XERO: "XeroQueue",
    LedgerName.FRESHBOOKS: "FreshBooksQueue",
}
DEAD_LETTER_QUEUES = {
    LedgerName.QUICKBOOKS: "QuickBooksDeadLetterQueue",
    LedgerName.XERO: "XeroDeadLetterQueue",
    LedgerName.FRESHBOOKS: "FreshBooksDeadLetterQueue",
}

# Every function's whole grant, as (action, resource) pairs. A function missing here fails: write its set.
LEAST_PRIVILEGE: dict[str, set[tuple[str, str]]] = {
    "WebhookFunction": {
        ("dynamodb:GetItem", "AppTable.Arn"),
        ("dynamodb:PutItem", "AppTable.Arn"),
        ("kms:Decrypt", "AppKey.Arn"),
        # SendMessage to a KMS-encrypted queue needs a data key generated with the caller's rights.
        ("kms:GenerateDataKey", "AppKey.Arn"),
        ("sqs:SendMessage", "QuickBooksQueue.Arn"),
        ("sqs:SendMessage", "XeroQueue.Arn"),
        ("sqs:SendMessage", "FreshBooksQueue.Arn"),
    },
    "SyncQuickBooksFunction": {
        ("dynamodb:GetItem", "AppTable.Arn"),
        ("dynamodb:PutItem", "AppTable.Arn"),
        ("dynamodb:UpdateItem", "AppTable.Arn"),
        ("dynamodb:DeleteItem", "AppTable.Arn"),
        ("kms:Decrypt", "AppKey.Arn"),
        ("kms:Encrypt", "AppKey.Arn"),
        ("sqs:ReceiveMessage", "QuickBooksQueue.Arn"),
        ("sqs:DeleteMessage", "QuickBooksQueue.Arn"),
        ("sqs:GetQueueAttributes", "QuickBooksQueue.Arn"),
        ("sqs:ChangeMessageVisibility", "QuickBooksQueue.Arn"),
        ("secretsmanager:GetSecretValue", "QuickBooksOAuthSecret"),
    },
    **{
        f"Sync{name}Function": {
            ("dynamodb:GetItem", "AppTable.Arn"),
            ("dynamodb:PutItem", "AppTable.Arn"),
            ("dynamodb:UpdateItem", "AppTable.Arn"),
            ("dynamodb:DeleteItem", "AppTable.Arn"),
            ("kms:Decrypt", "AppKey.Arn"),
            ("kms:Encrypt", "AppKey.Arn"),
            ("sqs:ReceiveMessage", f"{name}Queue.Arn"),
            ("sqs:DeleteMessage", f"{name}Queue.Arn"),
            ("sqs:GetQueueAttributes", f"{name}Queue.Arn"),
            ("sqs:ChangeMessageVisibility", f"{name}Queue.Arn"),
            ("secretsmanager:GetSecretValue", f"{name}OAuthSecret"),
        }
        for name in ("Xero", "FreshBooks")
    },
    "ConnectFunction": {
        ("dynamodb:GetItem", "AppTable.Arn"),
        ("dynamodb:PutItem", "AppTable.Arn"),
        ("dynamodb:UpdateItem", "AppTable.Arn"),
        ("dynamodb:DeleteItem", "AppTable.Arn"),
        ("dynamodb:Query", "AppTable.Arn"),  # a tenant's parked events for one ledger (the table, not the index)
        ("dynamodb:ConditionCheckItem", "AppTable.Arn"),  # a settings change checks the tenant in its transaction
        # Conditioned on the encryption context (test below): the Acuity key, and tokens of our three ledgers.
        ("kms:Encrypt", "AppKey.Arn"),
        ("kms:Decrypt", "AppKey.Arn"),
        ("kms:GenerateDataKey", "AppKey.Arn"),  # only via SQS
        ("sqs:SendMessage", "QuickBooksQueue.Arn"),
        ("sqs:SendMessage", "XeroQueue.Arn"),
        ("sqs:SendMessage", "FreshBooksQueue.Arn"),
        ("secretsmanager:GetSecretValue", "QuickBooksOAuthSecret"),
        ("secretsmanager:GetSecretValue", "XeroOAuthSecret"),
        ("secretsmanager:GetSecretValue", "FreshBooksOAuthSecret"),
        ("secretsmanager:GetSecretValue", "ConnectSigningSecret"),
    },
}
# Every KMS right of the connect function, with the condition it is granted under (the wave-2 plan's encryption
# contexts: the Acuity key by purpose; tokens by purpose and ledger; Secrets Manager's and SQS's use via the service).
CONNECT_KMS_CONDITIONS: dict[str, dict[str, Any]] = {
    "AcuityApiKeys": {"StringEquals": {"kms:EncryptionContext:purpose": "acuity_api_key"}},
    "LedgerTokens": {
        "StringEquals": {
            "kms:EncryptionContext:purpose": ["oauth_access_token", "oauth_refresh_token"],
            "kms:EncryptionContext:ledger": ["quickbooks", "xero", "freshbooks"],
        }
    },
    "OpenSecretsThroughSecretsManager": {
        "StringEquals": {"kms:ViaService": {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"}}
    },
    "EncryptQueuedMessages": {"StringEquals": {"kms:ViaService": {"Fn::Sub": "sqs.${AWS::Region}.amazonaws.com"}}},
}
CONNECT_ROUTES = {
    "GET /connect/enter",
    "GET /connect",
    "POST /connect/acuity",
    "GET /connect/{ledger}",
    "GET /oauth/{ledger}/callback",
    "GET /connect/{ledger}/company",
    "POST /connect/{ledger}/company",
    "POST /connect/{ledger}/settings",
    "POST /connect/{ledger}/disconnect",
}
# The maintenance function: its table and index operations (no Scan: every list is the GSI's or a partition's),
# KMS only under the conditions test_maintenance_keys_are_used_only_for_what_it_opens states, the OAuth clients
# of the ledgers whose refresh tokens lapse, and the three queues it puts events back on.
LEAST_PRIVILEGE["MaintenanceFunction"] = {
    ("dynamodb:GetItem", "AppTable.Arn"),
    ("dynamodb:PutItem", "AppTable.Arn"),
    ("dynamodb:UpdateItem", "AppTable.Arn"),
    ("dynamodb:DeleteItem", "AppTable.Arn"),
    ("dynamodb:BatchGetItem", "AppTable.Arn"),
    ("dynamodb:Query", "AppTable.Arn"),
    ("dynamodb:Query", "${AppTable.Arn}/index/gsi1"),
    ("kms:Decrypt", "AppKey.Arn"),
    ("kms:Encrypt", "AppKey.Arn"),
    ("kms:GenerateDataKey", "AppKey.Arn"),
    ("secretsmanager:GetSecretValue", "QuickBooksOAuthSecret"),
    ("secretsmanager:GetSecretValue", "XeroOAuthSecret"),
    ("sqs:SendMessage", "QuickBooksQueue.Arn"),
    ("sqs:SendMessage", "XeroQueue.Arn"),
    ("sqs:SendMessage", "FreshBooksQueue.Arn"),
}
WEBHOOK_ROUTE = "POST /webhooks/acuity/{tenant_id}"


def resources_of(kind: str) -> dict[str, dict[str, Any]]:
    return {logical_id: resource for logical_id, resource in RESOURCES.items() if resource["Type"] == kind}


def properties(logical_id: str) -> dict[str, Any]:
    result: dict[str, Any] = RESOURCES[logical_id].get("Properties") or {}
    return result


def reference(value: Any) -> str:
    """A Ref or GetAtt written as `Name` or `Name.Attribute`; a literal as itself."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return ".".join(value["Fn::GetAtt"])
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        return str(value["Fn::Sub"])
    return str(value)


def static(value: Any) -> Any:
    """A value the template fixes without deploying: a literal or a FindInMap."""
    if isinstance(value, dict) and "Fn::FindInMap" in value:
        map_name, top, second = value["Fn::FindInMap"]
        return TEMPLATE["Mappings"][map_name][top][second]
    return value


def sync_timeout_seconds() -> int:
    return int(TEMPLATE["Mappings"]["Limits"]["SyncFunction"]["TimeoutSeconds"])


def function_properties(logical_id: str) -> dict[str, Any]:
    """A function's properties with SAM's Globals merged in (Environment maps merge)."""
    merged = dict(properties(logical_id))
    globals_function = (TEMPLATE.get("Globals") or {}).get("Function") or {}
    variables = {
        **((globals_function.get("Environment") or {}).get("Variables") or {}),
        **((merged.get("Environment") or {}).get("Variables") or {}),
    }
    merged["Environment"] = {"Variables": variables}
    return merged


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --------------------------------------------------------------------------------- least privilege


def granted(logical_id: str) -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for policy in as_list(properties(logical_id).get("Policies") or []):
        # Managed policies and SAM policy templates grant sets nobody reviews here: inline statements only.
        assert isinstance(policy, dict), f"{logical_id}: {policy!r} is not an inline policy"
        assert set(policy) == {"Statement"}, f"{logical_id}: only inline statements, not {sorted(policy)}"
        for statement in policy["Statement"]:
            assert statement["Effect"] == "Allow"
            assert "NotAction" not in statement
            assert "NotResource" not in statement
            pairs |= {
                (action, reference(resource))
                for action in as_list(statement["Action"])
                for resource in as_list(statement["Resource"])
            }
    return pairs


def test_every_function_has_a_least_privilege_set() -> None:
    assert set(resources_of("AWS::Serverless::Function")) == set(LEAST_PRIVILEGE)


@pytest.mark.parametrize("logical_id", sorted(LEAST_PRIVILEGE))
def test_function_is_granted_exactly_its_least_privilege_set(logical_id: str) -> None:
    assert granted(logical_id) == LEAST_PRIVILEGE[logical_id]


@pytest.mark.parametrize("logical_id", sorted(LEAST_PRIVILEGE))
def test_function_has_no_other_way_to_get_rights(logical_id: str) -> None:
    function = properties(logical_id)
    globals_function = (TEMPLATE.get("Globals") or {}).get("Function") or {}
    for source in (function, globals_function):
        assert "Role" not in source
        assert "PermissionsBoundary" not in source or source is function
    assert "Policies" not in globals_function


def test_connect_function_uses_the_key_only_under_its_encryption_contexts() -> None:
    statements = [
        statement
        for policy in properties("ConnectFunction")["Policies"]
        for statement in policy["Statement"]
        if any(str(action).startswith("kms:") for action in as_list(statement["Action"]))
    ]
    assert {statement["Sid"]: statement.get("Condition") for statement in statements} == CONNECT_KMS_CONDITIONS
    # Nothing else uses the key: every kms: action sits in one of these conditioned statements.
    for statement in properties("ConnectFunction")["Policies"][0]["Statement"]:
        if statement["Sid"] not in CONNECT_KMS_CONDITIONS:
            assert not any(str(action).startswith("kms:") for action in as_list(statement["Action"]))


def test_connect_routes_are_on_the_same_api_as_the_webhook() -> None:
    events = properties("ConnectFunction")["Events"].values()
    assert {f"{event['Properties']['Method']} {event['Properties']['Path']}" for event in events} == CONNECT_ROUTES
    assert all(event["Type"] == "HttpApi" for event in events)
    assert all(event["Properties"]["ApiId"] == {"Ref": "HttpApi"} for event in events)
    assert all(event["Properties"]["PayloadFormatVersion"] == "2.0" for event in events)


def test_connect_environment_is_exactly_what_the_code_reads() -> None:
    variables = {
        name: reference(value)
        for name, value in function_properties("ConnectFunction")["Environment"]["Variables"].items()
    }
    secrets = {LedgerName.QUICKBOOKS: "QuickBooks", LedgerName.XERO: "Xero", LedgerName.FRESHBOOKS: "FreshBooks"}
    expected = (
        {
            "TABLE_NAME": "AppTable",
            "KMS_KEY_ID": "AppKey.Arn",
            "POWERTOOLS_SERVICE_NAME": "connect",
            "POWERTOOLS_METRICS_NAMESPACE": NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "LogLevel",
            "SIGNING_SECRET_NAME": "ConnectSigningSecret",
        }
        | {queue_url_variable(ledger): SOURCE_QUEUES[ledger] for ledger in ALL_LEDGERS}
        | {oauth_secret_variable(ledger): f"{secrets[ledger]}OAuthSecret" for ledger in ALL_LEDGERS}
        | {api_url_variable(ledger): f"{secrets[ledger]}ApiUrl" for ledger in ALL_LEDGERS}
    )
    assert variables == expected


def test_the_signing_key_is_generated_and_sealed_with_the_app_key() -> None:
    secret = properties("ConnectSigningSecret")
    assert secret["KmsKeyId"] == {"Ref": "AppKey"}
    assert secret["GenerateSecretString"]["PasswordLength"] >= 64
    assert "SecretStringTemplate" not in secret["GenerateSecretString"]  # the whole value is the key


def test_queue_data_keys_are_generated_only_through_sqs() -> None:
    statements = [
        statement
        for policy in properties("WebhookFunction")["Policies"]
        for statement in policy["Statement"]
        if "kms:GenerateDataKey" in as_list(statement["Action"])
    ]
    assert len(statements) == 1
    via = statements[0]["Condition"]["StringEquals"]["kms:ViaService"]
    assert via == {"Fn::Sub": "sqs.${AWS::Region}.amazonaws.com"}


def test_no_iam_resource_grants_a_wildcard() -> None:
    for logical_id, resource in RESOURCES.items():
        if not resource["Type"].startswith("AWS::IAM::"):
            continue
        documents = [resource["Properties"].get("PolicyDocument")] + [
            policy["PolicyDocument"] for policy in resource["Properties"].get("Policies", [])
        ]
        for document in filter(None, documents):
            for statement in document["Statement"]:
                assert "*" not in as_list(statement.get("Resource")), logical_id
                assert not any(str(action).endswith("*") for action in as_list(statement.get("Action"))), logical_id


# --------------------------------------------------------------------------------- key and table


def test_key_rotates_and_only_the_account_root_is_in_its_policy() -> None:
    key = properties("AppKey")
    assert key["EnableKeyRotation"] is True
    principals = [statement["Principal"] for statement in key["KeyPolicy"]["Statement"]]
    assert principals == [{"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}]
    assert properties("AppKeyAlias") == {
        "AliasName": {"Fn::Sub": "alias/${AWS::StackName}"},
        "TargetKeyId": {"Ref": "AppKey"},
    }


def test_key_and_table_survive_the_stack() -> None:
    # A retained table whose key was deleted could never be read again.
    for logical_id in ("AppKey", "AppTable"):
        assert RESOURCES[logical_id]["DeletionPolicy"] == "Retain"
        assert RESOURCES[logical_id]["UpdateReplacePolicy"] == "Retain"


def test_table_keys_index_ttl_and_encryption() -> None:
    table = properties("AppTable")
    assert "TableName" not in table
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert {(d["AttributeName"], d["AttributeType"]) for d in table["AttributeDefinitions"]} == {
        ("pk", "S"),
        ("sk", "S"),
        ("gsi1pk", "S"),
        ("gsi1sk", "S"),
    }
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "gsi1"
    assert index["KeySchema"] == [
        {"AttributeName": "gsi1pk", "KeyType": "HASH"},
        {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "ALL"}
    assert table["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": {"Fn::GetAtt": ["AppKey", "Arn"]},
    }


# --------------------------------------------------------------------------------- queues


def test_source_queues_are_the_ledgers_queues() -> None:
    queues = resources_of("AWS::SQS::Queue")
    with_redrive = {logical_id for logical_id in queues if "RedrivePolicy" in properties(logical_id)}
    assert with_redrive == set(SOURCE_QUEUES.values())
    assert set(SOURCE_QUEUES) == set(ALL_LEDGERS)


@pytest.mark.parametrize("ledger", ALL_LEDGERS)
def test_source_queue_is_fifo_without_content_deduplication(ledger: LedgerName) -> None:
    queue = properties(SOURCE_QUEUES[ledger])
    assert "QueueName" not in queue
    assert queue["FifoQueue"] is True
    # A second `changed` within five minutes has the same body and is a real change.
    assert queue["ContentBasedDeduplication"] is False
    assert queue["DeduplicationScope"] == "messageGroup"
    assert queue["FifoThroughputLimit"] == "perMessageGroupId"
    assert reference(queue["KmsMasterKeyId"]) == "AppKey.Arn"


@pytest.mark.parametrize("ledger", ALL_LEDGERS)
def test_source_queue_outlasts_its_consumer_and_retries_enough(ledger: LedgerName) -> None:
    queue = properties(SOURCE_QUEUES[ledger])
    visibility = int(static(queue["VisibilityTimeout"]))
    assert visibility >= 6 * sync_timeout_seconds()
    assert int(static(queue["RedrivePolicy"]["maxReceiveCount"])) >= 20
    assert int(static(queue["MessageRetentionPeriod"])) == 14 * 24 * 3600


def test_every_queue_consumer_is_covered_by_the_6x_rule() -> None:
    for logical_id in resources_of("AWS::Serverless::Function"):
        function = properties(logical_id)
        for event in (function.get("Events") or {}).values():
            if event["Type"] != "SQS":
                continue
            queue = properties(reference(event["Properties"]["Queue"]).removesuffix(".Arn"))
            assert int(static(queue["VisibilityTimeout"])) >= 6 * int(static(function["Timeout"])), logical_id


@pytest.mark.parametrize("ledger", ALL_LEDGERS)
def test_dead_letter_queue_is_fifo_and_keeps_messages_14_days(ledger: LedgerName) -> None:
    target = reference(properties(SOURCE_QUEUES[ledger])["RedrivePolicy"]["deadLetterTargetArn"])
    assert target == f"{DEAD_LETTER_QUEUES[ledger]}.Arn"
    dead_letters = properties(DEAD_LETTER_QUEUES[ledger])
    assert "QueueName" not in dead_letters
    assert dead_letters["FifoQueue"] is True
    assert int(static(dead_letters["MessageRetentionPeriod"])) == 14 * 24 * 3600
    assert reference(dead_letters["KmsMasterKeyId"]) == "AppKey.Arn"


# --------------------------------------------------------------------------------- webhook function and API


def test_webhook_function_shape() -> None:
    function = properties("WebhookFunction")
    assert function["CodeUri"] == "functions/webhook/"
    assert function["Handler"] == "app.lambda_handler"
    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    assert function["Timeout"] == 10
    assert function["MemorySize"] == 512
    assert function["Tracing"] == "Active"
    assert function["Layers"] == [{"Ref": "CoreLayer"}]


def test_webhook_environment_is_exactly_what_the_code_reads() -> None:
    variables = {
        name: reference(value)
        for name, value in function_properties("WebhookFunction")["Environment"]["Variables"].items()
    }
    expected = {
        "TABLE_NAME": "AppTable",
        "KMS_KEY_ID": "AppKey.Arn",
        "POWERTOOLS_SERVICE_NAME": "webhook",
        "POWERTOOLS_METRICS_NAMESPACE": NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": "LogLevel",
    } | {queue_url_variable(ledger): SOURCE_QUEUES[ledger] for ledger in ALL_LEDGERS}
    assert variables == expected


def test_webhook_route_is_throttled() -> None:
    (event,) = properties("WebhookFunction")["Events"].values()
    assert event["Type"] == "HttpApi"
    route = event["Properties"]
    assert f"{route['Method']} {route['Path']}" == WEBHOOK_ROUTE
    assert route["ApiId"] == {"Ref": "HttpApi"}
    assert route["PayloadFormatVersion"] == "2.0"
    api = properties("HttpApi")
    assert WEBHOOK_ROUTE in (api.get("RouteSettings") or {})
    throttle = api["RouteSettings"][WEBHOOK_ROUTE]
    assert throttle["ThrottlingBurstLimit"] > 0
    assert throttle["ThrottlingRateLimit"] > 0
    assert api["DefaultRouteSettings"]["ThrottlingBurstLimit"] > 0
    assert api["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0


def test_every_function_has_a_log_group_retained_30_days() -> None:
    groups = {
        p["Properties"]["LogGroupName"]["Fn::Sub"]: p["Properties"]
        for p in resources_of("AWS::Logs::LogGroup").values()
    }
    assert set(groups) == {f"/aws/lambda/${{{logical_id}}}" for logical_id in LEAST_PRIVILEGE}
    assert {group["RetentionInDays"] for group in groups.values()} == {30}


@pytest.mark.parametrize("logical_id", sorted(LEAST_PRIVILEGE))
def test_function_handler_exists(logical_id: str) -> None:
    function = properties(logical_id)
    module, _, name = function["Handler"].rpartition(".")
    source = PROJECT_ROOT / function["CodeUri"] / f"{module.replace('.', '/')}.py"
    tree = ast.parse(source.read_text(encoding="utf-8"))
    # A function defined there, or a name assigned there (`lambda_handler = sync_lambda_handler(...)`).
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assigned = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert name in defined | assigned


def test_layer_is_built_from_the_package() -> None:
    layer = RESOURCES["CoreLayer"]
    content = PROJECT_ROOT / layer["Properties"]["ContentUri"]
    assert (content / "acuity_sync" / "__init__.py").is_file()
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    # Wheels with native code (pydantic-core) must be built for the functions' architecture.
    assert layer["Properties"]["CompatibleArchitectures"] == properties("WebhookFunction")["Architectures"]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}


def test_the_layer_makefile_builds_for_the_functions_runtime_and_architecture() -> None:
    """layers/core/Makefile (SAM runs its build-CoreLayer target) installs wheels for, and compiles with, the
    runtime and architecture the template gives the functions; tests/build/ checks what it produced."""
    makefile = (PROJECT_ROOT / RESOURCES["CoreLayer"]["Properties"]["ContentUri"] / "Makefile").read_text()
    variables = dict(re.findall(r"^([A-Z_]+) [?:]?= (.*)$", makefile, re.MULTILINE))
    assert re.search(r"^build-CoreLayer:", makefile, re.MULTILINE)
    for logical_id in resources_of("AWS::Serverless::Function"):
        function = properties(logical_id)
        assert function["Runtime"] == variables["PYTHON"] == f"python{variables['PYTHON_VERSION']}", logical_id
        assert function["Architectures"] == ["arm64"], logical_id
    assert variables["PLATFORMS"].split() == ["manylinux2014_aarch64", "manylinux_2_28_aarch64"]
    assert "--only-binary=:all:" in makefile  # no wheel is ever built here, for this machine
    assert "--invalidation-mode unchecked-hash" in makefile


def requirement_name(requirement: str) -> str:
    return re.split(r"[\[=<>!~; ]", requirement, maxsplit=1)[0].lower()


def test_layer_requirements_are_pyprojects_dependencies() -> None:
    with (PROJECT_ROOT / "pyproject.toml").open("rb") as file:
        dependencies = tomllib.load(file)["project"]["dependencies"]
    lines = (PROJECT_ROOT / "layers" / "core" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    written = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert written == dependencies
    # boto3 and botocore are pinned in the layer, so that the botocore aws-xray-sdk needs matches boto3.
    assert {"boto3", "botocore"} <= {requirement_name(requirement) for requirement in written}


# --------------------------------------------------------------------------------- dashboard and alarms


def dashboard() -> dict[str, Any]:
    body = properties("Dashboard")["DashboardBody"]["Fn::Sub"]
    # ${Resource} and ${Resource.Attribute} become their names, so the JSON can be read and rows named.
    document: dict[str, Any] = json.loads(re.sub(r"\$\{([^}]+)\}", r"\1", body))
    return document


def dashboard_rows() -> list[list[Any]]:
    return [row for widget in dashboard()["widgets"] for row in widget["properties"].get("metrics", [])]


def row_dimensions(row: list[Any]) -> dict[str, str]:
    names_and_values = [item for item in row[2:] if not isinstance(item, dict)]
    return dict(zip(names_and_values[::2], names_and_values[1::2], strict=True))


def custom_metric_uses() -> list[tuple[str, dict[str, str]]]:
    """Every (metric name, dimensions) of our namespace in the dashboard and the alarms."""
    uses = [(row[1], row_dimensions(row)) for row in dashboard_rows() if row[0] == NAMESPACE]
    for _logical_id, namespace, name, dimensions in alarm_metrics():
        if namespace == NAMESPACE:
            uses.append((name, dimensions))
    return uses


def alarm_metrics() -> list[tuple[str, str, str, dict[str, Any]]]:
    """Every metric an alarm reads, as (alarm, namespace, metric name, dimensions): its own, or each of its metric
    math's metrics."""
    found = []
    for logical_id, alarm in resources_of("AWS::CloudWatch::Alarm").items():
        alarm_properties = alarm["Properties"]
        if "Metrics" in alarm_properties:
            metrics = [query["MetricStat"]["Metric"] for query in alarm_properties["Metrics"] if "MetricStat" in query]
            assert metrics, logical_id
        else:
            metrics = [alarm_properties]
        for metric in metrics:
            dimensions = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
            found.append((logical_id, metric["Namespace"], metric["MetricName"], dimensions))
    return found


def test_dashboard_rows_use_no_repeat_shorthand() -> None:
    # "." and "..." would make the checks below read the wrong names; write rows out in full.
    for row in dashboard_rows():
        assert "." not in row
        assert "..." not in row


def test_custom_metrics_are_ones_the_code_emits() -> None:
    uses = custom_metric_uses()
    assert uses
    services = {
        reference(function_properties(logical_id)["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"])
        for logical_id in resources_of("AWS::Serverless::Function")
    }
    for name, dimensions in uses:
        assert name in set(MetricName), name
        assert dimensions.get("service") in services, (name, dimensions)
        assert set(dimensions) <= {"service", "outcome", "ledger", "reason"}
        if "outcome" in dimensions and name == MetricName.WEBHOOKS:
            assert dimensions["outcome"] in set(WebhookOutcome)
        if "ledger" in dimensions:
            assert dimensions["ledger"] in set(LedgerName)


def test_dashboard_shows_every_webhook_outcome_and_ledger() -> None:
    uses = custom_metric_uses()
    outcomes = {d["outcome"] for name, d in uses if name == MetricName.WEBHOOKS}
    queued = {d["ledger"] for name, d in uses if name == MetricName.MESSAGES_QUEUED}
    assert outcomes == set(WebhookOutcome)
    assert queued == set(LedgerName)


def test_dashboard_shows_api_latency_errors_and_every_queue() -> None:
    rows = {(row[0], row[1], row[3]) for row in dashboard_rows()}
    for metric in ("Latency", "IntegrationLatency", "5xx"):
        assert ("AWS/ApiGateway", metric, "HttpApi") in rows
    assert ("AWS/Lambda", "Duration", "WebhookFunction") in rows
    for ledger in ALL_LEDGERS:
        assert ("AWS/SQS", "ApproximateAgeOfOldestMessage", f"{SOURCE_QUEUES[ledger]}.QueueName") in rows
        assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", f"{DEAD_LETTER_QUEUES[ledger]}.QueueName") in rows
    assert properties("Dashboard")["DashboardName"] == {"Fn::Sub": "${AWS::StackName}-ops"}


# Alarms whose point is the absence of data: no invocation of a scheduled function is the failure itself.
ALARMS_ON_ABSENCE = {"MaintenanceNotRunningAlarm"}


def test_every_alarm_notifies_and_is_quiet_without_data() -> None:
    alarms = resources_of("AWS::CloudWatch::Alarm")
    assert alarms
    for logical_id, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], logical_id
        expected = "breaching" if logical_id in ALARMS_ON_ABSENCE else "notBreaching"
        assert alarm["Properties"]["TreatMissingData"] == expected, logical_id


@pytest.mark.parametrize("ledger", ALL_LEDGERS)
def test_each_dead_letter_queue_is_alarmed_above_zero(ledger: LedgerName) -> None:
    alarm = properties(f"{DEAD_LETTER_QUEUES[ledger].removesuffix('Queue')}Alarm")
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert [reference(d["Value"]) for d in alarm["Dimensions"]] == [f"{DEAD_LETTER_QUEUES[ledger]}.QueueName"]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")


def test_webhook_alarms() -> None:
    errors = properties("WebhookServerErrorsAlarm")
    assert (errors["Namespace"], errors["MetricName"], errors["Statistic"]) == ("AWS/ApiGateway", "5xx", "Sum")
    assert errors["Dimensions"] == [{"Name": "ApiId", "Value": {"Ref": "HttpApi"}}]
    assert (errors["Period"], errors["Threshold"], errors["ComparisonOperator"]) == (300, 0, "GreaterThanThreshold")
    signatures = properties("WebhookSignatureRejectionsAlarm")
    assert signatures["MetricName"] == MetricName.WEBHOOKS
    assert {d["Name"]: d["Value"] for d in signatures["Dimensions"]} == {
        "service": "webhook",
        "outcome": WebhookOutcome.REJECTED_SIGNATURE,
    }
    assert (signatures["Statistic"], signatures["Period"]) == ("Sum", 300)
    assert (signatures["Threshold"], signatures["ComparisonOperator"]) == (50, "GreaterThanOrEqualToThreshold")


def test_alarm_email_is_subscribed_only_when_given() -> None:
    ((subscription_id, subscription),) = resources_of("AWS::SNS::Subscription").items()
    assert subscription["Condition"] == "HasAlarmEmail"
    assert TEMPLATE["Conditions"]["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    assert TEMPLATE["Parameters"]["AlarmEmail"]["Default"] == ""
    assert subscription_id


def test_outputs() -> None:
    outputs = TEMPLATE["Outputs"]
    assert set(outputs) == {
        "ConnectUrl",
        "ConnectSigningSecretName",
        "WebhookBaseUrl",
        "TableName",
        "KmsKeyArn",
        "DashboardName",
        "QuickBooksQueueUrl",
        "XeroQueueUrl",
        "FreshBooksQueueUrl",
        "QuickBooksDeadLetterQueueUrl",
        "XeroDeadLetterQueueUrl",
        "FreshBooksDeadLetterQueueUrl",
    }
    assert outputs["WebhookBaseUrl"]["Value"] == {
        "Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/webhooks/acuity/"
    }


# --------------------------------------------------------------------------------- the loader and resolver


def test_loader_reads_every_short_form_tag(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n"
        "  R:\n"
        "    Type: AWS::X::Y\n"
        "    Properties:\n"
        "      Ref: !Ref Thing\n"
        "      Dotted: !GetAtt Thing.Arn\n"
        "      Nested: !GetAtt Thing.Outputs.Name\n"
        "      Listed: !GetAtt [Thing, Arn]\n"
        "      Sub: !Sub '${AWS::Region}-x'\n"
        "      SubList: !Sub ['${A}', {A: !Ref Thing}]\n"
        "      Join: !Join [',', [a, b]]\n"
        "      If: !If [Cond, 1, 2]\n"
        "      Logic: !And [!Equals [a, b], !Not [!Condition C], !Or [!Condition D, !Condition E]]\n"
        "      Pick: !Select [0, !Split [',', 'a,b']]\n"
        "      Map: !FindInMap [M, K, V]\n"
        "      Encoded: !Base64 text\n"
        "      Zones: !GetAZs ''\n"
        "      Imported: !ImportValue other\n"
        "      Version: 2012-10-17\n",
        encoding="utf-8",
    )
    read = load_template(path)["Resources"]["R"]["Properties"]
    assert read["Ref"] == {"Ref": "Thing"}
    assert read["Dotted"] == {"Fn::GetAtt": ["Thing", "Arn"]}
    assert read["Nested"] == {"Fn::GetAtt": ["Thing", "Outputs.Name"]}
    assert read["Listed"] == {"Fn::GetAtt": ["Thing", "Arn"]}
    assert read["Sub"] == {"Fn::Sub": "${AWS::Region}-x"}
    assert read["SubList"] == {"Fn::Sub": ["${A}", {"A": {"Ref": "Thing"}}]}
    assert read["Join"] == {"Fn::Join": [",", ["a", "b"]]}
    assert read["If"] == {"Fn::If": ["Cond", 1, 2]}
    assert read["Logic"] == {
        "Fn::And": [
            {"Fn::Equals": ["a", "b"]},
            {"Fn::Not": [{"Condition": "C"}]},
            {"Fn::Or": [{"Condition": "D"}, {"Condition": "E"}]},
        ]
    }
    assert read["Pick"] == {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]}
    assert read["Map"] == {"Fn::FindInMap": ["M", "K", "V"]}
    assert read["Encoded"] == {"Fn::Base64": "text"}
    assert read["Zones"] == {"Fn::GetAZs": ""}
    assert read["Imported"] == {"Fn::ImportValue": "other"}
    assert read["Version"] == "2012-10-17"  # a string, as CloudFormation reads it


FAKE_PHYSICAL_IDS = {
    "AppKey": "1234abcd-0000-0000-0000-000000000000",
    "AppTable": "existing-table",
    "QuickBooksOAuthSecret": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:existing-quickbooks-AbCdEf",
    "XeroOAuthSecret": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:existing-xero-AbCdEf",
    "FreshBooksOAuthSecret": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:existing-freshbooks-AbCdEf",
    "ConnectSigningSecret": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:existing-signing-AbCdEf",
    **{
        logical_id: f"https://sqs.eu-west-1.amazonaws.com/123456789012/existing-{logical_id}.fifo"
        for logical_id in [*SOURCE_QUEUES.values(), *DEAD_LETTER_QUEUES.values()]
    },
}


def test_resolve_stack_builds_function_specs_without_creating_anything() -> None:
    stack = resolve_stack(
        TEMPLATE_PATH, FAKE_PHYSICAL_IDS, stack_name="elsewhere", region="eu-west-1", parameters={"LogLevel": "DEBUG"}
    )
    webhook = stack.functions["WebhookFunction"]
    assert webhook.code_dir == PROJECT_ROOT / "functions" / "webhook"
    assert webhook.layer_dirs == (PROJECT_ROOT / "layers" / "core",)
    assert (webhook.runtime, webhook.timeout_seconds, webhook.memory_mb) == ("python3.13", 10, 512)
    assert webhook.environment["TABLE_NAME"] == "existing-table"
    assert webhook.environment["KMS_KEY_ID"] == f"arn:aws:kms:eu-west-1:123456789012:key/{FAKE_PHYSICAL_IDS['AppKey']}"
    assert webhook.environment["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    assert webhook.environment[queue_url_variable(LedgerName.XERO)] == FAKE_PHYSICAL_IDS["XeroQueue"]
    (route,) = webhook.http_routes
    assert (route.throttling_burst_limit, route.throttling_rate_limit) == (200, 100.0)
    assert stack.queue_arns["XeroQueue"] == "arn:aws:sqs:eu-west-1:123456789012:existing-XeroQueue.fifo"
    assert stack.outputs["DashboardName"] == "elsewhere-ops"
    assert "WebhookBaseUrl" not in stack.outputs  # the HTTP API's id is known only to CloudFormation


@pytest.mark.parametrize("parameters", [{"Stage": "qa"}, {"Unknown": "x"}])
def test_resolve_stack_refuses_bad_parameters(parameters: dict[str, str]) -> None:
    with pytest.raises(TemplateError):
        resolve_stack(TEMPLATE_PATH, FAKE_PHYSICAL_IDS, parameters=parameters)


def test_resolve_stack_names_a_missing_resource() -> None:
    missing_queue = {key: value for key, value in FAKE_PHYSICAL_IDS.items() if key != "XeroQueue"}
    with pytest.raises(TemplateError, match="XeroQueue"):
        resolve_stack(TEMPLATE_PATH, missing_queue)


def test_an_environment_only_cloudformation_can_resolve_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n"
        "  Key:\n"
        "    Type: AWS::KMS::Key\n"
        "  Table:\n"
        "    Type: AWS::DynamoDB::Table\n"
        "  Api:\n"
        "    Type: AWS::Serverless::HttpApi\n"
        "  Fn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {CodeUri: fn/, Handler: app.handler, Environment: {Variables: {API_ID: !Ref Api}}}\n",
        encoding="utf-8",
    )
    with pytest.raises(TemplateError, match="API_ID"):
        resolve_stack(path, {"Key": "k", "Table": "t"})


def test_globals_and_conditions_resolve_as_sam_and_cloudformation_do(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        "Parameters:\n"
        "  Stage: {Type: String, Default: dev}\n"
        "Conditions:\n"
        "  IsProd: !Equals [!Ref Stage, prod]\n"
        "Globals:\n"
        "  Function:\n"
        "    Timeout: 30\n"
        "    Environment: {Variables: {SHARED: !Sub '${AWS::StackName}-${Stage}', LEVEL: global}}\n"
        "Resources:\n"
        "  Key:\n"
        "    Type: AWS::KMS::Key\n"
        "  Table:\n"
        "    Type: AWS::DynamoDB::Table\n"
        "  ProdOnly:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Condition: IsProd\n"
        "    Properties: {CodeUri: fn/, Handler: app.handler}\n"
        "  Fn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      CodeUri: fn/\n"
        "      Handler: app.handler\n"
        "      Environment:\n"
        "        Variables:\n"
        "          LEVEL: own\n"
        "          MODE: !If [IsProd, strict, relaxed]\n"
        "          TABLE: !Join ['/', [!Ref Table, !Select [1, !Split [',', 'a,b']]]]\n",
        encoding="utf-8",
    )
    stack = resolve_stack(path, {"Key": "k", "Table": "t"}, stack_name="s")
    assert set(stack.functions) == {"Fn"}
    function = stack.functions["Fn"]
    assert function.timeout_seconds == 30
    assert function.environment == {"SHARED": "s-dev", "LEVEL": "own", "MODE": "relaxed", "TABLE": "t/b"}
    prod = resolve_stack(path, {"Key": "k", "Table": "t"}, parameters={"Stage": "prod"})
    assert set(prod.functions) == {"Fn", "ProdOnly"}
    assert prod.functions["Fn"].environment["MODE"] == "strict"


# --------------------------------------------------------------------------------- metrics the code emits

RUNTIME = PROJECT_ROOT / "layers" / "core" / "acuity_sync"
# What AWS publishes for the resources we alarm on or chart (CloudWatch's own metrics, by namespace).
AWS_PUBLISHED = {
    "AWS/SQS": {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage", "NumberOfMessagesSent"},
    "AWS/Lambda": {"Invocations", "Errors", "Duration", "Throttles", "ConcurrentExecutions"},
    "AWS/ApiGateway": {"Count", "4xx", "5xx", "Latency", "IntegrationLatency"},
}


def emitted_metric_names() -> set[str]:
    """Every MetricName the runtime and the handlers name outside its definition: the metrics the code emits."""
    names: set[str] = set()
    for path in [*RUNTIME.rglob("*.py"), *(PROJECT_ROOT / "functions").glob("*/app.py")]:
        if path.name == "observability.py" and path.parent == RUNTIME:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "MetricName":
                names.add(str(MetricName[node.attr]))
    return names


def test_every_metric_the_code_emits_is_on_the_dashboard() -> None:
    emitted = emitted_metric_names()
    assert {MetricName.EVENTS_RESUMED, MetricName.EVENTS_RECONCILED, MetricName.TOKEN_REFRESHES} <= emitted
    charted = {row[1] for row in dashboard_rows() if row[0] == NAMESPACE}
    assert emitted - charted == set(), "emitted but on no dashboard widget"


def test_every_alarm_names_a_metric_the_code_emits_or_aws_publishes() -> None:
    emitted = emitted_metric_names()
    for logical_id, namespace, name, _dimensions in alarm_metrics():
        if namespace == NAMESPACE:
            assert name in emitted, (logical_id, name)
        else:
            assert name in AWS_PUBLISHED[namespace], (logical_id, namespace, name)


def park_calls() -> dict[str, str]:
    """The reasons the sync service parks an event with (the string given to each `_park(...)` or `_later(...)`),
    each with the condition that resumes it (`ResumeOn.TIME` for `_later`)."""
    source = (RUNTIME / "sync" / "service.py").read_text(encoding="utf-8")
    reasons: dict[str, str] = {}
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("_park", "_later")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
        ):
            condition = node.args[3] if len(node.args) >= 4 else None
            resume_on = condition.attr if isinstance(condition, ast.Attribute) else "TIME"
            reasons[str(node.args[1].value)] = resume_on
    return reasons


def park_reasons() -> set[str]:
    return set(park_calls())


def resumable_reasons() -> set[str]:
    """The reasons the maintenance function resumes: all but those waiting for Acuity's own data to change (the
    change's webhook syncs them)."""
    return {reason for reason, resume_on in park_calls().items() if resume_on != "ACUITY_CHANGE"}


def test_every_park_reason_is_alarmed_for_every_ledger() -> None:
    reasons = park_reasons()
    assert {"needs_reauth", "rejected", "currency_mismatch", "rate_limited", "acuity_refused"} <= reasons
    alarmed = {
        (dimensions["ledger"], dimensions["reason"])
        for _logical_id, namespace, name, dimensions in alarm_metrics()
        if namespace == NAMESPACE and name == MetricName.EVENTS_PARKED
    }
    assert {(str(ledger), reason) for ledger in ALL_LEDGERS for reason in reasons} <= alarmed
    charted = {
        (row_dimensions(row)["ledger"], row_dimensions(row)["reason"])
        for row in dashboard_rows()
        if row[0] == NAMESPACE and row[1] == MetricName.EVENTS_PARKED
    }
    assert {(str(ledger), reason) for ledger in ALL_LEDGERS for reason in reasons} <= charted


def test_the_maintenance_rows_show_each_ledger_reason_and_outcome() -> None:
    from acuity_sync.operations.reconcile import DIFFERENT, MISSING
    from acuity_sync.operations.refresh import FAILED, NEEDS_REAUTH, REFRESHED

    uses = custom_metric_uses()

    def shown(metric: MetricName, *dimensions: str) -> set[tuple[str, ...]]:
        return {tuple(d[name] for name in dimensions) for name, d in uses if name == metric}

    ledgers = {str(ledger) for ledger in ALL_LEDGERS}
    assert shown(MetricName.EVENTS_RESUMED, "ledger", "reason") >= {
        (ledger, reason) for ledger in ledgers for reason in resumable_reasons()
    }
    assert "acuity_bad_data" not in resumable_reasons()  # the one parked on ACUITY_CHANGE (issue 9)
    assert shown(MetricName.EVENTS_RECONCILED, "ledger", "outcome") == {
        (ledger, outcome) for ledger in ledgers for outcome in (MISSING, DIFFERENT)
    }
    assert shown(MetricName.EVENTS_BACKFILLED, "ledger") == {(ledger,) for ledger in ledgers}
    assert shown(MetricName.TOKEN_REFRESHES, "ledger", "outcome") == {
        (str(ledger), outcome) for ledger in LAPSING_REFRESH for outcome in (REFRESHED, NEEDS_REAUTH, FAILED)
    }
    assert all(d.get("service") == "maintenance" for name, d in uses if name == MetricName.PARKED_OVER_A_DAY)


# --------------------------------------------------------------------------------- the maintenance function

# The ledgers whose refresh tokens lapse when unused: the maintenance function renews theirs, and only theirs.
LAPSING_REFRESH = [ledger for ledger in ALL_LEDGERS if ledger_declaration(ledger).oauth.refresh_lifetime is not None]


def statements(logical_id: str) -> dict[str, dict[str, Any]]:
    return {
        statement["Sid"]: statement
        for policy in properties(logical_id)["Policies"]
        for statement in policy["Statement"]
    }


def test_maintenance_function_shape_and_schedule() -> None:
    function = properties("MaintenanceFunction")
    assert (function["CodeUri"], function["Handler"]) == ("functions/maintenance/", "app.lambda_handler")
    assert (function["Runtime"], function["Architectures"], function["Tracing"]) == ("python3.13", ["arm64"], "Active")
    assert int(static(function["Timeout"])) == 120
    assert function["ReservedConcurrentExecutions"] == 1  # one run at a time: the cursors are a run's own
    assert function["EventInvokeConfig"] == {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 240}
    (event,) = function["Events"].values()
    assert event["Type"] == "Schedule"
    assert event["Properties"]["Schedule"] == "rate(5 minutes)"
    assert event["Properties"]["Enabled"] is True


def test_maintenance_environment_is_exactly_what_the_code_reads() -> None:
    from acuity_sync.wiring.config import oauth_secret_variable

    variables = {
        name: reference(value)
        for name, value in function_properties("MaintenanceFunction")["Environment"]["Variables"].items()
    }
    expected = {
        "TABLE_NAME": "AppTable",
        "KMS_KEY_ID": "AppKey.Arn",
        "POWERTOOLS_SERVICE_NAME": "maintenance",
        "POWERTOOLS_METRICS_NAMESPACE": NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": "LogLevel",
        **{queue_url_variable(ledger): SOURCE_QUEUES[ledger] for ledger in ALL_LEDGERS},
        **{
            oauth_secret_variable(ledger): f"{ledger_declaration(ledger).display_name}OAuthSecret"
            for ledger in LAPSING_REFRESH
        },
    }
    assert variables == expected


def test_maintenance_keys_are_used_only_for_what_it_opens() -> None:
    """KMS for the maintenance function (wave-2 plan, agreement 4): Acuity keys by purpose; tokens by purpose and
    only of the ledgers whose refresh tokens lapse; queue and secret data keys only through SQS and Secrets
    Manager. No KMS statement without a condition."""
    granted_statements = statements("MaintenanceFunction")
    kms = {sid: statement for sid, statement in granted_statements.items() if str(statement["Action"]).count("kms:")}
    assert {sid: (statement["Action"], statement["Condition"]) for sid, statement in kms.items()} == {
        "OpenAcuityKeys": ("kms:Decrypt", {"StringEquals": {"kms:EncryptionContext:purpose": "acuity_api_key"}}),
        "RenewLapsingTokens": (
            ["kms:Decrypt", "kms:Encrypt"],
            {
                "StringEquals": {
                    "kms:EncryptionContext:purpose": ["oauth_access_token", "oauth_refresh_token"],
                    "kms:EncryptionContext:ledger": [str(ledger) for ledger in LAPSING_REFRESH],
                }
            },
        ),
        "EncryptQueuedMessages": (
            ["kms:GenerateDataKey", "kms:Decrypt"],
            {"StringEquals": {"kms:ViaService": {"Fn::Sub": "sqs.${AWS::Region}.amazonaws.com"}}},
        ),
        "OpenOAuthClientSecrets": (
            "kms:Decrypt",
            {"StringEquals": {"kms:ViaService": {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"}}},
        ),
    }
    from acuity_sync.store.connections import ACCESS_PURPOSE, REFRESH_PURPOSE, token_context
    from acuity_sync.store.tenants import api_key_context

    # The conditions name the contexts the code seals with.
    assert api_key_context("t")["purpose"] == "acuity_api_key"
    assert {ACCESS_PURPOSE, REFRESH_PURPOSE} == {"oauth_access_token", "oauth_refresh_token"}
    assert set(token_context("t", LedgerName.XERO, ACCESS_PURPOSE)) == {"tenant_id", "ledger", "purpose"}


def test_maintenance_alarms() -> None:
    errors = properties("MaintenanceErrorsAlarm")
    assert (errors["Namespace"], errors["MetricName"], errors["Statistic"]) == ("AWS/Lambda", "Errors", "Sum")
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "MaintenanceFunction"}}]
    assert (errors["Period"], errors["Threshold"], errors["ComparisonOperator"]) == (
        900,
        2,
        "GreaterThanOrEqualToThreshold",
    )
    idle = properties("MaintenanceNotRunningAlarm")
    assert (idle["Namespace"], idle["MetricName"], idle["Statistic"]) == ("AWS/Lambda", "Invocations", "Sum")
    assert idle["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "MaintenanceFunction"}}]
    # Three five-minute schedules missed in a row; no data at all is the alarm's very case.
    assert (idle["Period"], idle["Threshold"], idle["ComparisonOperator"]) == (900, 1, "LessThanThreshold")
    assert idle["TreatMissingData"] == "breaching"
    parked = properties("ParkedOverADayAlarm")
    assert (parked["Namespace"], parked["MetricName"]) == (NAMESPACE, MetricName.PARKED_OVER_A_DAY)
    assert (parked["Threshold"], parked["ComparisonOperator"]) == (0, "GreaterThanThreshold")
