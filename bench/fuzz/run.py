"""Fuzz at scale: generated webhook requests against the webhook function; never a 5xx, nothing unsigned queued.

    .venv/bin/python bench/fuzz/run.py [--requests 100000] [--seed 20261128] [--sqs hook|moto]

Setup: moto in-process (mock_aws) with the template's table, key and queues; three tenants (three ledgers
connected, one, none), each with its own Acuity API key. The handler module the template names for
WebhookFunction is loaded once, as a container loads it, with the function's environment, and every request is
an invocation of its `lambda_handler` with an HTTP API event (bench/fuzz/generate.py says what is generated).
The answers are the function's own; tracing is off (POWERTOOLS_TRACE_DISABLED), logs and metrics go nowhere.

SQS: every SendMessage the function makes is seen at the SQS client's boundary (botocore events on boto3's
default session: `before-parameter-build` keeps the call's parameters, `after-call` records the message when the
answer is a success). With `--sqs hook` (the default) a `before-call` handler answers SendMessage itself (a
MessageId and the body's MD5, as SQS does), because moto's SendMessage scans every message already in a FIFO
queue and slows with each one; `--sqs moto` lets moto take the messages and purges the queues every 200
requests. DynamoDB and KMS are moto's either way.

Checked for every request, with an oracle of its own (generate.py: it signs with hmac, not with the product):
- server_errors: answers of 500 or more (none is acceptable: bad input never gets a 5xx, and nothing failed).
- unsigned_queued: messages queued for a request that does not carry the right signature of its body with the
  key of the message's tenant.
- wrong_messages: a message for another tenant than the address's, for a ledger that tenant has not connected,
  or whose object id is not the form's; an accepted answer without one message per connected ledger; a message
  for a request not answered `accepted`.
- genuine_refused: webhooks exactly as Acuity sends them, to a tenant with a ledger, not accepted.
Each must be 0: the bench exits 1 otherwise. The first failing requests are kept in bench/results/fuzz.json.

Prints a table (answers per family and status) and, last, one JSON line:
{"requests", "accepted", "server_errors", "unsigned_queued"}.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import platform
import random
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, cast
from urllib.parse import parse_qsl

import boto3
import botocore
import moto
from botocore.awsrequest import AWSResponse, HTTPHeaders
from moto import mock_aws

from acuity_sync.domain.names import LedgerName
from acuity_sync.secret import Secret
from acuity_sync.store.kms import SecretBox
from acuity_sync.store.tenants import TenantProfile, TenantStore
from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack, provision

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT))  # bench.fuzz and tests.support, as when run from the project root

from bench.fuzz.generate import (  # noqa: E402
    Case,
    Generator,
    Tenant,
    addressed_tenant,
    correctly_signed,
    delivered_body,
)
from tests.support.http_events import FakeLambdaContext  # noqa: E402

TEMPLATE = PROJECT_ROOT / "template.yaml"
RESULTS = PROJECT_ROOT / "bench" / "results" / "fuzz.json"
FUNCTION = "WebhookFunction"
REGION = "us-east-1"
DEFAULT_REQUESTS = 100_000
DEFAULT_SEED = 20261128
PURGE_EVERY = 200  # --sqs moto: requests between purges of the queues
KEEP_FAILURES = 20
PROGRESS_EVERY = 10_000

TENANTS = [
    Tenant("fuzz-all-0000000000000000000001", "fuzz-key-all", ("quickbooks", "xero", "freshbooks")),
    Tenant("fuzz-one-0000000000000000000002", "fuzz-key-one", ("xero",)),
    Tenant("fuzz-none-000000000000000000003", "fuzz-key-none", ()),
]
# Well-formed tenant ids nobody has: each costs the function one GetItem, then its 30 s miss cache.
UNKNOWN_TENANTS = [f"fuzz-unknown-{number:020d}" for number in range(40)]
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "fuzz",
    "AWS_SECRET_ACCESS_KEY": "fuzz",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
DEVNULL = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - open for the whole run: the Logger keeps it


# ----------------------------------------------------------------------------------------------- the SQS boundary


@dataclass(frozen=True, slots=True)
class Sent:
    queue_url: str
    body: str
    group_id: str
    deduplication_id: str


class SqsBoundary:
    """Every SendMessage the function's clients make, recorded at botocore's boundary; with `answer`, answered
    here (a MessageId and the MD5 of the body, as SQS answers) instead of by moto."""

    def __init__(self, session: boto3.Session, *, answer: bool) -> None:
        self._lock = threading.Lock()
        self._sent: list[Sent] = []
        self.calls: Counter[str] = Counter()
        events = session.events
        events.register("before-parameter-build.sqs.SendMessage", self._keep_parameters)
        events.register("after-call.sqs.SendMessage", self._record)
        events.register("before-call", self._count)
        if answer:
            # A before-call handler that returns (http response, parsed answer) stands in for the request.
            events.register("before-call.sqs.SendMessage", cast(Callable[..., None], self._answer))

    def _keep_parameters(self, params: dict[str, Any], context: dict[str, Any], **_kwargs: Any) -> None:
        context["fuzz_send"] = Sent(
            params["QueueUrl"], params["MessageBody"], params["MessageGroupId"], params["MessageDeduplicationId"]
        )

    def _count(self, model: Any, **_kwargs: Any) -> None:
        if model.name != "SendMessage":  # counted in _record: a SendMessage answered here skips this handler
            with self._lock:
                self.calls[str(model.name)] += 1

    def _answer(self, context: dict[str, Any], **_kwargs: Any) -> tuple[AWSResponse, dict[str, Any]]:
        sent: Sent = context["fuzz_send"]
        digest = hashlib.md5(sent.body.encode("utf-8"), usedforsecurity=False).hexdigest()
        parsed = {
            "MessageId": str(uuid.uuid4()),
            "MD5OfMessageBody": digest,
            "SequenceNumber": str(time.time_ns()),
            "ResponseMetadata": {"HTTPStatusCode": 200, "HTTPHeaders": {}, "RetryAttempts": 0},
        }
        return AWSResponse(sent.queue_url, 200, HTTPHeaders(), None), parsed

    def _record(self, http_response: Any, context: dict[str, Any], **_kwargs: Any) -> None:
        with self._lock:
            self.calls["SendMessage"] += 1
            if http_response.status_code < 300:
                self._sent.append(context["fuzz_send"])

    def take(self) -> list[Sent]:
        with self._lock:
            sent, self._sent = self._sent, []
        return sent


# ----------------------------------------------------------------------------------------------- the tally


@dataclass(slots=True)
class Tally:
    requests: int = 0
    accepted: int = 0
    server_errors: int = 0
    unsigned_queued: int = 0
    wrong_messages: int = 0
    genuine: int = 0
    genuine_refused: int = 0
    messages: int = 0
    signed: int = 0  # requests the oracle finds correctly signed for the address's tenant
    by_family: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    failures: list[dict[str, Any]] = field(default_factory=list)

    def fail(self, what: str, case: Case, response: dict[str, Any], sent: list[Sent]) -> None:
        if len(self.failures) < KEEP_FAILURES:
            self.failures.append(
                {
                    "what": what,
                    "family": case.family,
                    "event": truncated(case.event),
                    "response": response,
                    "queued": [message.body for message in sent],
                }
            )


def truncated(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 500:
        return value[:500] + f"... ({len(value)} characters)"
    if isinstance(value, dict):
        return {key: truncated(item) for key, item in list(value.items())[:40]}
    return value


def form_id(event: dict[str, Any]) -> str | None:
    body = delivered_body(event)
    if body is None:
        return None
    try:
        fields = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return None
    value = fields.get("id", "").strip()
    return str(int(value)) if value.isascii() and value.isdigit() else None


def check(tally: Tally, case: Case, response: dict[str, Any], sent: list[Sent], queues: dict[str, str]) -> None:
    tally.requests += 1
    status = int(response.get("statusCode", 0))
    try:
        answer = json.loads(response.get("body") or "{}")
        outcome = str(answer.get("outcome"))
    except (ValueError, AttributeError):
        answer, outcome = {}, "unreadable"
    tally.by_family[case.family][f"{status} {outcome}"] += 1
    tally.messages += len(sent)
    accepted = status == 200 and outcome == "accepted"
    tenants = {tenant.tenant_id: tenant for tenant in TENANTS}
    address = addressed_tenant(case.event)
    addressed = tenants.get(address or "")
    if addressed is not None and correctly_signed(case.event, addressed):
        tally.signed += 1
    if status >= 500:
        tally.server_errors += 1
        tally.fail("server error", case, response, sent)
    if accepted:
        tally.accepted += 1
    if case.genuine:
        tally.genuine += 1
        if not accepted:
            tally.genuine_refused += 1
            tally.fail("a genuine webhook was not accepted", case, response, sent)
    for message in sent:
        document = json.loads(message.body)
        tenant = tenants.get(str(document.get("tenant_id")))
        if tenant is None or not correctly_signed(case.event, tenant):
            tally.unsigned_queued += 1
            tally.fail("queued without the tenant's signature", case, response, [message])
            continue
        ledger = queues.get(message.queue_url)
        if (
            tenant.tenant_id != address
            or ledger not in tenant.ledgers
            or str(document.get("object_id")) != form_id(case.event)
        ):
            tally.wrong_messages += 1
            tally.fail("a message that is not what the request said", case, response, [message])
    expected = len(addressed.ledgers) if accepted and addressed is not None else 0
    if len(sent) != expected or (accepted and addressed is None):
        tally.wrong_messages += 1
        tally.fail(f"{len(sent)} messages queued for an answer `{outcome}`", case, response, sent)


# ----------------------------------------------------------------------------------------------- the run


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """The function's logs and metrics (stdout, as in Lambda) go nowhere; the Logger binds the stream at import."""
    with contextlib.redirect_stdout(DEVNULL):
        yield


