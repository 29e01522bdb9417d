"""The webhook function against its floor: the same AWS calls made by a plain boto3 script, measured in the same run.

    .venv/bin/python bench/webhook/run.py [--cold-runs N] [--warm-events N] [--rounds N] [--quick]

Setup: moto in server mode on 127.0.0.1 (an ephemeral port) in this process, the template's table, key and
queues provisioned in it, one tenant with the three ledgers connected, one signed `scheduled` webhook.

COLD: a fresh process imports the handler (cold_handler.py) and serves one event; the floor is a fresh process
making the same AWS calls with boto3 alone (cold_floor.py). Each is timed from spawn to exit; runs alternate.
WARM: here, the handler module loaded once and warmed, N events per round; the floor makes the same calls per
event with clients created once. Rounds alternate. Both count their AWS calls (botocore `before-call`).

Prints a table and writes the raw numbers to bench/results/webhook.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import boto3
import botocore
import moto
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from acuity_sync.domain.names import ALL_LEDGERS
from acuity_sync.secret import Secret
from acuity_sync.store.kms import SecretBox
from acuity_sync.store.tenants import TenantProfile, TenantStore
from acuity_sync.wiring.config import WEBHOOK_AWS_CONFIG
from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack, provision
from acuity_sync_toolkit.stack.functions import FunctionSpec
from acuity_sync_toolkit.stack.lambda_runtime import lambda_environment

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT))  # bench.webhook and tests.support, as when run from the project root

from bench.webhook.cold_floor import CALLS_MARKER, FLOOR_AWS_CONFIG, CallCounter, Floor  # noqa: E402
from tests.support.http_events import FakeLambdaContext, webhook_event  # noqa: E402

HERE = Path(__file__).resolve().parent
TEMPLATE = PROJECT_ROOT / "template.yaml"
RESULTS = PROJECT_ROOT / "bench" / "results" / "webhook.json"
COLD_HANDLER = HERE / "cold_handler.py"
COLD_FLOOR = HERE / "cold_floor.py"

FUNCTION = "WebhookFunction"
REGION = "us-east-1"
STACK_NAME = "acuity-sync-bench"
TENANT_ID = "bench-tenant-0123456789abcdef"
API_KEY = "bench-acuity-api-key-not-secret"
OBJECT_ID = 54321
ACTION = "scheduled"
BODY = f"action={ACTION}&id={OBJECT_ID}&calendarID=27238&appointmentTypeID=1".encode()
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
CHILD_TIMEOUT_SECONDS = 120.0
PURGE_EVERY = 10  # warm events between (untimed) purges of the queues

COLD_AIM = 1.5
WARM_AIM = 1.2
EXPECTED_COLD_CALLS = {"Decrypt": 1, "GetItem": 1, "SendMessage": len(ALL_LEDGERS)}
EXPECTED_WARM_CALLS = {"SendMessage": len(ALL_LEDGERS)}

QUICK = {"cold_runs": 3, "warm_events": 50, "rounds": 2}
DEFAULTS = {"cold_runs": 15, "warm_events": 300, "rounds": 5}

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class BenchError(RuntimeError):
    """The bench could not measure what it should (a child failed, a call count is wrong)."""


@dataclass(frozen=True, slots=True)
class Bench:
    """What the setup made: the moto URL, the stack, the function's environment and the signed event."""

    aws_url: str
    stack: ProvisionedStack
    spec: FunctionSpec
    environment: dict[str, str]
    event: dict[str, Any]
    admin_sqs: SQSClient  # uncounted: for purging the queues between measurements


@dataclass(slots=True)
class Side:
    """One side's measurements: seconds per sample, AWS calls per sample."""

    seconds: list[float] = field(default_factory=list)
    calls: list[dict[str, float]] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def to_json(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "median_seconds": self.median,
            "min_seconds": min(self.seconds),
            "max_seconds": max(self.seconds),
            "calls": self.calls,
        }


# ----------------------------------------------------------------------------------------------- setup


def admin_session() -> boto3.Session:
    """For setup and purging: a session of its own, so that its calls are never counted."""
    return boto3.Session(
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )


