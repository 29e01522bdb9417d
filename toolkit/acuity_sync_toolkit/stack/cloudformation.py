"""The local stack's AWS resources, created from template.yaml itself, so that local and cloud cannot drift.

`load_template` reads the template (short-form tags become their long form). `provision` creates the resources
the code talks to (KMS key and alias, DynamoDB table, SQS queues, Secrets Manager secrets) against an endpoint,
moto's by default, in dependency order, and returns a `ProvisionedStack`: physical names, outputs, and each
function as the template declares it, with its environment resolved. `resolve_stack` does the second half
alone, for resources that already exist (another process of the same local stack, say).

Only what the local stack needs of CloudFormation is here: the intrinsic functions, conditions, mappings,
parameters and pseudo parameters, and SAM's Globals for functions. Values only CloudFormation can know (an
HTTP API's id, a Lambda function's name) are `Unresolvable`: outputs made of them are left out, and a function
environment that needs one is an error.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import boto3
import yaml
from botocore.exceptions import ClientError

from acuity_sync_toolkit.stack.functions import FunctionSpec, HttpRoute, QueueSource

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient

LOCAL_ACCOUNT_ID = "123456789012"
DEFAULT_STACK_NAME = "acuity-sync-local"

KMS_KEY = "AWS::KMS::Key"
KMS_ALIAS = "AWS::KMS::Alias"
DYNAMODB_TABLE = "AWS::DynamoDB::Table"
SQS_QUEUE = "AWS::SQS::Queue"
SECRETS_MANAGER = "AWS::SecretsManager::Secret"
SERVERLESS_FUNCTION = "AWS::Serverless::Function"
SERVERLESS_LAYER = "AWS::Serverless::LayerVersion"
PROVISIONED_TYPES = (KMS_KEY, KMS_ALIAS, DYNAMODB_TABLE, SQS_QUEUE, SECRETS_MANAGER)

# Resources the local stack does not create whose Ref is a name the template itself gives.
_NAME_PROPERTIES = {"AWS::CloudWatch::Dashboard": "DashboardName"}


class TemplateError(Exception):
    """The template asks for something the local stack cannot do, or is wrong."""


class Unresolvable(TemplateError):
    """A value only CloudFormation knows (the id of a resource the local stack does not create)."""


class ProvisioningError(RuntimeError):
    """Creating a resource failed; the message names it."""


class StackAlreadyProvisioned(ProvisioningError):
    """The stack's resources already exist at that endpoint: use another stack name or a fresh endpoint."""


# ----------------------------------------------------------------------------------------------- loading


class _TemplateLoader(yaml.SafeLoader):
    """A SafeLoader that reads CloudFormation's short-form tags as their long form."""


# A policy's `Version: 2012-10-17` is a string to CloudFormation, never a date.
_TemplateLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_SHORT_FORM_FUNCTIONS = (
    "Sub",
    "Join",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "Select",
    "Split",
    "FindInMap",
    "Base64",
    "GetAZs",
    "ImportValue",
    "Cidr",
    "Length",
    "ToJsonString",
)