class ErrorLog(logging.Handler):
    """The function's own ERROR records (its 500s log the exception), kept for the report."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.records) < KEEP_FAILURES:
            text = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                text += f": {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
            self.records.append(text)


def load_handler(stack: ProvisionedStack) -> ModuleType:
    spec = stack.functions[FUNCTION]
    os.environ.update(spec.environment)
    os.environ["POWERTOOLS_TRACE_DISABLED"] = "1"
    sys.path[:0] = [str(spec.code_dir), *(str(path) for path in spec.layer_dirs)]
    module_name, _, _function = spec.handler.rpartition(".")
    module_spec = importlib.util.spec_from_file_location(f"_fuzz_{FUNCTION}", spec.code_dir / f"{module_name}.py")
    if module_spec is None or module_spec.loader is None:
        raise RuntimeError(f"cannot load {spec.code_dir / module_name}.py")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_spec.name] = module
    with quiet_stdout():
        module_spec.loader.exec_module(module)
    return module


def add_tenants(stack: ProvisionedStack) -> None:
    session = boto3.Session(region_name=REGION)  # not the default session: setup calls are not counted
    box = SecretBox(session.client("kms"), stack.kms_key_arn)
    store = TenantStore(session.client("dynamodb"), stack.table_name, box)
    for tenant in TENANTS:
        store.create(
            TenantProfile(
                tenant.tenant_id,
                f"Fuzz {tenant.tenant_id[5:9]}",
                "1",
                Secret(tenant.api_key),
                ledgers=tuple(LedgerName(ledger) for ledger in tenant.ledgers),
            )
        )


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(requests: int, seed: int, answer_sqs: bool) -> tuple[Tally, dict[str, Any]]:
    for name, value in FAKE_CREDENTIALS.items():
        os.environ[name] = value
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ["MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR"] = "false"
    tally = Tally()
    with mock_aws():
        stack = provision(TEMPLATE, region=REGION)
        add_tenants(stack)
        boto3.setup_default_session()  # the session the function's clients are created from
        assert boto3.DEFAULT_SESSION is not None
        boundary = SqsBoundary(boto3.DEFAULT_SESSION, answer=answer_sqs)
        errors = ErrorLog()
        module = load_handler(stack)
        logger = getattr(module, "logger", None)
        if logger is not None:
            logger.addHandler(errors)
        handler = module.lambda_handler
        queues = {url: ledger for ledger, url in stack_queue_urls(stack).items()}
        admin_sqs = boto3.Session(region_name=REGION).client("sqs")
        generator = Generator(random.Random(seed), TENANTS, UNKNOWN_TENANTS)
        context = FakeLambdaContext()
        started = time.perf_counter()
        in_handler = 0.0
        with quiet_stdout():
            for number in range(1, requests + 1):
                case = next(generator)
                entered = time.perf_counter()
                response = handler(case.event, context)
                in_handler += time.perf_counter() - entered
                check(tally, case, response, boundary.take(), queues)
                if not answer_sqs and number % PURGE_EVERY == 0:
                    for url in queues:
                        admin_sqs.purge_queue(QueueUrl=url)
                if number % PROGRESS_EVERY == 0:
                    elapsed = time.perf_counter() - started
                    progress(
                        f"{number}/{requests} in {elapsed:.0f} s ({number / elapsed:.0f}/s): accepted "
                        f"{tally.accepted}, 5xx {tally.server_errors}, unsigned queued {tally.unsigned_queued}"
                    )
        elapsed = time.perf_counter() - started
    timing = {
        "seconds": elapsed,
        "requests_per_second": requests / elapsed if elapsed else 0.0,
        "seconds_in_handler": in_handler,
        "aws_calls": dict(sorted(boundary.calls.items())),
        "function_errors_logged": errors.records,
    }
    return tally, timing


def stack_queue_urls(stack: ProvisionedStack) -> dict[str, str]:
    """Ledger name -> its source queue's URL, from the function's environment (QUEUE_URL_<LEDGER>)."""
    environment = stack.functions[FUNCTION].environment
    prefix = "QUEUE_URL_"
    return {name.removeprefix(prefix).lower(): url for name, url in environment.items() if name.startswith(prefix)}


def report(tally: Tally, timing: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    statuses = sorted({key for counts in tally.by_family.values() for key in counts})
    families = sorted(tally.by_family)
    print()
    print(f"{'answer':36}" + "".join(f"{family:>11}" for family in families) + f"{'total':>10}")
    for key in statuses:
        row = [tally.by_family[family][key] for family in families]
        print(f"{key:36}" + "".join(f"{count:>11}" for count in row) + f"{sum(row):>10}")
    print()
    rows = [
        ("requests", tally.requests, ""),
        ("accepted (queued once per connected ledger)", tally.accepted, ""),
        ("correctly signed for the address's tenant", tally.signed, ""),
        ("genuine Acuity webhooks", tally.genuine, ""),
        ("messages queued", tally.messages, ""),
        ("server errors (5xx)", tally.server_errors, "must be 0"),
        ("unsigned messages queued", tally.unsigned_queued, "must be 0"),
        ("wrong messages", tally.wrong_messages, "must be 0"),
        ("genuine webhooks refused", tally.genuine_refused, "must be 0"),
    ]
    for label, value, note in rows:
        print(f"  {label:46} {value:>9}  {note}")
    print(
        f"\n{tally.requests} requests in {timing['seconds']:.0f} s ({timing['requests_per_second']:.0f}/s; "
        f"{timing['seconds_in_handler']:.0f} s inside the handler); SQS: {settings['sqs']}"
    )
    print("AWS calls made by the function: " + ", ".join(f"{k} {v}" for k, v in timing["aws_calls"].items()))
    for failure in tally.failures[:5]:
        print(f"FAILED ({failure['what']}): {json.dumps(failure)[:1500]}")
    for record in timing["function_errors_logged"][:5]:
        print(f"the function logged: {record}")
    document = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "versions": {"boto3": boto3.__version__, "botocore": botocore.__version__, "moto": moto.__version__},
        "settings": settings,
        "timing": timing,
        "figures": {
            "requests": tally.requests,
            "accepted": tally.accepted,
            "signed": tally.signed,
            "genuine": tally.genuine,
            "messages": tally.messages,
            "server_errors": tally.server_errors,
            "unsigned_queued": tally.unsigned_queued,
            "wrong_messages": tally.wrong_messages,
            "genuine_refused": tally.genuine_refused,
        },
        "answers_by_family": {family: dict(counts) for family, counts in tally.by_family.items()},
        "failures": tally.failures,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"raw numbers: {RESULTS.relative_to(PROJECT_ROOT)}")
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=DEFAULT_REQUESTS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--sqs", choices=["hook", "moto"], default="hook")
    arguments = parser.parse_args(argv)
    if arguments.requests < 1:
        parser.error("--requests must be at least 1")
    settings = {"requests": arguments.requests, "seed": arguments.seed, "sqs": arguments.sqs}
    progress(f"fuzz: {settings}")
    tally, timing = run(arguments.requests, arguments.seed, answer_sqs=arguments.sqs == "hook")
    report(tally, timing, settings)
    print(
        json.dumps(
            {
                "requests": tally.requests,
                "accepted": tally.accepted,
                "server_errors": tally.server_errors,
                "unsigned_queued": tally.unsigned_queued,
            }
        )
    )
    must_be_zero = (tally.server_errors, tally.unsigned_queued, tally.wrong_messages, tally.genuine_refused)
    return 1 if any(must_be_zero) else 0


if __name__ == "__main__":
    sys.exit(main())