def set_up(aws_url: str) -> Bench:
    stack = provision(TEMPLATE, endpoint_url=aws_url, stack_name=STACK_NAME, region=REGION)
    session = admin_session()
    dynamodb = session.client("dynamodb", endpoint_url=aws_url)
    kms = session.client("kms", endpoint_url=aws_url)
    TenantStore(dynamodb, stack.table_name, SecretBox(kms, stack.kms_key_arn)).create(
        TenantProfile(TENANT_ID, "Bench Studio", "1001", Secret(API_KEY), ledgers=ALL_LEDGERS)
    )
    spec = stack.functions[FUNCTION]
    overrides = {
        **FAKE_CREDENTIALS,
        "AWS_ENDPOINT_URL": aws_url,
        "POWERTOOLS_TRACE_DISABLED": "1",
        # Lambda's code and layers are read-only: nothing can write .pyc files there (nor into this project).
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    environment = lambda_environment(spec, overrides)
    event = webhook_event(TENANT_ID, BODY, api_key=API_KEY)
    return Bench(aws_url, stack, spec, environment, event, session.client("sqs", endpoint_url=aws_url))


def check_floor_config() -> None:
    """The floor's copy of the function's botocore Config must not drift from it."""
    for name in ("connect_timeout", "read_timeout", "retries"):
        ours, floors = getattr(WEBHOOK_AWS_CONFIG, name), getattr(FLOOR_AWS_CONFIG, name)
        if ours != floors:
            raise BenchError(f"cold_floor.py's Config.{name} is {floors!r}, the function's is {ours!r}: update it")


def with_request_id(event: dict[str, Any], request_id: str) -> dict[str, Any]:
    """The same webhook as another HTTP request (the FIFO deduplication id is the request id)."""
    now_ms = int(time.time() * 1000)
    return {**event, "requestContext": {**event["requestContext"], "requestId": request_id, "timeEpoch": now_ms}}


def received_at() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def purge_queues(bench: Bench) -> None:
    """Empty the queues (untimed): moto's SendMessage scans every message already in the queue, so that its
    time grows by ~0.15 ms per queued message (10 ms on an empty queue, 75 ms with 400 in it)."""
    for url in bench.stack.queue_urls.values():
        bench.admin_sqs.purge_queue(QueueUrl=url)


# ----------------------------------------------------------------------------------------------- cold


def run_child(script: Path, argument: dict[str, Any], environment: dict[str, str]) -> tuple[float, dict[str, Any]]:
    """Seconds from spawn to exit, and the result line the child wrote to stderr (its stdout is discarded)."""
    command = [sys.executable, str(script), json.dumps(argument)]
    started = time.perf_counter()
    completed = subprocess.run(
        command,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=CHILD_TIMEOUT_SECONDS,
        check=False,
    )
    elapsed = time.perf_counter() - started
    stderr = completed.stderr.decode("utf-8", "replace")
    results = [line.removeprefix(CALLS_MARKER) for line in stderr.splitlines() if line.startswith(CALLS_MARKER)]
    if completed.returncode != 0 or len(results) != 1:
        raise BenchError(f"{script.name} exited {completed.returncode}:\n{stderr[-3000:]}")
    result: dict[str, Any] = json.loads(results[0])
    return elapsed, result


def cold_handler_once(bench: Bench, label: str) -> tuple[float, dict[str, Any]]:
    argument = {
        "code_dir": str(bench.spec.code_dir),
        "layer_dirs": [str(path) for path in bench.spec.layer_dirs],
        "handler": bench.spec.handler,
        "event": with_request_id(bench.event, f"cold-handler-{label}-{uuid.uuid4().hex}"),
    }
    elapsed, result = run_child(COLD_HANDLER, argument, bench.environment)
    if result.get("status") != 200:
        raise BenchError(f"the cold handler answered {result.get('status')}, not 200")
    return elapsed, result


def cold_floor_once(bench: Bench, label: str) -> tuple[float, dict[str, Any]]:
    argument = {
        "tenant_id": TENANT_ID,
        "object_id": OBJECT_ID,
        "action": ACTION,
        "received_at": received_at(),
        "request_id": f"cold-floor-{label}-{uuid.uuid4().hex}",
    }
    elapsed, result = run_child(COLD_FLOOR, argument, bench.environment)
    if result.get("queued") != len(ALL_LEDGERS):
        raise BenchError(f"the cold floor queued {result.get('queued')} messages, not {len(ALL_LEDGERS)}")
    return elapsed, result


def measure_cold(bench: Bench, runs: int) -> tuple[Side, Side]:
    handler, floor = Side(), Side()
    purge_queues(bench)
    # One untimed run of each first, so that both start with the same warm file cache.
    cold_handler_once(bench, "warmup")
    cold_floor_once(bench, "warmup")
    for run in range(runs):
        for side, once in ((handler, cold_handler_once), (floor, cold_floor_once)):
            purge_queues(bench)
            elapsed, result = once(bench, str(run))
            side.seconds.append(elapsed)
            side.calls.append(result["calls"])
        progress(f"cold {run + 1}/{runs}: handler {ms(handler.seconds[-1])}, floor {ms(floor.seconds[-1])}")
    return handler, floor


# ----------------------------------------------------------------------------------------------- warm


def load_handler(bench: Bench) -> tuple[ModuleType, Handler]:
    """Import the handler module by path, with the function's environment, as a fresh container would."""
    os.environ.update(bench.environment)
    sys.path[:0] = [str(bench.spec.code_dir), *(str(path) for path in bench.spec.layer_dirs)]
    module_name, _, function_name = bench.spec.handler.rpartition(".")
    module_spec = importlib.util.spec_from_file_location(
        f"_bench_{module_name}", bench.spec.code_dir / f"{module_name}.py"
    )
    if module_spec is None or module_spec.loader is None:
        raise BenchError(f"cannot load {bench.spec.code_dir / module_name}.py")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_spec.name] = module
    module_spec.loader.exec_module(module)
    handler: Handler = getattr(module, function_name)
    return module, handler


