"""`acuity-sync dev`: the whole product on one machine, no Docker.

Embedded AWS (moto in server mode) with the table, GSI, key, queues and secrets created from template.yaml; the
local gateway in front of the webhook function's worker processes; pollers that feed each queue to its sync
function's worker processes, as Lambda's event source mapping does; the fake Acuity and the fake QuickBooks,
Xero and FreshBooks; a demo tenant connected to the three ledgers through the token store, whose Acuity account
has webhooks registered to the gateway. Everything binds 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx

from acuity_sync.domain.names import ALL_LEDGERS, LedgerName
from acuity_sync.store.kms import SecretBox
from acuity_sync.store.tenants import TenantStore
from acuity_sync_toolkit.demo.books import COMPANY_KEYS
from acuity_sync_toolkit.demo.tenant import (
    DEMO_ACUITY_API_KEY,
    DEMO_ACUITY_USER_ID,
    DEMO_CURRENCY,
    DEMO_TENANT_ID,
    DEMO_TIMEZONE,
    demo_profile,
)
from acuity_sync_toolkit.fakes.acuity import FakeAcuity
from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.freshbooks import FakeFreshBooks
from acuity_sync_toolkit.fakes.quickbooks import FakeQuickBooks
from acuity_sync_toolkit.fakes.xero import FakeXero
from acuity_sync_toolkit.paths import TEMPLATE
from acuity_sync_toolkit.stack.aws_process import AwsProcess
from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack, provision
from acuity_sync_toolkit.stack.connections import (
    LOCAL_LEDGERS,
    LOCAL_OAUTH_CLIENT_SECRET,
    FakeLedger,
    connect,
    connected_tenant,
    open_company,
    store_oauth_client,
)
from acuity_sync_toolkit.stack.functions import HttpRoute
from acuity_sync_toolkit.stack.gateway import LocalGateway
from acuity_sync_toolkit.stack.lambda_runtime import FunctionPool
from acuity_sync_toolkit.stack.pollers import PollerGroup, maximum_concurrency
from acuity_sync_toolkit.stack.scheduler import ScheduleRunner

DEFAULT_TEMPLATE = TEMPLATE
DEFAULT_STATE_DIR = Path(".acuity-sync")
STACK_NAME = "acuity-sync-local"
REGION = "us-east-1"
WEBHOOK_PATH = "/webhooks/acuity/"
# Acuity registrations: `changed` covers scheduled, rescheduled and canceled (DESIGN.md principle 1).
REGISTERED_EVENTS = ("appointment.changed", "order.completed")
QUEUE_OUTPUTS = {
    LedgerName.QUICKBOOKS: "QuickBooksQueueUrl",
    LedgerName.XERO: "XeroQueueUrl",
    LedgerName.FRESHBOOKS: "FreshBooksQueueUrl",
}
DEMO_REALM_ID = "9130357766420001"
DEMO_XERO_TENANT_ID = "3f1c2b9e-5d7a-4e61-9c08-0d5e6a7b8c90"  # Xero's tenant ids are uuids
DEMO_FRESHBOOKS_ACCOUNT_ID = "Dm0St7"
LOCAL_AWS_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


def localhost_url(url: str) -> str:
    """The same server as `localhost`: browsers treat http://localhost as a secure context, so the pages' Secure
    cookies work there without TLS (they would not on another name)."""
    return url.replace("://127.0.0.1:", "://localhost:", 1)


@dataclass(frozen=True, slots=True)
class DevInfo:
    """What `.acuity-sync/dev.json` holds: where each part of the running stack answers."""

    gateway_url: str
    aws_endpoint_url: str
    acuity_url: str
    table_name: str
    kms_key_arn: str
    region: str
    queue_urls: dict[str, str]
    dead_letter_queue_urls: dict[str, str]
    webhook_base_url: str
    demo_tenant: dict[str, Any]
    ledgers: dict[str, dict[str, str]]
    pages_url: str = ""  # the connect function's pages on localhost (a browser keeps Secure cookies there)
    signing_secret_name: str = ""  # the key that signs admin links (acuity-sync admin-link)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


class DevStack:
    def __init__(
        self,
        *,
        state_dir: Path = DEFAULT_STATE_DIR,
        gateway_port: int = 0,
        aws_port: int = 0,
        acuity_port: int = 0,
        template: Path = DEFAULT_TEMPLATE,
        webhook_workers: int = 4,
        time_scale: float = 1.0,
        stack_name: str = STACK_NAME,
        ledgers: tuple[LedgerName, ...] = ALL_LEDGERS,
        xero_per_day: int = 5000,
    ) -> None:
        """`ledgers`: those the demo tenant is connected to (all fakes run either way). `stack_name`: the
        stack's name (each stack has a moto process of its own; the end-to-end tests run two, named apart).
        `xero_per_day`: the fake Xero's calls a day per organisation (Xero's 5,000; a test reaches it sooner)."""
        self._state_dir = state_dir
        self._gateway_port = gateway_port
        self._aws_port = aws_port
        self._acuity_port = acuity_port
        self._template = template
        self._webhook_workers = webhook_workers
        self._time_scale = time_scale
        self._stack_name = stack_name
        self._ledgers = ledgers
        self._xero_per_day = xero_per_day
        # EventBridge's clock: the scheduled functions' runs are stamped with it; a test advances it (scheduler.py).
        self.schedule_clock = FakeClock()
        self._schedules: list[ScheduleRunner] = []
        self._provisioned: ProvisionedStack | None = None
        self._moto: AwsProcess | None = None
        self._acuity: FakeAcuity | None = None
        self._quickbooks: FakeQuickBooks | None = None
        self._xero: FakeXero | None = None
        self._freshbooks: FakeFreshBooks | None = None
        self._pollers: PollerGroup | None = None
        self._pools: list[FunctionPool] = []
        self._gateway: LocalGateway | None = None
        self._aws_url = ""
        self.info: DevInfo | None = None

    def start(self) -> DevInfo:
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> DevInfo:
        for name, value in LOCAL_AWS_CREDENTIALS.items():
            os.environ.setdefault(name, value)
        (self._state_dir / "logs").mkdir(parents=True, exist_ok=True)
        self._moto = AwsProcess(self._aws_port)  # moto in a process of its own (aws_process.py says why)
        aws_url = self._moto.start()
        # At a time scale below 1 our pacing runs that much faster (Budget.in_time_scale), and so do the fakes'
        # rate windows: a scaled minute holds a minute's calls.
        speed = 1 / self._time_scale
        self._quickbooks = FakeQuickBooks(per_minute=round(500 * speed), per_second=round(10 * speed)).start()
        self._xero = FakeXero(per_minute=round(60 * speed), per_day=self._xero_per_day).start()
        self._freshbooks = FakeFreshBooks().start()
        companies = self._companies()
        stack = provision(
            self._template,
            stack_name=self._stack_name,
            endpoint_url=aws_url,
            region=REGION,
            parameters={LOCAL_LEDGERS[ledger].api_url_parameter: fake.url for ledger, (fake, _) in companies.items()},
        )
        self._provisioned, self._aws_url = stack, aws_url
        for fake, company_id in companies.values():
            open_company(fake, company_id, currency=DEMO_CURRENCY, name="Demo Studio")
            store_oauth_client(stack, fake, endpoint_url=aws_url)

        # Acuity's 10 a second in a scaled second too, as the ledgers' fakes and our budgets (Budget.in_time_scale).
        self._acuity = FakeAcuity(port=self._acuity_port, rate_limit_per_second=round(10 * speed)).start()
        self._acuity.add_account(
            DEMO_ACUITY_USER_ID,
            DEMO_ACUITY_API_KEY,
            name="Demo Studio",
            timezone=DEMO_TIMEZONE,
            currency=DEMO_CURRENCY,
        )
        self._create_demo_tenant(stack, aws_url, self._acuity.url, self._ledgers)
        for ledger in self._ledgers:
            fake, company_id = companies[ledger]
            connect(stack, fake, DEMO_TENANT_ID, company_id, endpoint_url=aws_url)
        self._gateway = self._start_gateway(stack, aws_url)
        pages_url = localhost_url(self._gateway.url)
        for fake, _ in companies.values():
            store_oauth_client(stack, fake, endpoint_url=aws_url, pages_url=pages_url)
        self._pollers = self._start_pollers(stack, aws_url)
        self._schedules = self._start_schedules(stack, aws_url)
        webhook_base = self._gateway.url + WEBHOOK_PATH
        webhook_url = webhook_base + DEMO_TENANT_ID
        self._register_webhooks(self._acuity.url, webhook_url)

        self.info = DevInfo(
            gateway_url=self._gateway.url,
            aws_endpoint_url=aws_url,
            acuity_url=self._acuity.url,
            table_name=stack.table_name,
            kms_key_arn=stack.kms_key_arn,
            region=REGION,
            queue_urls={str(ledger): stack.outputs[output] for ledger, output in QUEUE_OUTPUTS.items()},
            dead_letter_queue_urls={
                str(ledger): stack.outputs[output.replace("QueueUrl", "DeadLetterQueueUrl")]
                for ledger, output in QUEUE_OUTPUTS.items()
            },
            webhook_base_url=webhook_base,
            demo_tenant={
                "id": DEMO_TENANT_ID,
                "acuity_user_id": DEMO_ACUITY_USER_ID,
                "acuity_api_key": DEMO_ACUITY_API_KEY,
                "webhook_url": webhook_url,
            },
            ledgers=self._ledger_access(),
            pages_url=f"{pages_url}/connect",
            signing_secret_name=stack.physical_ids["ConnectSigningSecret"],
        )
        (self._state_dir / "dev.json").write_text(self.info.to_json() + "\n", encoding="utf-8")
        return self.info

    def _companies(self) -> dict[LedgerName, tuple[FakeLedger, str]]:
        """The demo business's company at each fake ledger."""
        return {
            LedgerName.QUICKBOOKS: (self.quickbooks, DEMO_REALM_ID),
            LedgerName.XERO: (self.xero, DEMO_XERO_TENANT_ID),
            LedgerName.FRESHBOOKS: (self.freshbooks, DEMO_FRESHBOOKS_ACCOUNT_ID),
        }

    def _ledger_access(self) -> dict[str, dict[str, str]]:
        """dev.json's `ledgers`: where each fake answers, the demo company, and an access token of its own (so
        that reading the books never races the sync's refreshes; Xero's lasts 30 minutes, as Xero's do)."""
        return {
            str(ledger): {
                "url": fake.url,
                COMPANY_KEYS[ledger]: company_id,
                "access_token": fake.issue_tokens(company_id).access_token,
            }
            for ledger, (fake, company_id) in self._companies().items()
        }

    def _functions_environment(self, aws_url: str) -> dict[str, str]:
        environment = {**LOCAL_AWS_CREDENTIALS, "AWS_ENDPOINT_URL": aws_url, "POWERTOOLS_TRACE_DISABLED": "1"}
        if self._time_scale != 1.0:
            environment["ACUITY_SYNC_TIME_SCALE"] = repr(self._time_scale)
        return environment

    def _start_pollers(self, stack: ProvisionedStack, aws_url: str) -> PollerGroup:
        pools: dict[str, FunctionPool] = {}
        for spec in stack.functions.values():
            if not spec.queue_sources:
                continue
            pool = FunctionPool(
                spec,
                environment=self._functions_environment(aws_url),
                max_workers=sum(maximum_concurrency(source) for source in spec.queue_sources),
                log_path=self._state_dir / "logs" / f"{spec.logical_id}.log",
                time_scale=self._time_scale,
            )
            pool.warm(1)
            self._pools.append(pool)
            pools[spec.logical_id] = pool
        return PollerGroup(stack, pools, time_scale=self._time_scale, wait_seconds=1.0).start()

    def _start_schedules(self, stack: ProvisionedStack, aws_url: str) -> list[ScheduleRunner]:
        """Each scheduled function in a pool of one worker (its reserved concurrency), run on its schedule."""
        runners: list[ScheduleRunner] = []
        for spec in stack.functions.values():
            if not spec.schedules:
                continue
            pool = FunctionPool(
                spec,
                environment=self._functions_environment(aws_url),
                max_workers=1,
                log_path=self._state_dir / "logs" / f"{spec.logical_id}.log",
                time_scale=self._time_scale,
            )
            # Not warmed: EventBridge's first run comes a period after the rule is made, and starts cold, as here.
            self._pools.append(pool)
            for schedule in spec.schedules:
                runner = ScheduleRunner(
                    pool, schedule, clock=self.schedule_clock, time_scale=self._time_scale, region=REGION
                )
                runners.append(runner.start())
        return runners

    def _start_gateway(self, stack: ProvisionedStack, aws_url: str) -> LocalGateway:
        environment = self._functions_environment(aws_url)
        routes: list[tuple[HttpRoute, FunctionPool]] = []
        for spec in stack.functions.values():
            if not spec.http_routes:
                continue
            pool = FunctionPool(
                spec,
                environment=environment,
                max_workers=self._webhook_workers,
                log_path=self._state_dir / "logs" / f"{spec.logical_id}.log",
            )
            pool.warm(1)
            self._pools.append(pool)
            routes.extend((route, pool) for route in spec.http_routes)
        return LocalGateway(routes, port=self._gateway_port).start()

    @staticmethod
    def _create_demo_tenant(
        stack: ProvisionedStack, aws_url: str, acuity_url: str, ledgers: tuple[LedgerName, ...]
    ) -> None:
        dynamodb = boto3.client("dynamodb", endpoint_url=aws_url, region_name=REGION)
        kms = boto3.client("kms", endpoint_url=aws_url, region_name=REGION)
        store = TenantStore(dynamodb, stack.table_name, SecretBox(kms, stack.kms_key_arn))
        store.create(demo_profile(acuity_url, ledgers))

    @staticmethod
    def _register_webhooks(acuity_url: str, target: str) -> None:
        auth = (str(DEMO_ACUITY_USER_ID), DEMO_ACUITY_API_KEY)
        with httpx.Client(base_url=acuity_url, auth=auth, timeout=5) as acuity:
            for event in REGISTERED_EVENTS:
                acuity.post("/api/v1/webhooks", json={"event": event, "target": target}).raise_for_status()

    @property
    def state_dir(self) -> Path:
        """Where dev.json and the functions' logs (logs/) are written."""
        return self._state_dir

    @property
    def acuity(self) -> FakeAcuity:
        """The fake Acuity, for tests that plan faults or read its deliveries."""
        assert self._acuity is not None, "the stack is not started"
        return self._acuity

    @property
    def quickbooks(self) -> FakeQuickBooks:
        """The fake QuickBooks, for tests that plan faults or read its state."""
        assert self._quickbooks is not None, "the stack is not started"
        return self._quickbooks

    @property
    def xero(self) -> FakeXero:
        assert self._xero is not None, "the stack is not started"
        return self._xero

    @property
    def freshbooks(self) -> FakeFreshBooks:
        assert self._freshbooks is not None, "the stack is not started"
        return self._freshbooks

    def fake_ledger(self, ledger: LedgerName) -> FakeLedger:
        return self._companies()[ledger][0]

    @property
    def provisioned(self) -> ProvisionedStack:
        """The template's resources in embedded AWS (tests connect tenants with it)."""
        assert self._provisioned is not None, "the stack is not started"
        return self._provisioned

    def schedule(self, logical_id: str) -> ScheduleRunner:
        """The schedule of a scheduled function (tests wait for its runs)."""
        for runner in self._schedules:
            if runner.function == logical_id:
                return runner
        raise KeyError(f"{logical_id} has no schedule in this stack")

    def add_business(
        self, tenant_id: str, acuity_user_id: int, acuity_api_key: str, ledgers: tuple[LedgerName, ...]
    ) -> str:
        """Another business beside the demo tenant (tests of one tenant against another): an account at the fake
        Acuity, a company of its own at each fake ledger in `ledgers`, connected. Its webhook URL is returned."""
        assert self._provisioned is not None, "the stack is not started"
        assert self._acuity is not None, "the stack is not started"
        company_ids = {
            LedgerName.QUICKBOOKS: "".join(secrets.choice("0123456789") for _ in range(16)),
            LedgerName.XERO: str(uuid.uuid4()),
            LedgerName.FRESHBOOKS: secrets.token_hex(3),
        }
        connected_tenant(
            self._provisioned,
            self._acuity,
            {company_ids[ledger]: self.fake_ledger(ledger) for ledger in ledgers},
            tenant_id=tenant_id,
            acuity_user_id=acuity_user_id,
            acuity_api_key=acuity_api_key,
            endpoint_url=self._aws_url,
        )
        assert self.info is not None
        return self.info.webhook_base_url + tenant_id

    def secrets_in_use(self) -> set[str]:
        """Everything secret the stack has handed out so far: every token the fake ledgers issued, our OAuth
        client's secret at each, every Acuity API key and every e-mail address the fake Acuity holds. None of it
        may ever be in a log (tests/e2e/conftest.py looks)."""
        found: set[str] = set()
        if self._acuity is not None:
            found |= self._acuity.secrets()
        for fake in (self._quickbooks, self._xero, self._freshbooks):
            if fake is not None:
                found |= fake.authority.issued_tokens()
                found.add(LOCAL_OAUTH_CLIENT_SECRET)
                if isinstance(fake, FakeQuickBooks | FakeFreshBooks):
                    found.add(fake.client_secret)
        return found

    def worker_pids(self, logical_id: str) -> list[int]:
        """The live worker processes of one function (tests kill them to prove a crash loses nothing)."""
        return [pid for pool in self._pools if pool.spec.logical_id == logical_id for pid in pool.worker_pids]

    def stop(self) -> None:
        """Stops everything it started, in reverse order; safe to call twice."""
        if self._pollers is not None:
            self._pollers.request_stop()
        if self._gateway is not None:
            self._gateway.stop()
            self._gateway = None
        for runner in self._schedules:
            runner.stop()
        self._schedules.clear()
        if self._pollers is not None:
            self._pollers.stop()
            self._pollers = None
        for pool in self._pools:
            pool.close()
        self._pools.clear()
        if self._acuity is not None:
            self._acuity.stop()
            self._acuity = None
        for fake in (self._quickbooks, self._xero, self._freshbooks):
            if fake is not None:
                fake.stop()
        self._quickbooks = self._xero = self._freshbooks = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None

    def __enter__(self) -> DevStack:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
