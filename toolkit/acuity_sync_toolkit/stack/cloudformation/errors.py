"""What goes wrong between the template and the local stack."""

from __future__ import annotations


class TemplateError(Exception):
    """The template asks for something the local stack cannot do, or is wrong."""


class Unresolvable(TemplateError):
    """A value only CloudFormation knows (the id of a resource the local stack does not create)."""


class ProvisioningError(RuntimeError):
    """Creating a resource failed; the message names it."""


class StackAlreadyProvisioned(ProvisioningError):
    """The stack's resources already exist at that endpoint: use another stack name or a fresh endpoint."""
