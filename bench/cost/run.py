"""Cost per million appointments, for tenants on one ledger, modelled from measured figures.

    .venv/bin/python bench/cost/run.py                      # runs bench/sync (~75 s), then the model
    .venv/bin/python bench/cost/run.py --ledger quickbooks  # one ledger's rig only (QuickBooks ~12 s)
    .venv/bin/python bench/cost/run.py --latency-ms 800     # the ledger APIs' latency assumed (default 400)

What is measured here (in the same run, through bench/sync's rigs: the template's sync function in-process against
moto and the fakes, one warm container):

- per scenario and message: every AWS operation (DynamoDB by operation and by items in a transaction, KMS, SQS),
  ledger and Acuity calls, as bench/sync counts them; the size of each DynamoDB item written (write units are per
  KB) and of each log line the function prints (CloudWatch Logs bills ingestion per GB);
- the function's own CPU per message: the invocation thread's CPU time, less what it spent while a request was
  with "AWS" (moto answers in that same thread: from `request-created` to `needs-retry`, botocore's events around
  the send). The fakes answer in threads of their own, so their CPU is not counted;
- the sync function's memory when warm: a fresh process that imports the handler's modules and creates its three
  boto3 clients (its peak RSS).

What is assumed, and said: the APIs' latency (none is measured in ../shared/research; a fake answers in
milliseconds): ledger calls --latency-ms (400 ms), Acuity 300 ms, DynamoDB 6 ms, KMS 10 ms, SQS 15 ms; Lambda's
CPU share (1,769 MB = one vCPU, proportional below) with this machine's core as fast as a Graviton core; the mix
of messages per appointment (MIX below); AWS list prices (PRICES below: us-east-1, the region every tool here
defaults to; the template names none). The webhook's side is modelled from bench/webhook's figures (its README).

Prints a table per ledger, the memory sizes considered, then ONE JSON line last. Exits 1 if a bench/sync scenario
did not end as expected.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RESULTS = PROJECT_ROOT / "bench" / "results" / "cost.json"
TEMPLATE = PROJECT_ROOT / "template.yaml"

# AWS list prices, us-east-1, USD (AWS pricing pages; DynamoDB's on-demand rates since the November 2024 reduction).
PRICES = {
    "lambda_gb_second_arm64": 0.0000133334,
    "lambda_request": 0.20 / 1e6,
    "dynamodb_write_unit": 0.625 / 1e6,  # on-demand WRU: 1 KB; a transactional write is 2 per KB
    "dynamodb_read_unit": 0.125 / 1e6,  # on-demand RRU: 4 KB strongly consistent (our reads all are)
    "kms_request": 0.03 / 10_000,
    "sqs_fifo_request": 0.50 / 1e6,  # per 64 KB chunk
    "http_api_request": 1.00 / 1e6,  # first 300 million a month
    "logs_ingested_gb": 0.50,
    "xray_trace_recorded": 5.00 / 1e6,
}
PRICES_AS_OF = "2026-12-07"
XRAY_SAMPLED = 0.05  # X-Ray's default rule past its reservoir of 1 a second: 5% of requests are traced

# Seconds per call, assumed (a fake answers in milliseconds; nothing in ../shared/research measures the real ones).
ACUITY_LATENCY = 0.300
DYNAMODB_LATENCY = 0.006
KMS_LATENCY = 0.010
SQS_LATENCY = 0.015
FULL_VCPU_MB = 1769  # Lambda: one vCPU at 1,769 MB, proportional below

# Messages per appointment (an assumption): the booking's own message, of these shapes (bench/sync's scenarios),
# then a reschedule for one in five, a cancellation for one in ten, and 0.3 messages that find nothing to write
# (Acuity's `changed` webhooks that change nothing billed, duplicates, reconciliation).
MIX = {"3": 0.4, "2": 0.3, "1": 0.3, "5": 0.2, "6": 0.1, "7": 0.3}
BOOKING_ONLY = {"3": 0.4, "2": 0.3, "1": 0.3}  # the booking's message alone, for comparison

# The webhook function per webhook, from bench/webhook (README, 2026-11-28): a warm event is ~3 ms of our CPU and
# three parallel SendMessage; here one ledger, so one SendMessage (~15 ms), ~25 ms billed at 512 MB; log ~600 bytes.
WEBHOOK_SECONDS = 0.025
WEBHOOK_MEMORY_MB = 512
WEBHOOK_LOG_BYTES = 600
LAMBDA_REPORT_BYTES = 350  # START, END and REPORT lines per invocation
MEMORY_CHOICES = (128, 192, 256, 384, 512, 1024)


def load_sync_bench() -> ModuleType:
    """bench/sync/run.py as a module: its rigs, scenarios and counters, run here rather than copied."""
    path = PROJECT_ROOT / "bench" / "sync" / "run.py"
    spec = importlib.util.spec_from_file_location("_bench_sync_run", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class CountingSink:
    """Where the function's stdout goes (its logs and EMF metrics): counted, not kept."""

    def __init__(self) -> None:
        self.bytes = 0
        self.lines = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode("utf-8"))
        self.lines += text.count("\n")
        return len(text)

    def flush(self) -> None:
        return None


