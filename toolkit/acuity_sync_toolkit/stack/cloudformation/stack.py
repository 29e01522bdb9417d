"""The local stack's resources as a whole: `provision` creates them in dependency order and describes what it made;
`resolve_stack` describes resources that already exist (another process of the same local stack, say)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from acuity_sync_toolkit.stack.cloudformation.errors import StackAlreadyProvisioned, TemplateError, Unresolvable
from acuity_sync_toolkit.stack.cloudformation.function_specs import function_specs
from acuity_sync_toolkit.stack.cloudformation.intrinsics import Resolver
from acuity_sync_toolkit.stack.cloudformation.ordering import creation_order
from acuity_sync_toolkit.stack.cloudformation.resources import Clients, create, derived_attributes, existing_resources
from acuity_sync_toolkit.stack.cloudformation.template import (
    DYNAMODB_TABLE,
    KMS_ALIAS,
    KMS_KEY,
    PROVISIONED_TYPES,
    SQS_QUEUE,
    load_template,
)
from acuity_sync_toolkit.stack.functions import FunctionSpec

LOCAL_ACCOUNT_ID = "123456789012"
DEFAULT_STACK_NAME = "acuity-sync-local"


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
    resolver = Resolver(
        template, stack_name=stack_name, region=region, account_id=LOCAL_ACCOUNT_ID, parameters=parameters
    )
    clients = Clients(region, endpoint_url)
    existing = existing_resources(resolver, clients)
    if existing:
        raise StackAlreadyProvisioned(
            f"stack {stack_name!r} already exists at {endpoint_url or 'the default endpoint'}: "
            f"{', '.join(existing)}; use another stack name or a fresh endpoint"
        )
    for logical_id in creation_order(resolver):
        create(resolver, clients, logical_id)
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
    resolver = Resolver(template, stack_name=stack_name, region=region, account_id=account_id, parameters=parameters)
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
        resolver.record(logical_id, physical_id, derived_attributes(kind, physical_id, region, account_id))
    return _stack(resolver, template_path, endpoint_url)


def _stack(resolver: Resolver, template_path: Path, endpoint_url: str | None) -> ProvisionedStack:
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
        functions=function_specs(resolver, template_path.resolve().parent),
        physical_ids=dict(resolver.physical_ids),
        endpoint_url=endpoint_url,
    )


def _first_of(resolver: Resolver, kind: str) -> str:
    for logical_id, _ in resolver.active_resources(kind):
        if logical_id not in resolver.physical_ids:
            raise TemplateError(f"{logical_id} ({kind}) has no physical id")
        return logical_id
    raise TemplateError(f"the template has no {kind}")


def _outputs(resolver: Resolver) -> dict[str, str]:
    outputs: dict[str, str] = {}
    for name, output in (resolver.template.get("Outputs") or {}).items():
        if "Condition" in output and not resolver.condition(output["Condition"]):
            continue
        try:
            outputs[name] = resolver.resolve_string(output["Value"])
        except Unresolvable:
            continue  # e.g. the HTTP API's URL: only CloudFormation knows its id
    return outputs