def _construct_any(loader: _TemplateLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    raise TemplateError(f"unexpected YAML node {node!r}")


def _long_form(key: str) -> Callable[[_TemplateLoader, yaml.Node], dict[str, Any]]:
    def construct(loader: _TemplateLoader, node: yaml.Node) -> dict[str, Any]:
        return {key: _construct_any(loader, node)}

    return construct


def _construct_get_att(loader: _TemplateLoader, node: yaml.Node) -> dict[str, Any]:
    value = _construct_any(loader, node)
    if isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {"Fn::GetAtt": value}


_TemplateLoader.add_constructor("!Ref", _long_form("Ref"))
_TemplateLoader.add_constructor("!Condition", _long_form("Condition"))
_TemplateLoader.add_constructor("!GetAtt", _construct_get_att)
for _name in _SHORT_FORM_FUNCTIONS:
    _TemplateLoader.add_constructor(f"!{_name}", _long_form(f"Fn::{_name}"))


def load_template(path: Path) -> dict[str, Any]:
    """The template as CloudFormation reads it: short-form tags become {"Ref": ...}, {"Fn::Sub": ...}, ..."""
    loader = _TemplateLoader(path.read_text(encoding="utf-8"))
    try:
        document = loader.get_single_data()
    finally:
        loader.dispose()
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError(f"{path} is not a CloudFormation template (no Resources)")
    return document


# ----------------------------------------------------------------------------------------------- resolving

_PSEUDO_PARAMETERS = (
    "AWS::StackName",
    "AWS::Region",
    "AWS::AccountId",
    "AWS::URLSuffix",
    "AWS::Partition",
    "AWS::StackId",
    "AWS::NoValue",
    "AWS::NotificationARNs",
)
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class _NoValue:
    """AWS::NoValue: the property or list element it stands for is removed."""


NO_VALUE = _NoValue()


class _Resolver:
    """Evaluates intrinsic functions against what is known locally: parameters, pseudo parameters, mappings,
    conditions, and the physical ids and attributes of the resources created so far."""

    def __init__(
        self,
        template: Mapping[str, Any],
        *,
        stack_name: str,
        region: str,
        account_id: str,
        parameters: Mapping[str, str] | None,
    ) -> None:
        self.template = template
        self.resources: dict[str, dict[str, Any]] = template["Resources"]
        self.stack_name = stack_name
        self.region = region
        self.account_id = account_id
        self.parameters = _parameter_values(template.get("Parameters") or {}, parameters or {})
        self.physical_ids: dict[str, str] = {}
        self.attributes: dict[str, dict[str, str]] = {}
        self._conditions: dict[str, bool] = {}

    # -- what exists

    def is_active(self, logical_id: str) -> bool:
        condition = self.resources[logical_id].get("Condition")
        return condition is None or self.condition(condition)

    def active_resources(self, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in self.resources.items():
            if (not types or resource.get("Type") in types) and self.is_active(logical_id):
                yield logical_id, resource

    def record(self, logical_id: str, physical_id: str, attributes: Mapping[str, str]) -> None:
        self.physical_ids[logical_id] = physical_id
        self.attributes[logical_id] = dict(attributes)

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            definitions = self.template.get("Conditions") or {}
            if name not in definitions:
                raise TemplateError(f"unknown condition {name!r}")
            self._conditions[name] = bool(self.resolve(definitions[name]))
        return self._conditions[name]

    # -- evaluation

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, argument),) = value.items()
                if key == "Ref":
                    return self._ref(argument)
                if key == "Condition" and isinstance(argument, str):
                    return self.condition(argument)
                if key.startswith("Fn::"):
                    return self._function(key, argument)
            resolved = {key: self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not NO_VALUE}
        if isinstance(value, list):
            return [item for item in (self.resolve(element) for element in value) if item is not NO_VALUE]
        return value

    def resolve_string(self, value: Any) -> str:
        return as_string(self.resolve(value))

    def _function(self, name: str, argument: Any) -> Any:
        handler = self._FUNCTIONS.get(name)
        if handler is None:
            raise TemplateError(f"{name} is not supported by the local stack")
        return handler(self, argument)

    def _ref(self, name: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        if name in _PSEUDO_PARAMETERS:
            return self._pseudo(name)
        if name in self.physical_ids:
            return self.physical_ids[name]
        resource = self.resources.get(name)
        if resource is None:
            raise TemplateError(f"Ref to {name!r}, which is neither a parameter nor a resource")
        name_property = _NAME_PROPERTIES.get(resource.get("Type", ""))
        if name_property and name_property in resource.get("Properties", {}):
            return self.resolve(resource["Properties"][name_property])
        raise Unresolvable(f"Ref {name} ({resource.get('Type')}) is known only to CloudFormation")

    def _pseudo(self, name: str) -> Any:
        values: dict[str, Any] = {
            "AWS::StackName": self.stack_name,
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::Partition": "aws",
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/local",
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        return values[name]

    def _get_att(self, argument: Any) -> str:
        parts = argument.split(".", 1) if isinstance(argument, str) else argument
        resource, attribute = (self.resolve(part) for part in parts)
        if resource not in self.resources:
            raise TemplateError(f"GetAtt of unknown resource {resource!r}")
        try:
            return self.attributes[resource][attribute]
        except KeyError:
            raise Unresolvable(f"GetAtt {resource}.{attribute} is known only to CloudFormation") from None

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, str):
            text, variables = argument, {}
        else:
            text, variables = argument[0], self.resolve(argument[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} is written as ${Literal}
                return "${" + name[1:] + "}"
            if name in variables:
                return as_string(variables[name])
            if "." in name and name not in self.parameters:
                return as_string(self._get_att(name.split(".", 1)))
            return as_string(self._ref(name))

        return _SUB_VARIABLE.sub(replace, text)

    def _join(self, argument: Any) -> str:
        delimiter, values = argument
        return str(delimiter).join(as_string(value) for value in self.resolve(values))

    def _if(self, argument: Any) -> Any:
        name, when_true, when_false = argument
        return self.resolve(when_true if self.condition(name) else when_false)

    def _equals(self, argument: Any) -> bool:
        left, right = (as_string(self.resolve(value)) for value in argument)
        return left == right

    def _find_in_map(self, argument: Any) -> Any:
        map_name, top_key, second_key = (self.resolve_string(part) for part in argument[:3])
        try:
            return self.template["Mappings"][map_name][top_key][second_key]
        except (KeyError, TypeError):
            raise TemplateError(f"FindInMap [{map_name}, {top_key}, {second_key}] is not in Mappings") from None

    def _select(self, argument: Any) -> Any:
        index, values = argument
        return self.resolve(values)[int(self.resolve(index))]

    def _split(self, argument: Any) -> list[str]:
        delimiter, text = argument
        return self.resolve_string(text).split(delimiter)

    def _import_value(self, argument: Any) -> Any:
        raise Unresolvable(f"ImportValue {argument!r} needs another stack")

    _FUNCTIONS: ClassVar[dict[str, Callable[[_Resolver, Any], Any]]] = {
        "Fn::GetAtt": _get_att,
        "Fn::Sub": _sub,
        "Fn::Join": _join,
        "Fn::If": _if,
        "Fn::Equals": _equals,
        "Fn::Not": lambda self, argument: not self.resolve(argument[0]),
        "Fn::And": lambda self, argument: all(self.resolve(value) for value in argument),
        "Fn::Or": lambda self, argument: any(self.resolve(value) for value in argument),
        "Fn::FindInMap": _find_in_map,
        "Fn::Select": _select,
        "Fn::Split": _split,
        "Fn::Base64": lambda self, argument: base64.b64encode(self.resolve_string(argument).encode()).decode(),
        "Fn::GetAZs": lambda self, _argument: [f"{self.region}{zone}" for zone in "abc"],
        "Fn::ImportValue": _import_value,
    }


def as_string(value: Any) -> str:
    """A resolved value as CloudFormation writes it into a string (an environment variable, a Sub)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(as_string(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _parameter_values(declared: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, Any]:
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise TemplateError(f"unknown parameters: {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, declaration in declared.items():
        if name in given:
            value = str(given[name])
        elif "Default" in declaration:
            value = as_string(declaration["Default"])
        else:
            raise TemplateError(f"parameter {name} has no default: pass it in parameters")
        allowed = declaration.get("AllowedValues")
        if allowed is not None and value not in [as_string(option) for option in allowed]:
            raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
        comma_list = declaration.get("Type") == "CommaDelimitedList"
        values[name] = value.split(",") if comma_list else value
    return values


# ----------------------------------------------------------------------------------------------- ordering


def _references(value: Any, *, exclude: frozenset[str] = frozenset()) -> set[str]:
    """The names a value refers to through Ref, GetAtt and Sub (parameters and resources alike)."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= _references(item, exclude=exclude)
    elif isinstance(value, dict):
        for key, argument in value.items():
            found |= _references_of(key, argument, exclude)
    return found - exclude


def _references_of(key: str, argument: Any, exclude: frozenset[str]) -> set[str]:
    if key == "Ref" and isinstance(argument, str):
        return {argument}
    if key == "Fn::GetAtt":
        parts = argument.split(".", 1) if isinstance(argument, str) else argument
        return {parts[0]} if isinstance(parts[0], str) else _references(parts[0], exclude=exclude)
    if key == "Fn::Sub":
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        names = {match.split(".", 1)[0] for match in _SUB_VARIABLE.findall(text) if not match.startswith("!")}
        return (names - set(variables)) | _references(variables, exclude=exclude)
    return _references(argument, exclude=exclude)


def _creation_order(resolver: _Resolver) -> list[str]:
    """The resources the local stack creates, each after everything it refers to."""
    wanted = dict(resolver.active_resources(*PROVISIONED_TYPES))
    graph: dict[str, set[str]] = {}
    for logical_id, resource in wanted.items():
        depends_on = resource.get("DependsOn") or []
        names = _references(resource.get("Properties") or {}) | set(
            [depends_on] if isinstance(depends_on, str) else depends_on
        )
        graph[logical_id] = {name for name in names if name in wanted}
    try:
        return list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        raise TemplateError(f"circular references between resources: {error.args[1]}") from error


# ----------------------------------------------------------------------------------------------- creating


class _Clients:
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
class _Created:
    physical_id: str  # what Ref returns
    attributes: dict[str, str]  # what GetAtt returns


def _physical_name(resolver: _Resolver, logical_id: str) -> str:
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


def _create_kms_key(clients: _Clients, _name: str, properties: dict[str, Any]) -> _Created:
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
    return _Created(key_id, {"Arn": metadata["Arn"], "KeyId": key_id})


def _create_kms_alias(clients: _Clients, _name: str, properties: dict[str, Any]) -> _Created:
    alias = properties["AliasName"]
    clients.kms.create_alias(AliasName=alias, TargetKeyId=properties["TargetKeyId"])
    return _Created(alias, {})


def _create_table(clients: _Clients, name: str, properties: dict[str, Any]) -> _Created:
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
    return _Created(name, attributes)


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


def _enable_point_in_time_recovery(clients: _Clients, name: str, properties: dict[str, Any]) -> None:
    pitr = properties.get("PointInTimeRecoverySpecification") or {}
    if not pitr.get("PointInTimeRecoveryEnabled"):
        return
    with contextlib.suppress(ClientError):  # an endpoint without backups: nothing the code depends on
        clients.dynamodb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )


def _create_queue(clients: _Clients, name: str, properties: dict[str, Any]) -> _Created:
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
    return _Created(url, {"Arn": arn, "QueueName": name, "QueueUrl": url})


def _create_secret(clients: _Clients, name: str, properties: dict[str, Any]) -> _Created:
    arguments: dict[str, Any] = {"Name": name}
    for option in ("Description", "KmsKeyId", "SecretString"):
        if option in properties:
            arguments[option] = properties[option]
    if "GenerateSecretString" in properties:
        arguments["SecretString"] = _generated_secret(clients, properties["GenerateSecretString"])
    if properties.get("Tags"):
        arguments["Tags"] = properties["Tags"]
    arn = clients.secretsmanager.create_secret(**arguments)["ARN"]
    return _Created(arn, {"Id": arn})


def _generated_secret(clients: _Clients, options: Mapping[str, Any]) -> str:
    password_options = {
        key: value for key, value in options.items() if key not in ("SecretStringTemplate", "GenerateStringKey")
    }
    password = clients.secretsmanager.get_random_password(**password_options)["RandomPassword"]
    if "SecretStringTemplate" not in options:
        return password
    document = json.loads(options["SecretStringTemplate"])
    document[options["GenerateStringKey"]] = password
    return json.dumps(document)


_CREATORS: dict[str, Callable[[_Clients, str, dict[str, Any]], _Created]] = {
    KMS_KEY: _create_kms_key,
    KMS_ALIAS: _create_kms_alias,
    DYNAMODB_TABLE: _create_table,
    SQS_QUEUE: _create_queue,
    SECRETS_MANAGER: _create_secret,
}


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _existing_resources(resolver: _Resolver, clients: _Clients) -> list[str]:
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


def _create(resolver: _Resolver, clients: _Clients, logical_id: str) -> None:
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


# ----------------------------------------------------------------------------------------------- the stack


@dataclass(frozen=True, slots=True)
class ProvisionedStack:
    stack_name: str
    region: str
    account_id: str
    table_name: str
    kms_key_arn: str
    queue_urls: dict[str, str]  # logical id -> URL, source queues and DLQs
    queue_arns: dict[str, str]  # logical id -> ARN
    outputs: dict[str, str]  # Output name -> value; outputs only CloudFormation can resolve are left out
    functions: dict[str, FunctionSpec]  # logical id -> the function as the template declares it
    physical_ids: dict[str, str] = field(default_factory=dict)  # logical id -> Ref value, for resolve_stack
    endpoint_url: str | None = None


def provision(
    template_path: Path,
    *,
    stack_name: str = DEFAULT_STACK_NAME,
    parameters: Mapping[str, str] | None = None,
    endpoint_url: str | None = None,
    region: str = "us-east-1",
) -> ProvisionedStack:
    """Create the template's KMS keys and aliases, tables, queues and secrets at `endpoint_url` (None: boto3's
    default endpoints, which moto's mock_aws intercepts), in dependency order; other resources are skipped.

    Raises StackAlreadyProvisioned before creating anything if the stack's names are taken at that endpoint."""
    template = load_template(template_path)
    resolver = _Resolver(
        template, stack_name=stack_name, region=region, account_id=LOCAL_ACCOUNT_ID, parameters=parameters
    )
    clients = _Clients(region, endpoint_url)
    existing = _existing_resources(resolver, clients)
    if existing:
        raise StackAlreadyProvisioned(
            f"stack {stack_name!r} already exists at {endpoint_url or 'the default endpoint'}: "
            f"{', '.join(existing)}; use another stack name or a fresh endpoint"
        )
    for logical_id in _creation_order(resolver):
        _create(resolver, clients, logical_id)
    return _stack(resolver, template_path, endpoint_url)


def resolve_stack(
    template_path: Path,
    physical_ids: Mapping[str, str],
    *,
    stack_name: str = DEFAULT_STACK_NAME,
    parameters: Mapping[str, str] | None = None,
    endpoint_url: str | None = None,
    region: str = "us-east-1",
    account_id: str = LOCAL_ACCOUNT_ID,
) -> ProvisionedStack:
    """The stack of resources that already exist, creating nothing: `physical_ids` maps logical ids to what Ref
    returns (key id, table name, queue URL, secret ARN); ARNs and names are derived from them."""
    template = load_template(template_path)
    resolver = _Resolver(template, stack_name=stack_name, region=region, account_id=account_id, parameters=parameters)
    # An alias's Ref is the name the template gives it; everything else must be named by the caller.
    for logical_id, alias in resolver.active_resources(KMS_ALIAS):
        resolver.record(logical_id, resolver.resolve_string(alias["Properties"]["AliasName"]), {})
    missing = [
        logical_id
        for logical_id, _ in resolver.active_resources(*PROVISIONED_TYPES)
        if logical_id not in physical_ids and logical_id not in resolver.physical_ids
    ]
    if missing:
        raise TemplateError(f"no physical id given for {', '.join(missing)}")
    for logical_id, physical_id in physical_ids.items():
        if logical_id not in resolver.resources:
            raise TemplateError(f"{logical_id} is not a resource of {template_path}")
        kind = resolver.resources[logical_id].get("Type", "")
        resolver.record(logical_id, physical_id, _derived_attributes(kind, physical_id, region, account_id))
    return _stack(resolver, template_path, endpoint_url)


def _derived_attributes(kind: str, physical_id: str, region: str, account_id: str) -> dict[str, str]:
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


def _stack(resolver: _Resolver, template_path: Path, endpoint_url: str | None) -> ProvisionedStack:
    queues = [logical_id for logical_id, _ in resolver.active_resources(SQS_QUEUE)]
    return ProvisionedStack(
        stack_name=resolver.stack_name,
        region=resolver.region,
        account_id=resolver.account_id,
        table_name=resolver.physical_ids[_first_of(resolver, DYNAMODB_TABLE)],
        kms_key_arn=resolver.attributes[_first_of(resolver, KMS_KEY)]["Arn"],
        queue_urls={logical_id: resolver.physical_ids[logical_id] for logical_id in queues},
        queue_arns={logical_id: resolver.attributes[logical_id]["Arn"] for logical_id in queues},
        outputs=_outputs(resolver),
        functions=_function_specs(resolver, template_path.resolve().parent),
        physical_ids=dict(resolver.physical_ids),
        endpoint_url=endpoint_url,
    )


def _first_of(resolver: _Resolver, kind: str) -> str:
    for logical_id, _ in resolver.active_resources(kind):
        if logical_id not in resolver.physical_ids:
            raise TemplateError(f"{logical_id} ({kind}) has no physical id")
        return logical_id
    raise TemplateError(f"the template has no {kind}")


def _outputs(resolver: _Resolver) -> dict[str, str]:
    outputs: dict[str, str] = {}
    for name, output in (resolver.template.get("Outputs") or {}).items():
        if "Condition" in output and not resolver.condition(output["Condition"]):
            continue
        try:
            outputs[name] = resolver.resolve_string(output["Value"])
        except Unresolvable:
            continue  # e.g. the HTTP API's URL: only CloudFormation knows its id
    return outputs


# ----------------------------------------------------------------------------------------------- functions


def merge_globals(global_properties: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """SAM's Globals rule: maps merge (the function's keys win), lists concatenate, scalars are overridden."""
    merged: dict[str, Any] = dict(global_properties)
    for key, value in own.items():
        inherited = merged.get(key)
        if isinstance(inherited, dict) and isinstance(value, dict) and not _is_intrinsic(value):
            merged[key] = merge_globals(inherited, value)
        elif isinstance(inherited, list) and isinstance(value, list):
            merged[key] = [*inherited, *value]
        else:
            merged[key] = value
    return merged


def _is_intrinsic(value: Mapping[str, Any]) -> bool:
    if len(value) != 1:
        return False
    key = next(iter(value))
    return key in ("Ref", "Condition") or key.startswith("Fn::")


def _function_specs(resolver: _Resolver, project_root: Path) -> dict[str, FunctionSpec]:
    global_properties = (resolver.template.get("Globals") or {}).get("Function") or {}
    return {
        logical_id: _function_spec(
            resolver, project_root, logical_id, merge_globals(global_properties, resource.get("Properties") or {})
        )
        for logical_id, resource in resolver.active_resources(SERVERLESS_FUNCTION)
    }


def _function_spec(resolver: _Resolver, root: Path, logical_id: str, properties: Mapping[str, Any]) -> FunctionSpec:
    code_uri = resolver.resolve(properties.get("CodeUri"))
    if not isinstance(code_uri, str):
        raise TemplateError(f"{logical_id}: the local stack runs code from a local CodeUri, not {code_uri!r}")
    routes: list[HttpRoute] = []
    sources: list[QueueSource] = []
    for event_name, event in (properties.get("Events") or {}).items():
        event_properties = event.get("Properties") or {}
        if event.get("Type") == "HttpApi":
            routes.append(_http_route(resolver, event_properties))
        elif event.get("Type") == "SQS":
            sources.append(_queue_source(resolver, logical_id, event_name, event_properties))
    return FunctionSpec(
        logical_id=logical_id,
        code_dir=(root / code_uri).resolve(),
        handler=resolver.resolve_string(properties["Handler"]),
        layer_dirs=_layer_dirs(resolver, root, properties.get("Layers") or []),
        runtime=resolver.resolve_string(properties.get("Runtime", "")),
        timeout_seconds=int(resolver.resolve(properties.get("Timeout", 3))),
        memory_mb=int(resolver.resolve(properties.get("MemorySize", 128))),
        environment=_environment(resolver, logical_id, properties),
        http_routes=tuple(routes),
        queue_sources=tuple(sources),
    )


def _environment(resolver: _Resolver, logical_id: str, properties: Mapping[str, Any]) -> dict[str, str]:
    variables = (properties.get("Environment") or {}).get("Variables") or {}
    environment: dict[str, str] = {}
    for name, value in variables.items():
        try:
            resolved = resolver.resolve(value)
        except Unresolvable as error:
            raise TemplateError(f"{logical_id}: environment variable {name} cannot be set locally: {error}") from error
        if resolved is not NO_VALUE:
            environment[name] = as_string(resolved)
    return environment


def _layer_dirs(resolver: _Resolver, root: Path, layers: list[Any]) -> tuple[Path, ...]:
    """Layers built from this project (SAM LayerVersions with a local ContentUri); ARNs of others are skipped."""
    directories: list[Path] = []
    for layer in layers:
        target = layer.get("Ref") if isinstance(layer, dict) else None
        resource = resolver.resources.get(target) if isinstance(target, str) else None
        if resource is None or resource.get("Type") != SERVERLESS_LAYER:
            continue
        content_uri = resolver.resolve((resource.get("Properties") or {}).get("ContentUri"))
        if isinstance(content_uri, str):
            directories.append((root / content_uri).resolve())
    return tuple(directories)


def _http_route(resolver: _Resolver, event: Mapping[str, Any]) -> HttpRoute:
    method = resolver.resolve_string(event.get("Method", "ANY")).upper()
    path = resolver.resolve_string(event["Path"])
    api_id = event.get("ApiId")
    api_logical_id = api_id.get("Ref", "") if isinstance(api_id, dict) else "ServerlessHttpApi"
    api = (resolver.resources.get(api_logical_id) or {}).get("Properties") or {}
    global_api = (resolver.template.get("Globals") or {}).get("HttpApi") or {}
    api = merge_globals(global_api, api)
    route_key = f"{method} {path}"
    settings = resolver.resolve(
        {
            **(api.get("DefaultRouteSettings") or {}),
            **((api.get("RouteSettings") or {}).get(route_key) or {}),
            **(event.get("RouteSettings") or {}),
        }
    )
    burst = settings.get("ThrottlingBurstLimit")
    rate = settings.get("ThrottlingRateLimit")
    return HttpRoute(
        method=method,
        path=path,
        payload_format_version=resolver.resolve_string(event.get("PayloadFormatVersion", "2.0")),
        throttling_burst_limit=None if burst is None else int(burst),
        throttling_rate_limit=None if rate is None else float(rate),
    )


def _queue_source(resolver: _Resolver, logical_id: str, event_name: str, event: Mapping[str, Any]) -> QueueSource:
    queue = event.get("Queue")
    names = _references(queue) & set(resolver.resources)
    if len(names) != 1:
        raise TemplateError(f"{logical_id}.{event_name}: the queue must be a queue of this template, not {queue!r}")
    queue_logical_id = names.pop()
    if queue_logical_id not in resolver.physical_ids:
        raise TemplateError(f"{logical_id}.{event_name}: queue {queue_logical_id} was not created")
    maximum = (resolver.resolve(event.get("ScalingConfig")) or {}).get("MaximumConcurrency")
    response_types = resolver.resolve(event.get("FunctionResponseTypes") or [])
    return QueueSource(
        queue_logical_id=queue_logical_id,
        queue_url=resolver.physical_ids[queue_logical_id],
        batch_size=int(resolver.resolve(event.get("BatchSize", 10))),
        maximum_concurrency=None if maximum is None else int(maximum),
        report_batch_item_failures="ReportBatchItemFailures" in response_types,
    )
