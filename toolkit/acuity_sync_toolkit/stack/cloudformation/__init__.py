"""The local stack's AWS resources, created from template.yaml itself, so that local and cloud cannot drift.

`load_template` reads the template (short-form tags become their long form: template.py). `provision` creates the
resources the code talks to (KMS key and alias, DynamoDB table, SQS queues, Secrets Manager secrets: resources.py)
against an endpoint, moto's by default, in dependency order (ordering.py), and returns a `ProvisionedStack`
(stack.py): physical names, outputs, and each function as the template declares it, with its environment resolved
(function_specs.py). `resolve_stack` does the second half alone, for resources that already exist (another process
of the same local stack, say).

Only what the local stack needs of CloudFormation is here: the intrinsic functions, conditions, mappings,
parameters and pseudo parameters (intrinsics.py), and SAM's Globals for functions. Values only CloudFormation can
know (an HTTP API's id, a Lambda function's name) are `Unresolvable`: outputs made of them are left out, and a
function environment that needs one is an error (errors.py).
"""

from acuity_sync_toolkit.stack.cloudformation.errors import (
    ProvisioningError,
    StackAlreadyProvisioned,
    TemplateError,
    Unresolvable,
)
from acuity_sync_toolkit.stack.cloudformation.function_specs import merge_globals
from acuity_sync_toolkit.stack.cloudformation.intrinsics import NO_VALUE, as_string
from acuity_sync_toolkit.stack.cloudformation.stack import (
    DEFAULT_STACK_NAME,
    LOCAL_ACCOUNT_ID,
    ProvisionedStack,
    provision,
    resolve_stack,
)
from acuity_sync_toolkit.stack.cloudformation.template import load_template

__all__ = [
    "DEFAULT_STACK_NAME",
    "LOCAL_ACCOUNT_ID",
    "NO_VALUE",
    "ProvisionedStack",
    "ProvisioningError",
    "StackAlreadyProvisioned",
    "TemplateError",
    "Unresolvable",
    "as_string",
    "load_template",
    "merge_globals",
    "provision",
    "resolve_stack",
]