class Probe:
    """The invocation thread's CPU outside AWS requests, and the bytes of DynamoDB items written, per message."""

    def __init__(self) -> None:
        self.enabled = False
        self.sent_cpu = 0.0
        self._sent_at: float | None = None
        self.write_units = 0.0
        self.read_units = 0.0
        self.units_by_kind: dict[str, float] = {}
        self._thread = threading.get_ident()

    def register(self, session: Any) -> None:
        session.events.register("request-created", self._request_created)
        session.events.register("needs-retry", self._needs_retry)
        session.events.register("before-call.dynamodb", self._dynamodb_call)

    def _request_created(self, **_: Any) -> None:
        if self.enabled and threading.get_ident() == self._thread:
            self._sent_at = time.thread_time()

    def _needs_retry(self, **_: Any) -> None:
        if self._sent_at is not None and threading.get_ident() == self._thread:
            self.sent_cpu += time.thread_time() - self._sent_at
            self._sent_at = None

    def _dynamodb_call(self, model: Any, params: Any = None, **_: Any) -> None:
        if not self.enabled or not isinstance(params, dict):
            return
        body = params.get("body")
        request = json.loads(body) if isinstance(body, bytes | str) and body else {}
        units = _write_units(str(model.name), request)
        self.write_units += units
        self.read_units += _read_units(str(model.name), request)
        if units:
            kind = _kind(request)
            self.units_by_kind[kind] = self.units_by_kind.get(kind, 0) + units