def refresh_profile(module: ModuleType) -> None:
    """Re-read the tenant profile now (untimed), so that its 60 s in the cache cannot run out during a round.

    Reaches into the intake's TenantDirectory; should that move, nothing breaks: a reload inside a round then
    shows in the round's call counts and is reported."""
    directory = getattr(getattr(module, "intake", None), "_tenants", None)
    reload = getattr(directory, "reload", None)
    if callable(reload):
        reload(TENANT_ID)


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """The function's logs and metrics (stdout, as in Lambda) go nowhere."""
    with open(os.devnull, "w", encoding="utf-8") as devnull, contextlib.redirect_stdout(devnull):
        yield


def timed_in_chunks(bench: Bench, work: list[Callable[[], int]]) -> tuple[float, list[int]]:
    """Seconds spent in `work`, run PURGE_EVERY items at a time with the queues purged (untimed) in between,
    and each item's result."""
    elapsed = 0.0
    results: list[int] = []
    for start in range(0, len(work), PURGE_EVERY):
        chunk = work[start : start + PURGE_EVERY]
        purge_queues(bench)
        started = time.perf_counter()
        results.extend(item() for item in chunk)
        elapsed += time.perf_counter() - started
    return elapsed, results


def handler_round(
    bench: Bench, module: ModuleType, handler: Handler, counter: CallCounter, events: int, label: str
) -> float:
    """Seconds for `events` webhooks through the loaded handler, its tenant profile cached."""
    context = FakeLambdaContext()

    def invocation(event: dict[str, Any]) -> Callable[[], int]:
        return lambda: int(handler(event, context)["statusCode"])

    work = [invocation(with_request_id(bench.event, f"warm-handler-{label}-{number}")) for number in range(events)]
    purge_queues(bench)
    refresh_profile(module)
    handler(with_request_id(bench.event, f"warm-handler-{label}-warmup"), context)
    counter.reset()
    elapsed, statuses = timed_in_chunks(bench, work)
    if any(status != 200 for status in statuses):
        raise BenchError(f"warm handler answers: {sorted(set(statuses))}, not all 200")
    return elapsed


