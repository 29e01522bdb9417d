"""The order in which the local stack creates resources: each after everything it refers to."""

from __future__ import annotations

from graphlib import CycleError, TopologicalSorter

from acuity_sync_toolkit.stack.cloudformation.errors import TemplateError
from acuity_sync_toolkit.stack.cloudformation.intrinsics import Resolver, references
from acuity_sync_toolkit.stack.cloudformation.template import PROVISIONED_TYPES


def creation_order(resolver: Resolver) -> list[str]:
    """The resources the local stack creates, each after everything it refers to."""
    wanted = dict(resolver.active_resources(*PROVISIONED_TYPES))
    graph: dict[str, set[str]] = {}
    for logical_id, resource in wanted.items():
        depends_on = resource.get("DependsOn") or []
        names = references(resource.get("Properties") or {}) | set(
            [depends_on] if isinstance(depends_on, str) else depends_on
        )
        graph[logical_id] = {name for name in names if name in wanted}
    try:
        return list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        raise TemplateError(f"circular references between resources: {error.args[1]}") from error