def item_bytes(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it: each attribute's name plus its value (strings and binary by length,
    numbers about one byte per two digits, maps and lists with a few bytes of their own)."""
    return sum(len(name.encode("utf-8")) + _value_bytes(value) for name, value in item.items())


def _value_bytes(value: dict[str, Any]) -> int:
    kind, content = next(iter(value.items()))
    if kind == "S":
        return len(str(content).encode("utf-8"))
    if kind == "N":
        return len(str(content).lstrip("-").replace(".", "")) // 2 + 1
    if kind == "B":
        return len(str(content)) * 3 // 4  # base64 in the request
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + 1 + _value_bytes(v) for k, v in content.items())
    if kind == "L":
        return 3 + sum(1 + _value_bytes(v) for v in content)
    return 1


def _kb_units(item: Any) -> int:
    """Write units of an item: 1 per KB, rounded up, as DynamoDB bills."""
    return max(1, -(-item_bytes(item) // 1024))


def _kind(request: dict[str, Any]) -> str:
    """What a write is for, by its items' sort keys: BUDGET, CUST, SNAP, LOG, APPT (a journal transaction names
    each item: "APPT+LOG+LAST_SYNC")."""
    if "TransactItems" in request:
        keys = [next(iter(entry.values())).get("Item") or {} for entry in request["TransactItems"]]
    else:
        keys = [request.get("Key") or request.get("Item") or {}]
    names = []
    for key in keys:
        pk, sk = str(key.get("pk", {}).get("S", "")), str(key.get("sk", {}).get("S", ""))
        names.append("BUDGET" if pk.startswith("BUDGET#") else sk.split("#", maxsplit=1)[0])
    return "+".join(names)


def _write_units(operation: str, request: dict[str, Any]) -> float:
    if operation == "PutItem":
        return _kb_units(request.get("Item", {}))
    if operation in ("UpdateItem", "DeleteItem"):
        return 1  # our updates touch items far below 1 KB (budgets, claims); a failed condition is billed too
    if operation == "TransactWriteItems":
        return sum(2 * _kb_units(next(iter(entry.values())).get("Item", {})) for entry in request["TransactItems"])
    return 0


def _read_units(operation: str, request: dict[str, Any]) -> float:
    if operation == "GetItem":
        return 1  # strongly consistent, under 4 KB
    if operation == "BatchGetItem":
        return sum(len(keys["Keys"]) for keys in request.get("RequestItems", {}).values())
    return 0


@dataclass
class MessageFigures:
    scenario: str
    title: str
    cpu_seconds: float
    log_bytes: int
    aws: dict[str, int]
    write_units: float
    read_units: float
    ledger_calls: int
    acuity_calls: int
    units_by_kind: dict[str, float]


def _leave_out_the_waits(bench: ModuleType, probes: list[Probe]) -> None:
    """The bench's own reads and CPU while it waits for the budgets (uncounted by bench/sync) are not the
    message's: the probe is off during them, and their CPU time is taken off as a request's is."""
    original_wait = bench.Rig.wait_for_budgets

    def wait_for_budgets(self: Any) -> None:
        probe = probes[-1]
        probe.enabled = False
        started = time.thread_time()
        try:
            original_wait(self)
        finally:
            probe.sent_cpu += time.thread_time() - started
            probe.enabled = True

    bench.Rig.wait_for_budgets = wait_for_budgets


def measure(ledgers: list[str]) -> tuple[dict[str, list[MessageFigures]], dict[str, Any], bool]:
    """Run bench/sync's rigs for `ledgers`, with the probes; the figures per scenario message."""
    bench = load_sync_bench()
    sink = CountingSink()
    bench.DEVNULL = sink  # type: ignore[attr-defined]  # the function's stdout, counted (the Logger binds its stream when the module loads)
    probes: list[Probe] = []
    original_load = bench.load_handler

    def load_handler(stack: Any, function: str) -> ModuleType:
        probe = Probe()
        probe.register(boto3.DEFAULT_SESSION)
        probes.append(probe)
        return original_load(stack, function)  # type: ignore[no-any-return]

    bench.load_handler = load_handler  # type: ignore[attr-defined]
    original_sync = bench.Rig.sync

    def sync(self: Any, object_id: int, kind: Any = None) -> Any:
        probe = probes[-1]
        logged = sink.bytes
        probe.sent_cpu, probe.write_units, probe.read_units = 0.0, 0.0, 0.0
        probe.units_by_kind = {}
        probe.enabled = True
        started = time.thread_time()
        try:
            measured = original_sync(self, object_id, kind) if kind is not None else original_sync(self, object_id)
        finally:
            probe.enabled = False
        # The poller's DeleteMessage after the invocation is uncounted by bench/sync: its CPU is small; left in.
        measured.cost_cpu = max(0.0, time.thread_time() - started - probe.sent_cpu)
        measured.cost_log_bytes = sink.bytes - logged
        measured.cost_write_units = probe.write_units
        measured.cost_read_units = probe.read_units
        measured.cost_units_by_kind = dict(probe.units_by_kind)
        return measured

    bench.Rig.sync = sync
    _leave_out_the_waits(bench, probes)
    original_json = bench.Measured.to_json

    def to_json(self: Any) -> dict[str, Any]:
        document: dict[str, Any] = original_json(self)
        for name in ("cost_cpu", "cost_log_bytes", "cost_write_units", "cost_read_units", "cost_units_by_kind"):
            document[name] = getattr(self, name, 0)
        return document

    bench.Measured.to_json = to_json
    chosen = [ledger for ledger in bench.LEDGERS if str(ledger.name) in ledgers]
    runs = [bench.run_ledger(ledger) for ledger in chosen]
    ok = all(row["ok"] for run in runs for row in run.rows)
    figures: dict[str, list[MessageFigures]] = {}
    raw: dict[str, Any] = {}
    for run in runs:
        rows = []
        for row in run.rows:
            measured = row["measured"]
            rows.append(
                MessageFigures(
                    scenario=row["scenario"],
                    title=row["title"],
                    cpu_seconds=measured["cost_cpu"],
                    log_bytes=measured["cost_log_bytes"] + LAMBDA_REPORT_BYTES,
                    aws=measured["aws"],
                    write_units=measured["cost_write_units"],
                    read_units=measured["cost_read_units"],
                    ledger_calls=measured["ledger_total"],
                    acuity_calls=measured["acuity"],
                    units_by_kind=measured["cost_units_by_kind"],
                )
            )
        figures[str(run.ledger.name)] = rows
        raw[str(run.ledger.name)] = run.rows
    return figures, raw, ok