def floor_round(bench: Bench, floor: Floor, counter: CallCounter, events: int, label: str) -> float:
    """Seconds for the same AWS calls, `events` times, with the floor's clients created once."""

    def sends(request_id: str) -> Callable[[], int]:
        return lambda: floor.warm_event(TENANT_ID, OBJECT_ID, ACTION, received_at(), request_id)

    work = [sends(f"warm-floor-{label}-{number}") for number in range(events)]
    purge_queues(bench)
    floor.warm_event(TENANT_ID, OBJECT_ID, ACTION, received_at(), f"warm-floor-{label}-warmup")
    counter.reset()
    elapsed, queued = timed_in_chunks(bench, work)
    if any(count != len(ALL_LEDGERS) for count in queued):
        raise BenchError("the warm floor did not queue one message per ledger")
    return elapsed


def per_event(calls: dict[str, int], events: int) -> dict[str, float]:
    return {name: count / events for name, count in calls.items()}


def measure_warm(bench: Bench, events: int, rounds: int) -> tuple[Side, Side]:
    counter = CallCounter()
    boto3.setup_default_session()  # the session the function's clients and the floor's are created from
    assert boto3.DEFAULT_SESSION is not None
    counter.register(boto3.DEFAULT_SESSION)
    handler_side, floor_side = Side(), Side()
    with quiet_stdout():
        module, handler = load_handler(bench)
        floor = Floor()
        try:
            handler(with_request_id(bench.event, "warm-handler-first"), FakeLambdaContext())
            floor.cold_event(TENANT_ID, OBJECT_ID, ACTION, received_at(), "warm-floor-first")
            for round_number in range(rounds):
                label = str(round_number)
                elapsed = handler_round(bench, module, handler, counter, events, label)
                handler_side.seconds.append(elapsed / events)
                handler_side.calls.append(per_event(counter.snapshot(), events))
                elapsed = floor_round(bench, floor, counter, events, label)
                floor_side.seconds.append(elapsed / events)
                floor_side.calls.append(per_event(counter.snapshot(), events))
                progress(
                    f"warm round {round_number + 1}/{rounds}: handler {ms(handler_side.seconds[-1], 2)}/event, "
                    f"floor {ms(floor_side.seconds[-1], 2)}/event"
                )
        finally:
            floor.close()
    return handler_side, floor_side


# ----------------------------------------------------------------------------------------------- report


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ms(seconds: float, decimals: int = 1) -> str:
    return f"{seconds * 1000:.{decimals}f} ms"


def describe_calls(calls: Mapping[str, float]) -> str:
    return ", ".join(f"{name} {count:g}" for name, count in sorted(calls.items())) or "none"


def calls_problems(side: Side, expected: Mapping[str, float], what: str) -> list[str]:
    return [
        f"{what}: sample {number} made {describe_calls(calls)}; expected {describe_calls(expected)}"
        for number, calls in enumerate(side.calls)
        if calls != expected
    ]


