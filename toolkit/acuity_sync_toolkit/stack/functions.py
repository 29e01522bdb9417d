"""A Lambda function as template.yaml declares it, resolved for running here (see cloudformation/function_specs.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class HttpRoute:
    method: str  # "POST"
    path: str  # "/webhooks/acuity/{tenant_id}", as in the template
    payload_format_version: str = "2.0"
    throttling_burst_limit: int | None = None
    throttling_rate_limit: float | None = None


@dataclass(frozen=True, slots=True)
class QueueSource:
    queue_logical_id: str
    queue_url: str
    batch_size: int = 10
    maximum_concurrency: int | None = None
    report_batch_item_failures: bool = True


@dataclass(frozen=True, slots=True)
class ScheduleSource:
    """An EventBridge schedule (SAM's `Schedule` event): the function is invoked every `rate_seconds`."""

    name: str  # the event's name in the template, e.g. "EveryFiveMinutes"
    expression: str  # "rate(5 minutes)", as in the template
    rate_seconds: int
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    logical_id: str  # "WebhookFunction"
    code_dir: Path  # functions/webhook
    handler: str  # "app.lambda_handler"
    layer_dirs: tuple[Path, ...]  # layers/core: put on sys.path as Lambda puts /opt/python
    runtime: str  # "python3.13"
    timeout_seconds: int
    memory_mb: int
    environment: dict[str, str]  # resolved: table name, queue URLs, key id, Powertools settings
    http_routes: tuple[HttpRoute, ...] = field(default=())
    queue_sources: tuple[QueueSource, ...] = field(default=())
    schedules: tuple[ScheduleSource, ...] = field(default=())