def warm_memory_mb() -> float:
    """Peak RSS (VmHWM: ru_maxrss would carry this process's own from the fork) of a fresh process holding what a
    warm sync container holds: the handler's modules and its three boto3 clients (a message's objects are small
    beside them)."""
    code = (
        "import boto3\n"
        "import acuity_sync.wiring.sync, acuity_sync.ledgers.quickbooks.adapter, acuity_sync.ledgers.xero.adapter\n"
        "import acuity_sync.ledgers.freshbooks.adapter\n"
        "clients = [boto3.client(name, region_name='us-east-1') for name in ('dynamodb', 'kms', 'sqs')]\n"
        "status = open('/proc/self/status').read().split('VmHWM:')[1].split()[0]\n"
        "print(int(status) / 1024)\n"
    )
    environment = {**os.environ, "AWS_ACCESS_KEY_ID": "cost", "AWS_SECRET_ACCESS_KEY": "cost"}
    answer = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environment, cwd=PROJECT_ROOT
    )
    return float(answer.stdout.strip().splitlines()[-1])


def template_memory() -> dict[str, int]:
    """MemorySize of each function in template.yaml (read as text: the template's tags need no YAML loader)."""
    sizes: dict[str, int] = {}
    current = ""
    for line in TEMPLATE.read_text(encoding="utf-8").splitlines():
        if line.startswith("  ") and not line.startswith("   ") and line.rstrip().endswith(":"):
            current = line.strip().rstrip(":")
        elif line.strip().startswith("MemorySize:") and current:
            sizes[current] = int(line.split(":", 1)[1])
    return sizes


@dataclass
class Costs:
    """Dollars per message, by item."""

    lambda_compute: float
    lambda_requests: float
    dynamodb: float
    kms: float
    sqs: float
    http_api: float
    logs: float
    xray: float

    def total(self) -> float:
        return float(sum(vars(self).values()))

    def scaled(self, factor: float) -> Costs:
        return Costs(**{name: value * factor for name, value in vars(self).items()})

    def plus(self, other: Costs) -> Costs:
        return Costs(**{name: value + getattr(other, name) for name, value in vars(self).items()})


ZERO = Costs(0, 0, 0, 0, 0, 0, 0, 0)


def sync_seconds(message: MessageFigures, memory_mb: int, ledger_latency: float) -> float:
    """The sync invocation's billed duration: waiting on the APIs plus our CPU at the memory's share of a vCPU."""
    dynamodb = sum(count for name, count in message.aws.items() if name not in ("Decrypt", "Encrypt"))
    dynamodb -= sum(count for name, count in message.aws.items() if "Message" in name)
    kms = message.aws.get("Decrypt", 0) + message.aws.get("Encrypt", 0)
    sqs = sum(count for name, count in message.aws.items() if "Message" in name)
    waiting = (
        message.ledger_calls * ledger_latency
        + message.acuity_calls * ACUITY_LATENCY
        + dynamodb * DYNAMODB_LATENCY
        + kms * KMS_LATENCY
        + sqs * SQS_LATENCY
    )
    return waiting + message.cpu_seconds * max(1.0, FULL_VCPU_MB / memory_mb)