def report(cold: tuple[Side, Side], warm: tuple[Side, Side], settings: dict[str, int]) -> dict[str, Any]:
    (cold_handler, cold_floor), (warm_handler, warm_floor) = cold, warm
    cold_ratio = cold_handler.median / cold_floor.median
    warm_ratio = warm_handler.median / warm_floor.median
    problems = [
        *calls_problems(cold_handler, EXPECTED_COLD_CALLS, "cold handler"),
        *calls_problems(cold_floor, EXPECTED_COLD_CALLS, "cold floor"),
        *calls_problems(warm_handler, EXPECTED_WARM_CALLS, "warm handler (per event)"),
        *calls_problems(warm_floor, EXPECTED_WARM_CALLS, "warm floor (per event)"),
    ]

    def verdict(ratio: float, aim: float) -> str:
        return "ok" if ratio <= aim else "ABOVE AIM"

    rows = [
        ("", "handler", "floor", "extra", "ratio", "aim"),
        (
            f"cold start, median of {len(cold_handler.seconds)}",
            ms(cold_handler.median),
            ms(cold_floor.median),
            ms(cold_handler.median - cold_floor.median),
            f"{cold_ratio:.2f}x",
            f"<= {COLD_AIM}x {verdict(cold_ratio, COLD_AIM)}",
        ),
        (
            f"warm event, median of {len(warm_handler.seconds)} x {settings['warm_events']}",
            ms(warm_handler.median, 2),
            ms(warm_floor.median, 2),
            ms(warm_handler.median - warm_floor.median, 2),
            f"{warm_ratio:.2f}x",
            f"<= {WARM_AIM}x {verdict(warm_ratio, WARM_AIM)}",
        ),
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    print()
    for row in rows:
        print(
            "  ".join(
                cell.ljust(width) if i == 0 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            )
        )
    print()
    print(f"AWS calls, cold handler:          {describe_calls(cold_handler.calls[0])}")
    print(f"AWS calls, cold floor:            {describe_calls(cold_floor.calls[0])}")
    print(f"AWS calls per warm event, handler: {describe_calls(warm_handler.calls[0])}")
    print(f"AWS calls per warm event, floor:   {describe_calls(warm_floor.calls[0])}")
    print("same AWS calls: " + ("yes" if not problems else "NO"))
    for problem in problems:
        print(f"  {problem}")

    document = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "versions": {"boto3": boto3.__version__, "botocore": botocore.__version__, "moto": moto.__version__},
        "aws": "moto server mode on 127.0.0.1 (no network latency to AWS)",
        "settings": settings,
        "cold": {
            "what": (
                "seconds from process spawn to exit (os._exit right after answering, no interpreter teardown): "
                "import the handler and serve one webhook / a plain boto3 script making the same calls"
            ),
            "handler": cold_handler.to_json(),
            "floor": cold_floor.to_json(),
            "extra_seconds": cold_handler.median - cold_floor.median,
            "ratio": cold_ratio,
            "aim": COLD_AIM,
        },
        "warm": {
            "what": (
                "seconds per event (round time / events) in the bench process, handler loaded and warmed once; "
                f"queues purged (untimed) every {PURGE_EVERY} events, tenant profile re-read before each round"
            ),
            "handler": warm_handler.to_json(),
            "floor": warm_floor.to_json(),
            "extra_seconds": warm_handler.median - warm_floor.median,
            "ratio": warm_ratio,
            "aim": WARM_AIM,
        },
        "expected_calls": {"cold": EXPECTED_COLD_CALLS, "warm_per_event": EXPECTED_WARM_CALLS},
        "call_problems": problems,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"\nraw numbers: {RESULTS.relative_to(PROJECT_ROOT)}")
    return document


# ----------------------------------------------------------------------------------------------- main


def parse_arguments(argv: list[str] | None) -> dict[str, int]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold-runs", type=int, help=f"cold starts of each (default {DEFAULTS['cold_runs']})")
    parser.add_argument("--warm-events", type=int, help=f"events per warm round (default {DEFAULTS['warm_events']})")
    parser.add_argument("--rounds", type=int, help=f"warm rounds of each (default {DEFAULTS['rounds']})")
    parser.add_argument("--quick", action="store_true", help=f"a smoke test: {QUICK}")
    arguments = parser.parse_args(argv)
    settings = dict(QUICK if arguments.quick else DEFAULTS)
    for name in settings:
        value = getattr(arguments, name)
        if value is not None:
            if value < 1:
                parser.error(f"--{name.replace('_', '-')} must be at least 1")
            settings[name] = value
    return settings


def main(argv: list[str] | None = None) -> int:
    settings = parse_arguments(argv)
    check_floor_config()
    for name, value in FAKE_CREDENTIALS.items():
        os.environ[name] = value
    os.environ["MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR"] = "false"  # purge between rounds
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        bench = set_up(f"http://{host}:{port}")
        progress(f"moto on http://{host}:{port}; {settings}")
        cold = measure_cold(bench, settings["cold_runs"])
        warm = measure_warm(bench, settings["warm_events"], settings["rounds"])
    finally:
        server.stop()
    document = report(cold, warm, settings)
    return 1 if document["call_problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
