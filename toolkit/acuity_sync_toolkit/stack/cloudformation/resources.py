"""Creating what the template declares (KMS keys and aliases, DynamoDB tables, SQS queues, Secrets Manager secrets)
at an endpoint, moto's by default; and what Ref and GetAtt return for each."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from acuity_sync_toolkit.stack.cloudformation.errors import ProvisioningError, Unresolvable
from acuity_sync_toolkit.stack.cloudformation.intrinsics import Resolver, as_string
from acuity_sync_toolkit.stack.cloudformation.template import (
    DYNAMODB_TABLE,
    KMS_ALIAS,
    KMS_KEY,
    SECRETS_MANAGER,
    SQS_QUEUE,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient


class Clients:
    def __init__(self, region: str, endpoint_url: str | None) -> None:
        self._region = region
        self._endpoint_url = endpoint_url

    @cached_property
    def kms(self) -> KMSClient:
        return boto3.client("kms", region_name=self._region, endpoint_url=self._endpoint_url)

    @cached_property
    def dynamodb(self) -> DynamoDBClient:
        return boto3.client("dynamodb", region_name=self._region, endpoint_url=self._endpoint_url)

    @cached_property
    def sqs(self) -> SQSClient:
        return boto3.client("sqs", region_name=self._region, endpoint_url=self._endpoint_url)

    @cached_property
    def secretsmanager(self) -> SecretsManagerClient:
        return boto3.client("secretsmanager", region_name=self._region, endpoint_url=self._endpoint_url)


@dataclass(frozen=True, slots=True)
class Created:
    physical_id: str  # what Ref returns
    attributes: dict[str, str]  # what GetAtt returns


def _physical_name(resolver: Resolver, logical_id: str) -> str:
    """The name a table, queue or secret gets locally: the template's, else `{stack}-{LogicalId}`."""
    resource = resolver.resources[logical_id]
    properties = resource.get("Properties") or {}
    kind = resource.get("Type")
    explicit = {DYNAMODB_TABLE: "TableName", SQS_QUEUE: "QueueName", SECRETS_MANAGER: "Name"}.get(kind or "")
    if explicit and explicit in properties:
        return resolver.resolve_string(properties[explicit])
    name = f"{resolver.stack_name}-{logical_id}"
    if kind == SQS_QUEUE and resolver.resolve(properties.get("FifoQueue", False)) in (True, "true"):
        name += ".fifo"
    return name


def _create_kms_key(clients: Clients, _name: str, properties: dict[str, Any]) -> Created:
    arguments: dict[str, Any] = {
        option: properties[option]
        for option in ("Description", "KeyUsage", "KeySpec", "MultiRegion")
        if option in properties
    }
    if "KeyPolicy" in properties:
        arguments["Policy"] = json.dumps(properties["KeyPolicy"])
    if properties.get("Tags"):
        arguments["Tags"] = [{"TagKey": tag["Key"], "TagValue": tag["Value"]} for tag in properties["Tags"]]
    metadata = clients.kms.create_key(**arguments)["KeyMetadata"]
    key_id = metadata["KeyId"]
    if properties.get("EnableKeyRotation"):
        clients.kms.enable_key_rotation(KeyId=key_id)
    return Created(key_id, {"Arn": metadata["Arn"], "KeyId": key_id})


def _create_kms_alias(clients: Clients, _name: str, properties: dict[str, Any]) -> Created:
    alias = properties["AliasName"]
    clients.kms.create_alias(AliasName=alias, TargetKeyId=properties["TargetKeyId"])
    return Created(alias, {})


def _create_table(clients: Clients, name: str, properties: dict[str, Any]) -> Created:
    arguments = _table_arguments(name, properties)
    try:
        description = clients.dynamodb.create_table(**arguments)["TableDescription"]
    except ClientError as error:
        # An endpoint without KMS-backed SSE (DynamoDB Local) still gets the table; encryption is AWS's job.
        if "SSESpecification" not in arguments or _error_code(error) != "ValidationException":
            raise
        del arguments["SSESpecification"]
        description = clients.dynamodb.create_table(**arguments)["TableDescription"]
    clients.dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        clients.dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
        )
    _enable_point_in_time_recovery(clients, name, properties)
    attributes = {"Arn": description["TableArn"]}
    if "LatestStreamArn" in description:
        attributes["StreamArn"] = description["LatestStreamArn"]
    return Created(name, attributes)


def _table_arguments(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties.get("BillingMode", "PROVISIONED"),
    }
    index_fields = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")
    for option in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if properties.get(option):
            arguments[option] = [
                {key: index[key] for key in index_fields if key in index} for index in properties[option]
            ]
    if "ProvisionedThroughput" in properties:
        arguments["ProvisionedThroughput"] = properties["ProvisionedThroughput"]
    if "StreamSpecification" in properties:
        arguments["StreamSpecification"] = {"StreamEnabled": True, **properties["StreamSpecification"]}
    sse = properties.get("SSESpecification")
    if sse and sse.get("SSEEnabled"):
        arguments["SSESpecification"] = {
            "Enabled": True,
            **{key: sse[key] for key in ("SSEType", "KMSMasterKeyId") if key in sse},
        }
    if "DeletionProtectionEnabled" in properties:
        arguments["DeletionProtectionEnabled"] = properties["DeletionProtectionEnabled"] in (True, "true")
    if properties.get("Tags"):
        arguments["Tags"] = properties["Tags"]
    return arguments