def message_costs(message: MessageFigures, memory_mb: int, ledger_latency: float) -> Costs:
    """One webhook and the one sync message it queues (a tenant on one ledger)."""
    seconds = sync_seconds(message, memory_mb, ledger_latency)
    kms = message.aws.get("Decrypt", 0) + message.aws.get("Encrypt", 0)
    sqs_ours = sum(count for name, count in message.aws.items() if "Message" in name)
    return Costs(
        lambda_compute=PRICES["lambda_gb_second_arm64"]
        * (memory_mb / 1024 * seconds + WEBHOOK_MEMORY_MB / 1024 * WEBHOOK_SECONDS),
        lambda_requests=2 * PRICES["lambda_request"],
        dynamodb=message.write_units * PRICES["dynamodb_write_unit"]
        + message.read_units * PRICES["dynamodb_read_unit"],
        kms=kms * PRICES["kms_request"],
        # SendMessage (webhook), the poller's ReceiveMessage and DeleteMessage (batched up to 10; 1 each at low
        # volume, the worst case), and ours (ChangeMessageVisibility on a retry)
        sqs=(3 + sqs_ours) * PRICES["sqs_fifo_request"],
        http_api=PRICES["http_api_request"],
        logs=(message.log_bytes + WEBHOOK_LOG_BYTES + LAMBDA_REPORT_BYTES) / 1e9 * PRICES["logs_ingested_gb"],
        xray=2 * XRAY_SAMPLED * PRICES["xray_trace_recorded"],
    )


def per_appointment(
    messages: list[MessageFigures], memory_mb: int, ledger_latency: float, mix: dict[str, float] | None = None
) -> Costs:
    by_scenario = {message.scenario: message for message in messages}
    total = ZERO
    for scenario, share in (mix or MIX).items():
        total = total.plus(message_costs(by_scenario[scenario], memory_mb, ledger_latency).scaled(share))
    return total


def mixed(messages: list[MessageFigures], value: Callable[[MessageFigures], float]) -> float:
    by_scenario = {message.scenario: message for message in messages}
    return sum(value(by_scenario[scenario]) * share for scenario, share in MIX.items())


