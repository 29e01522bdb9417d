"""Each function as the template declares it, resolved for running here: code and layer directories, handler,
timeout, memory, environment (SAM's Globals merged in), HTTP API routes with their throttles, SQS event sources,
EventBridge schedules (`rate(...)` expressions: the local stack has no cron)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from acuity_sync_toolkit.stack.cloudformation.errors import TemplateError, Unresolvable
from acuity_sync_toolkit.stack.cloudformation.intrinsics import NO_VALUE, Resolver, as_string, references
from acuity_sync_toolkit.stack.cloudformation.template import SERVERLESS_FUNCTION, SERVERLESS_LAYER
from acuity_sync_toolkit.stack.functions import FunctionSpec, HttpRoute, QueueSource, ScheduleSource

_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


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


def function_specs(resolver: Resolver, project_root: Path) -> dict[str, FunctionSpec]:
    global_properties = (resolver.template.get("Globals") or {}).get("Function") or {}
    return {
        logical_id: _function_spec(
            resolver, project_root, logical_id, merge_globals(global_properties, resource.get("Properties") or {})
        )
        for logical_id, resource in resolver.active_resources(SERVERLESS_FUNCTION)
    }


def _function_spec(resolver: Resolver, root: Path, logical_id: str, properties: Mapping[str, Any]) -> FunctionSpec:
    code_uri = resolver.resolve(properties.get("CodeUri"))
    if not isinstance(code_uri, str):
        raise TemplateError(f"{logical_id}: the local stack runs code from a local CodeUri, not {code_uri!r}")
    routes: list[HttpRoute] = []
    sources: list[QueueSource] = []
    schedules: list[ScheduleSource] = []
    for event_name, event in (properties.get("Events") or {}).items():
        event_properties = event.get("Properties") or {}
        if event.get("Type") == "HttpApi":
            routes.append(_http_route(resolver, event_properties))
        elif event.get("Type") == "SQS":
            sources.append(_queue_source(resolver, logical_id, event_name, event_properties))
        elif event.get("Type") == "Schedule":
            schedules.append(_schedule(resolver, logical_id, event_name, event_properties))
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
        schedules=tuple(schedules),
    )


def _environment(resolver: Resolver, logical_id: str, properties: Mapping[str, Any]) -> dict[str, str]:
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


def _layer_dirs(resolver: Resolver, root: Path, layers: list[Any]) -> tuple[Path, ...]:
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


def _http_route(resolver: Resolver, event: Mapping[str, Any]) -> HttpRoute:
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


def _queue_source(resolver: Resolver, logical_id: str, event_name: str, event: Mapping[str, Any]) -> QueueSource:
    queue = event.get("Queue")
    names = references(queue) & set(resolver.resources)
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


def _schedule(resolver: Resolver, logical_id: str, event_name: str, event: Mapping[str, Any]) -> ScheduleSource:
    expression = resolver.resolve_string(event["Schedule"])
    match = _RATE.fullmatch(expression.strip())
    if match is None:
        raise TemplateError(f"{logical_id}.{event_name}: the local stack runs rate(...) schedules, not {expression!r}")
    amount, unit = int(match.group(1)), match.group(2).removesuffix("s")
    if amount < 1 or (amount == 1) != (match.group(2) == unit):
        # EventBridge's own rule: "rate(1 minute)" but "rate(5 minutes)".
        raise TemplateError(f"{logical_id}.{event_name}: {expression!r} is not a rate EventBridge accepts")
    enabled = resolver.resolve(event.get("Enabled", True))
    return ScheduleSource(
        name=event_name,
        expression=expression,
        rate_seconds=amount * _UNIT_SECONDS[unit],
        enabled=enabled is not False and str(enabled).lower() != "false",
    )