def _enable_point_in_time_recovery(clients: Clients, name: str, properties: dict[str, Any]) -> None:
    pitr = properties.get("PointInTimeRecoverySpecification") or {}
    if not pitr.get("PointInTimeRecoveryEnabled"):
        return
    with contextlib.suppress(ClientError):  # an endpoint without backups: nothing the code depends on
        clients.dynamodb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )


def _create_queue(clients: Clients, name: str, properties: dict[str, Any]) -> Created:
    attributes = {
        key: json.dumps(value) if isinstance(value, dict) else as_string(value)
        for key, value in properties.items()
        if key not in ("QueueName", "Tags")
    }
    arguments: dict[str, Any] = {"QueueName": name, "Attributes": attributes}
    if properties.get("Tags"):
        arguments["tags"] = {tag["Key"]: tag["Value"] for tag in properties["Tags"]}
    url = clients.sqs.create_queue(**arguments)["QueueUrl"]
    arn = clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return Created(url, {"Arn": arn, "QueueName": name, "QueueUrl": url})


def _create_secret(clients: Clients, name: str, properties: dict[str, Any]) -> Created:
    arguments: dict[str, Any] = {"Name": name}
    for option in ("Description", "KmsKeyId", "SecretString"):
        if option in properties:
            arguments[option] = properties[option]
    if "GenerateSecretString" in properties:
        arguments["SecretString"] = _generated_secret(clients, properties["GenerateSecretString"])
    if properties.get("Tags"):
        arguments["Tags"] = properties["Tags"]
    arn = clients.secretsmanager.create_secret(**arguments)["ARN"]
    return Created(arn, {"Id": arn})


def _generated_secret(clients: Clients, options: Mapping[str, Any]) -> str:
    password_options = {
        key: value for key, value in options.items() if key not in ("SecretStringTemplate", "GenerateStringKey")
    }
    password = clients.secretsmanager.get_random_password(**password_options)["RandomPassword"]
    if "SecretStringTemplate" not in options:
        return password
    document = json.loads(options["SecretStringTemplate"])
    document[options["GenerateStringKey"]] = password
    return json.dumps(document)


_CREATORS: dict[str, Callable[[Clients, str, dict[str, Any]], Created]] = {
    KMS_KEY: _create_kms_key,
    KMS_ALIAS: _create_kms_alias,
    DYNAMODB_TABLE: _create_table,
    SQS_QUEUE: _create_queue,
    SECRETS_MANAGER: _create_secret,
}


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def existing_resources(resolver: Resolver, clients: Clients) -> list[str]:
    """What of this stack already exists at the endpoint (checked before anything is created)."""
    existing: list[str] = []
    for logical_id, resource in resolver.active_resources(DYNAMODB_TABLE, SQS_QUEUE, SECRETS_MANAGER, KMS_ALIAS):
        kind = resource["Type"]
        try:
            if kind == KMS_ALIAS:
                alias = resolver.resolve_string(resource["Properties"]["AliasName"])
                aliases = clients.kms.list_aliases()["Aliases"]
                if any(entry.get("AliasName") == alias for entry in aliases):
                    existing.append(f"{logical_id} ({alias})")
                continue
            name = _physical_name(resolver, logical_id)
            if kind == DYNAMODB_TABLE:
                clients.dynamodb.describe_table(TableName=name)
            elif kind == SQS_QUEUE:
                clients.sqs.get_queue_url(QueueName=name)
            else:
                clients.secretsmanager.describe_secret(SecretId=name)
            existing.append(f"{logical_id} ({name})")
        except ClientError:
            continue  # not there: good
    return existing


def create(resolver: Resolver, clients: Clients, logical_id: str) -> None:
    resource = resolver.resources[logical_id]
    kind = resource["Type"]
    try:
        properties = resolver.resolve(resource.get("Properties") or {})
    except Unresolvable as error:
        raise ProvisioningError(f"{logical_id} ({kind}) refers to something not created locally: {error}") from error
    name = _physical_name(resolver, logical_id)
    try:
        created = _CREATORS[kind](clients, name, properties)
    except ClientError as error:
        raise ProvisioningError(f"{logical_id} ({kind}) could not be created: {error}") from error
    resolver.record(logical_id, created.physical_id, created.attributes)


def derived_attributes(kind: str, physical_id: str, region: str, account_id: str) -> dict[str, str]:
    """What GetAtt returns for a resource that already exists, from what its Ref returns."""
    if kind == KMS_KEY:
        return {"Arn": f"arn:aws:kms:{region}:{account_id}:key/{physical_id}", "KeyId": physical_id}
    if kind == DYNAMODB_TABLE:
        return {"Arn": f"arn:aws:dynamodb:{region}:{account_id}:table/{physical_id}"}
    if kind == SQS_QUEUE:
        name = physical_id.rstrip("/").rsplit("/", 1)[-1]
        return {"Arn": f"arn:aws:sqs:{region}:{account_id}:{name}", "QueueName": name, "QueueUrl": physical_id}
    if kind == SECRETS_MANAGER:
        return {"Id": physical_id}
    return {}
