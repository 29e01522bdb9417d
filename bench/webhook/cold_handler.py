"""One cold start of a Lambda function's handler, in this fresh process, as Lambda's Python runtime does it.

The function's code directory and its layers go to the front of sys.path (Lambda's /var/task and /opt/python),
the handler module is imported (the init phase) and serves one event. The process's environment is the
function's (run.py sets it); its stdout (Powertools logs and metrics) goes wherever run.py sends it.

    python cold_handler.py '{"code_dir": ..., "layer_dirs": [...], "handler": "app.lambda_handler", "event": {...}}'

writes one line to stderr: CALLS_MARKER followed by {"status": <HTTP status>, "calls": {operation: count}}.
Only the call counter runs before the import: a `before-call` hook on boto3's default session, which the
function's clients are created from (creating that session first moves its cost, it does not add any).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
from collections import Counter
from typing import Any

import boto3

CALLS_MARKER = "BENCH-RESULT "


class CallCounter:
    """Counts AWS operations through botocore's `before-call` event."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def __call__(self, model: Any, **_kwargs: Any) -> None:
        with self._lock:
            self._counts[str(model.name)] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))


class ColdContext:
    """The context object the Python runtime passes (only what Powertools reads)."""

    function_name = "WebhookFunction"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:WebhookFunction"
    memory_limit_in_mb = "512"
    aws_request_id = "00000000-0000-0000-0000-000000000001"
    log_group_name = "/aws/lambda/WebhookFunction"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def main(argv: list[str]) -> int:
    config = json.loads(argv[1])
    sys.path[:0] = [config["code_dir"], *config["layer_dirs"]]
    counter = CallCounter()
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("before-call", counter)
    module_name, _, function_name = str(config["handler"]).rpartition(".")
    handler = getattr(importlib.import_module(module_name), function_name)
    response = handler(config["event"], ColdContext())
    sys.stderr.write(CALLS_MARKER + json.dumps({"status": response["statusCode"], "calls": counter.snapshot()}) + "\n")
    return 0


if __name__ == "__main__":
    status = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    # Leave at once, as a Lambda environment does (it is frozen, later killed, never finalised): Python's
    # teardown of boto3's loaded models alone takes 50-150 ms, which no webhook ever waits for.
    os._exit(status)