def print_messages(figures: dict[str, list[MessageFigures]]) -> None:
    print("Per message (measured): our CPU, DynamoDB units, log bytes")
    print("| ledger | # | scenario | CPU ms | DynamoDB ops | write units | read units | KMS | log bytes |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for ledger, messages in figures.items():
        for message in messages:
            operations = sum(
                n for name, n in message.aws.items() if name not in ("Decrypt", "Encrypt") and "Message" not in name
            )
            print(
                f"| {ledger} | {message.scenario} | {message.title} | {message.cpu_seconds * 1000:.0f} | {operations} "
                f"| {message.write_units:g} | {message.read_units:g} | {message.aws.get('Decrypt', 0)} "
                f"| {message.log_bytes} |"
            )

    print("\nDynamoDB write units per appointment, by what is written (the mix above):")
    for ledger, messages in figures.items():
        kinds: dict[str, float] = {}
        for message in messages:
            for kind, units in message.units_by_kind.items():
                kinds[kind] = kinds.get(kind, 0) + units * MIX.get(message.scenario, 0)
        ordered = sorted(kinds.items(), key=lambda pair: -pair[1])
        print(f"- {ledger}: " + ", ".join(f"{kind} {units:.1f}" for kind, units in ordered))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ledger", action="append", choices=["quickbooks", "xero", "freshbooks"])
    parser.add_argument("--latency-ms", type=float, default=400.0, help="each ledger API call's latency, assumed")
    arguments = parser.parse_args()
    ledgers = arguments.ledger or ["quickbooks", "xero", "freshbooks"]
    latency = arguments.latency_ms / 1000

    figures, raw, ok = measure(ledgers)
    resident = warm_memory_mb()
    memory = template_memory()
    deployed = memory.get("SyncQuickBooksFunction", 512)

    print(f"\nCost per million appointments, a tenant on one ledger (us-east-1 list prices of {PRICES_AS_OF}).")
    print(f"Ledger API latency assumed {latency * 1000:.0f} ms a call, Acuity {ACUITY_LATENCY * 1000:.0f} ms.")
    print(f"Messages per appointment: {sum(MIX.values()):.1f} ({', '.join(f'#{k} x{v}' for k, v in MIX.items())}).\n")
    print_messages(figures)

    print(f"\nSync function memory: warm container's peak RSS {resident:.0f} MB; template MemorySize {deployed} MB.")
    print("Cost per million appointments by sync memory size (duration = API waits + CPU at the memory's vCPU share):")
    print("| ledger | " + " | ".join(f"{size} MB" for size in MEMORY_CHOICES) + " |")
    print("|---|" + "---:|" * len(MEMORY_CHOICES))
    by_memory: dict[str, dict[int, float]] = {}
    for ledger, messages in figures.items():
        by_memory[ledger] = {size: per_appointment(messages, size, latency).total() * 1e6 for size in MEMORY_CHOICES}
        cells = []
        for size in MEMORY_CHOICES:
            seconds = mixed(messages, partial(sync_seconds, memory_mb=size, ledger_latency=latency))
            cells.append(f"${by_memory[ledger][size]:.2f} ({seconds:.2f} s)")
        print(f"| {ledger} | " + " | ".join(cells) + " |")

    print(f"\nAt the template's {deployed} MB, per million appointments:")
    items = list(vars(ZERO))
    print("| ledger | " + " | ".join(items) + " | total | dominated by |")
    print("|---|" + "---:|" * (len(items) + 1) + "---|")
    totals: dict[str, float] = {}
    dominant: dict[str, str] = {}
    breakdown: dict[str, dict[str, float]] = {}
    for ledger, messages in figures.items():
        costs = per_appointment(messages, deployed, latency).scaled(1e6)
        parts = vars(costs)
        totals[ledger] = round(costs.total(), 2)
        dominant[ledger] = max(parts, key=lambda name: parts[name])
        breakdown[ledger] = {name: round(value, 2) for name, value in parts.items()}
        print(
            f"| {ledger} | "
            + " | ".join(f"${parts[name]:.2f}" for name in items)
            + f" | **${costs.total():.2f}** | {dominant[ledger]} |"
        )
    sensitivity = {
        f"{ms} ms": {
            ledger: round(per_appointment(messages, deployed, ms / 1000).total() * 1e6, 2)
            for ledger, messages in figures.items()
        }
        for ms in (200, 400, 800)
    }
    print(f"\nThe same at other ledger latencies: {json.dumps(sensitivity)}")
    booking_only = {
        ledger: round(per_appointment(messages, deployed, latency, BOOKING_ONLY).total() * 1e6, 2)
        for ledger, messages in figures.items()
    }
    print(f"An appointment that is only its booking's message (1 message, not {sum(MIX.values()):.1f}): {booking_only}")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "prices": PRICES,
                "prices_as_of": PRICES_AS_OF,
                "mix": MIX,
                "latency_seconds": {"ledger": latency, "acuity": ACUITY_LATENCY, "dynamodb": DYNAMODB_LATENCY},
                "warm_rss_mb": resident,
                "template_memory": memory,
                "per_million_by_memory": by_memory,
                "breakdown_per_million": breakdown,
                "sensitivity": sensitivity,
                "booking_message_only": booking_only,
                "sync": raw,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"raw numbers: {RESULTS.relative_to(PROJECT_ROOT)}")
    print(
        json.dumps(
            {
                "per_million_appointments": totals,
                "per_million_bookings_alone": booking_only,
                "memory_mb": deployed,
                "ledger_latency_ms": round(latency * 1000),
                "dominant": dominant,
                "dynamodb_ops_per_appointment": {
                    ledger: round(
                        mixed(
                            messages,
                            lambda m: sum(
                                n for k, n in m.aws.items() if k not in ("Decrypt", "Encrypt") and "Message" not in k
                            ),
                        ),
                        1,
                    )
                    for ledger, messages in figures.items()
                },
                "kms_per_appointment": {
                    ledger: round(mixed(messages, lambda m: m.aws.get("Decrypt", 0)), 2)
                    for ledger, messages in figures.items()
                },
            }
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
