"""Operations end to end, through the local stack as a user runs it: the fake Acuity, the gateway, the queues, the
Xero sync function and the maintenance function on its schedule (every five minutes, 15 s at this time scale), and
the `acuity-sync` commands in their own processes. The books are read back through Xero's API (the fake's).

Every appointment a test makes has a client of its own. Only the reconciliation tests book inside the window the
maintenance function reconciles (today and seven days each side); the others book a month ahead, so that a run
cannot queue their appointments beside their own webhook and the figures each test asserts are its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest

from acuity_sync.domain.names import LedgerName
from acuity_sync.ledgers.registry import parse_settings
from acuity_sync.store.parking import ParkedEvent, ParkingLot
from acuity_sync.store.settings import SettingsStore
from acuity_sync_toolkit.demo.tenant import DEMO_TENANT_ID, DEMO_TIMEZONE
from acuity_sync_toolkit.fakes.acuity_admin import AcuityAdmin
from acuity_sync_toolkit.stack.connections import connect
from acuity_sync_toolkit.stack.devstack import REGION, DevStack
from acuity_sync_toolkit.stack.scheduler import ScheduleRunner
from tests.support.scenarios import Invoice, controls_for, queue_depth, reader_for, wait_until_drained
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("operations")]

TIME_SCALE = 0.05
XERO = LedgerName.XERO
ZONE = ZoneInfo(DEMO_TIMEZONE)
WAIT = 90.0  # seconds: a few maintenance runs (15 s each at this scale) and the syncs they queue


def at(day: date, hour: int = 15) -> str:
    """An appointment time as Acuity writes it, in the demo business's zone."""
    return datetime.combine(day, time(hour), ZONE).strftime("%Y-%m-%dT%H:%M:%S%z")


def today() -> date:
    return datetime.now(ZONE).date()


@dataclass
class Ops:
    """One test's view of a stack: act in Acuity, run the commands, read Xero's books and the parking lot."""

    dev: DevStack
    state_dir: Path
    admin: AcuityAdmin

    @property
    def info(self) -> Any:
        assert self.dev.info is not None
        return self.dev.info

    @property
    def account(self) -> int:
        return int(self.info.demo_tenant["acuity_user_id"])

    @property
    def maintenance(self) -> ScheduleRunner:
        return self.dev.schedule("MaintenanceFunction")

    def client(self, first: str) -> dict[str, str]:
        tag = uuid.uuid4().hex[:8]
        return {"firstName": first, "lastName": f"Ops{tag}", "email": f"{first.lower()}.{tag}@example.com"}

    def cli(self, *arguments: str) -> tuple[int, str]:
        """`acuity-sync ...` in a process of its own, against this stack (its dev.json)."""
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "acuity_sync_toolkit.cli",
                *arguments,
                "--dev-state",
                str(self.state_dir / "dev.json"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert "Traceback" not in done.stderr, done.stderr
        return done.returncode, done.stdout

    def cli_json(self, *arguments: str) -> dict[str, Any]:
        status, out = self.cli(*arguments, "--json")
        assert status == 0, out
        document: dict[str, Any] = json.loads(out)
        return document

    def invoices(self, client: dict[str, str]) -> list[Invoice]:
        books = reader_for(self.dev, str(XERO)).read()
        return [
            invoice
            for customer in books.customers_with_email(client["email"])
            for invoice in books.invoices_of(customer.id)
            if invoice.status != "voided"
        ]

    def wait_for_invoices(self, client: dict[str, str], count: int = 1, timeout: float = WAIT) -> list[Invoice]:
        wait_until(lambda: len(self.invoices(client)) >= count, timeout, f"{count} invoice(s) for {client['email']}")
        return self.invoices(client)

    def invoice_ids_in_xero(self, client: dict[str, str]) -> list[str]:
        """The client's live invoices, read from the fake's state rather than its API (for when the day's calls
        are spent: a read through the API would count against them too)."""
        state = self.dev.xero.state(self.xero_company)
        contacts = {c["ContactID"] for c in state["Contacts"] if c.get("EmailAddress") == client["email"]}
        return [
            str(invoice["InvoiceID"])
            for invoice in state["Invoices"]
            if invoice["Contact"]["ContactID"] in contacts and invoice["Status"] not in ("VOIDED", "DELETED")
        ]

    def parked(self) -> list[ParkedEvent]:
        dynamodb = boto3.client("dynamodb", endpoint_url=self.info.aws_endpoint_url, region_name=REGION)
        return ParkingLot(dynamodb, self.info.table_name).for_ledger(DEMO_TENANT_ID, XERO)

    def drained(self) -> None:
        wait_until_drained(self.info, str(XERO), WAIT)

    def dead_letters(self) -> int:
        return queue_depth(self.info, self.info.dead_letter_queue_urls[str(XERO)])

    def settings_store(self) -> SettingsStore:
        dynamodb = boto3.client("dynamodb", endpoint_url=self.info.aws_endpoint_url, region_name=REGION)
        return SettingsStore(dynamodb, self.info.table_name)

    @property
    def xero_company(self) -> str:
        return controls_for(self.dev, XERO).company_id


def start(tmp_path_factory: pytest.TempPathFactory, name: str, **options: Any) -> tuple[DevStack, Path]:
    state_dir: Path = tmp_path_factory.mktemp(name)
    dev = DevStack(state_dir=state_dir, time_scale=TIME_SCALE, stack_name=name, ledgers=(XERO,), **options)
    dev.start()
    return dev, state_dir


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevStack, Path]]:
    dev, state_dir = start(tmp_path_factory, "operations")
    try:
        yield dev, state_dir
    finally:
        dev.stop()


@pytest.fixture
def ops(stack: tuple[DevStack, Path]) -> Iterator[Ops]:
    dev, state_dir = stack
    assert dev.info is not None
    with AcuityAdmin(dev.info.acuity_url) as admin:
        yield Ops(dev, state_dir, admin)


# --------------------------------------------------------------------------------- a webhook Acuity never delivered


def test_01_a_lost_webhook_is_synced_by_reconcile(ops: Ops) -> None:
    ops.maintenance.disable()  # the command's own figures: no scheduled run in between
    try:
        lost = ops.client("Lola")
        booked = ops.admin.book_appointment_without_webhook(
            ops.account, **lost, price="70.00", datetime=at(today() + timedelta(days=2))
        )
        assert ops.admin.deliveries(ops.account) == [], "Acuity delivered nothing"
        assert ops.cli_json("reconcile", "--tenant", DEMO_TENANT_ID, "--dry-run") == {
            "checked": 1,
            "queued": 0,
            "would_queue": 1,
        }
        assert ops.cli_json("reconcile", "--tenant", DEMO_TENANT_ID) == {"checked": 1, "queued": 1}
        (invoice,) = ops.wait_for_invoices(lost)
        assert invoice.total == 70
        ops.drained()
        status, words = ops.cli("reconcile", "--tenant", DEMO_TENANT_ID)
        assert status == 0
        assert "Everything Acuity lists is in step: nothing queued." in words
        explained = ops.cli_json("explain", "--tenant", DEMO_TENANT_ID, "--appointment", str(booked["id"]))
        assert explained["ledgers"]["xero"]["state"] == "synced"
        assert ops.invoices(lost) == [invoice]
    finally:
        ops.maintenance.enable()


def test_02_a_lost_webhook_is_synced_by_the_maintenance_function_on_its_schedule(ops: Ops) -> None:
    lost = ops.client("Milo")
    runs = len(ops.maintenance.runs())
    booked = ops.admin.book_appointment_without_webhook(
        ops.account, **lost, price="55.00", datetime=at(today() - timedelta(days=1))
    )
    changed = ops.admin.change_appointment_without_webhook(ops.account, booked["id"], amountPaid="55.00")
    (invoice,) = ops.wait_for_invoices(lost)
    assert len(ops.maintenance.runs()) > runs, "found by a scheduled run"
    wait_until(lambda: ops.invoices(lost)[0].status == "paid", WAIT, "the payment made without a webhook")
    assert changed["paid"] == "yes"
    status, words = ops.cli("explain", "--tenant", DEMO_TENANT_ID, "--appointment", str(booked["id"]))
    assert status == 0
    assert "reconcile changed: written" in words
    assert [i.id for i in ops.invoices(lost)] == [invoice.id]


# --------------------------------------------------------------------------------- parked, then resumed


def test_03_a_connection_refused_mid_stream_resumes_each_event_once_after_the_reconnect(ops: Ops) -> None:
    later = today() + timedelta(days=30)
    first, second, third = ops.client("Ana"), ops.client("Ben"), ops.client("Cy")
    ops.admin.book_appointment(ops.account, **first, price="40.00", datetime=at(later))
    ops.wait_for_invoices(first)
    ops.dev.xero.authority.revoke_subject(ops.xero_company)  # the owner disconnected our app in Xero
    for client in (second, third):
        ops.admin.book_appointment(ops.account, **client, price="45.00", datetime=at(later, 16))
    wait_until(lambda: len(ops.parked()) == 2, WAIT, "two events parked for a reconnect")
    assert {event.reason for event in ops.parked()} == {"needs_reauth"}
    health = ops.cli_json("status", "--tenant", DEMO_TENANT_ID)["tenants"][0]["ledgers"]["xero"]
    assert (health["connection"], health["parked"]) == ("needs_reauth", {"needs_reauth": 2})
    connect(ops.dev.provisioned, ops.dev.xero, DEMO_TENANT_ID, ops.xero_company, endpoint_url=ops.info.aws_endpoint_url)
    for client in (second, third):
        ops.wait_for_invoices(client)
    wait_until(lambda: ops.parked() == [], WAIT, "the parking lot empty")
    ops.drained()
    assert [len(ops.invoices(client)) for client in (first, second, third)] == [1, 1, 1]
    assert ops.cli_json("status", "--tenant", DEMO_TENANT_ID)["tenants"][0]["ledgers"]["xero"]["connection"] == (
        "connected"
    )


def test_04_a_ledger_refusal_fixed_by_a_settings_change_is_resumed(ops: Ops) -> None:
    later = today() + timedelta(days=31)
    store = ops.settings_store()
    before = store.get(DEMO_TENANT_ID, XERO)
    original = before.settings.model_dump(mode="json")
    # The invoice account the owner chose was deleted in Xero since (saved here without `settings set`'s check, which
    # would refuse it now): Xero refuses the invoice, in its own words.
    gone = {**original, "xero": {**original["xero"], "invoice_account_id": str(uuid.uuid4())}}
    version = store.put(DEMO_TENANT_ID, XERO, parse_settings(XERO, gone), before.version)
    try:
        client = ops.client("Dee")
        booked = ops.admin.book_appointment(ops.account, **client, price="60.00", datetime=at(later))
        wait_until(lambda: len(ops.parked()) == 1, WAIT, "the refused event parked")
        (parked,) = ops.parked()
        assert parked.reason == "rejected"
        assert "invoice account you chose (not in Xero now)" in parked.detail
        document = ops.cli_json("explain", "--tenant", DEMO_TENANT_ID, "--appointment", str(booked["id"]))
        assert document["ledgers"]["xero"]["state"] == "parked"
        assert document["ledgers"]["xero"]["problem"] == parked.detail
        assert "a settings change resumes it" in document["ledgers"]["xero"]["next_step"]
        words = ops.cli("explain", "--tenant", DEMO_TENANT_ID, "--appointment", str(booked["id"]))[1]
        assert "Xero: parked" in words
        assert f"why: {parked.detail}" in words
        assert ops.invoices(client) == []
    finally:
        store.put(DEMO_TENANT_ID, XERO, parse_settings(XERO, original), version)  # the owner puts it right
    (invoice,) = ops.wait_for_invoices(client)
    wait_until(lambda: ops.parked() == [], WAIT, "the parking lot empty")
    ops.drained()
    assert [i.id for i in ops.invoices(client)] == [invoice.id]
    words = ops.cli("explain", "--tenant", DEMO_TENANT_ID, "--appointment", str(booked["id"]))[1]
    assert "resume changed: written" in words


# --------------------------------------------------------------------------------- the dead-letter queue


def test_05_a_poisoned_message_goes_to_the_dlq_is_explained_and_replayed_once_after_the_fix(ops: Ops) -> None:
    client = ops.client("Eve")
    acuity = ops.dev.acuity
    # Acuity answers 500 for this appointment only (the fix comes later): each try fails, until the DLQ takes it.
    booked = ops.admin.book_appointment_without_webhook(
        ops.account, **client, price="30.00", datetime=at(today() + timedelta(days=32))
    )
    acuity.plan_fault(str(ops.account), 500, count=1000, path_contains=f"/appointments/{booked['id']}")
    ops.admin.change_appointment(ops.account, booked["id"], notes="the webhook that poisons")
    wait_until(lambda: ops.dead_letters() == 1, 240, "the message in the dead-letter queue")
    document = ops.cli_json("explain", "--tenant", DEMO_TENANT_ID, "--appointment", str(booked["id"]))
    failed = document["ledgers"]["xero"]
    assert failed["state"] == "failed"
    assert "dead-letter queue" in failed["problem"]
    assert f"replay --ledger xero --dlq --tenant {DEMO_TENANT_ID}" in failed["next_step"]
    assert {event["decision"] for event in failed["events"]} == {"retry later"}
    status, words = ops.cli("explain", "--tenant", DEMO_TENANT_ID, "--appointment", str(booked["id"]))
    assert (status, "Xero: failed" in words) == (0, True)
    dry = ops.cli_json("replay", "--ledger", "xero", "--dlq", "--dry-run")
    assert dry == {"replayed": 0, "skipped": 0, "would_replay": 1}
    assert ops.dead_letters() == 1
    acuity.faults.clear()  # the fix
    assert ops.cli_json("replay", "--ledger", "xero", "--dlq", "--tenant", DEMO_TENANT_ID) == {
        "replayed": 1,
        "skipped": 0,
    }
    (invoice,) = ops.wait_for_invoices(client)
    ops.drained()
    assert ops.dead_letters() == 0
    assert [i.id for i in ops.invoices(client)] == [invoice.id]
    synced = ops.cli_json("explain", "--tenant", DEMO_TENANT_ID, "--appointment", str(booked["id"]))
    assert synced["ledgers"]["xero"]["state"] == "synced"
    assert synced["ledgers"]["xero"]["invoice"]["id"] == invoice.id


# --------------------------------------------------------------------------------- backfill


def test_06_a_past_months_backfill_creates_each_missing_invoice_once_and_leaves_synced_ones_alone(ops: Ops) -> None:
    first_of_this_month = today().replace(day=1)
    month = (first_of_this_month - timedelta(days=40)).replace(day=1)  # a month well before the connection
    last = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    booked_then = at(month, 9)  # when they were booked: before the ledger was connected
    clients = [ops.client(name) for name in ("Fay", "Gus", "Hal")]
    old_changed, synced_client = ops.client("Jay"), ops.client("Ida")
    missing = [
        ops.admin.book_appointment_without_webhook(
            ops.account,
            **client,
            price=price,
            amountPaid=paid,
            datetime=at(month + timedelta(days=3 + index)),
            datetimeCreated=booked_then,
        )
        for index, (client, price, paid) in enumerate(
            zip(clients, ("20.00", "25.00", "30.00"), ("0.00", "25.00", "0.00"), strict=True)
        )
    ]
    # An old booking changed since: its webhook comes, and (issue 9's rule, when it is there) it is not synced
    # because it was booked before the connection; either way the backfill brings it in once.
    old = ops.admin.book_appointment_without_webhook(
        ops.account, **old_changed, price="15.00", datetime=at(month + timedelta(days=8)), datetimeCreated=booked_then
    )
    ops.admin.change_appointment(ops.account, old["id"], notes="moved rooms")
    ops.admin.book_appointment(ops.account, **synced_client, price="35.00", datetime=at(month + timedelta(days=10)))
    (already,) = ops.wait_for_invoices(synced_client)
    ops.drained()
    old_synced = len(ops.invoices(old_changed))  # 0 under the rule, 1 before it
    window = ["--tenant", DEMO_TENANT_ID, "--from", month.isoformat(), "--to", last.isoformat()]
    to_queue = 4 - old_synced
    estimate = 3 + 4 + 3 + (3 if not old_synced else 0)  # Xero: a new client's booking, 3 calls; a paid one, 4
    dry = ops.cli_json("backfill", *window, "--dry-run")
    assert dry == {
        "appointments": 5,
        "orders": 0,
        "already_synced": 1 + old_synced,
        "queued": 0,
        "ledger_calls_estimate": estimate,
        "would_queue": to_queue,
    }
    status, words = ops.cli("backfill", *window, "--dry-run")
    assert status == 0
    assert all(f"appointment {appointment['id']}" in words for appointment in missing)
    assert "calls a day are spent" in words
    assert ops.invoices(clients[0]) == [], "a dry run queues nothing"
    assert ops.cli_json("backfill", *window) == {
        "appointments": 5,
        "orders": 0,
        "already_synced": 1 + old_synced,
        "queued": to_queue,
        "ledger_calls_estimate": estimate,
    }
    for client in (*clients, old_changed):
        ops.wait_for_invoices(client)
    ops.drained()
    assert [len(ops.invoices(client)) for client in (*clients, old_changed)] == [1, 1, 1, 1]
    assert ops.invoices(synced_client) == [already]
    again = ops.cli_json("backfill", *window, "--dry-run")
    assert (again["already_synced"], again["would_queue"]) == (5, 0)
    words = ops.cli("explain", "--tenant", DEMO_TENANT_ID, "--appointment", str(missing[0]["id"]))[1]
    assert "backfill changed: written" in words


# --------------------------------------------------------------------------------- explain, in all its states


def test_07_explain_says_what_happened_in_words_and_json(ops: Ops) -> None:
    later = today() + timedelta(days=33)
    synced, skipped = ops.client("Jo"), ops.client("Kit")
    done = ops.admin.book_appointment(ops.account, **synced, price="80.00", amountPaid="80.00", datetime=at(later))
    ops.wait_for_invoices(synced)
    # Canceled before any invoice was made: its webhook (the cancelation) is skipped by a named rule.
    never = ops.admin.book_appointment_without_webhook(ops.account, **skipped, price="50.00", datetime=at(later, 17))
    ops.admin.change_appointment(ops.account, never["id"], canceled=True)
    ops.drained()
    document = ops.cli_json("explain", "--tenant", DEMO_TENANT_ID, "--appointment", str(done["id"]))
    xero = document["ledgers"]["xero"]
    assert xero["state"] == "synced"
    assert (xero["problem"], xero["next_step"]) == (None, None)
    (invoice,) = ops.invoices(synced)
    assert xero["invoice"] == {"id": invoice.id, "number": invoice.number, "total": "80.00"}
    assert len(xero["payments"]) == 1
    assert xero["payments"][0]["amount"] == "80.00"
    assert xero["customer_id"]
    assert all(event["decision"] == "written" for event in xero["events"])
    words = ops.cli("explain", "--tenant", DEMO_TENANT_ID, "--appointment", str(done["id"]))[1]
    assert f"Appointment {done['id']} of Demo Studio" in words
    assert "Xero: synced" in words
    assert f"invoice {invoice.number}" in words
    skip = ops.cli_json("explain", "--tenant", DEMO_TENANT_ID, "--appointment", str(never["id"]))["ledgers"]["xero"]
    assert (skip["state"], skip["invoice"], skip["problem"]) == ("skipped", None, None)
    assert [event["rule"] for event in skip["events"]] == ["canceled_before_invoiced"]
    skip_words = ops.cli("explain", "--tenant", DEMO_TENANT_ID, "--appointment", str(never["id"]))[1]
    assert "Xero: skipped" in skip_words
    assert "canceled_before_invoiced" in skip_words
    status, unknown = ops.cli("explain", "--tenant", DEMO_TENANT_ID, "--appointment", "987654321")
    assert status == 1
    assert "no appointment 987654321 is known for Demo Studio" in unknown
    # The parked and the failed states are explained in test_04 and test_05, where they happen.


# --------------------------------------------------------------------------------- Xero's day limit


@pytest.fixture(scope="module")
def day_limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevStack, Path]]:
    """A stack whose fake Xero allows 24 calls a day: nine new clients need more than that (3 calls each and a few
    reads per container), while the ones left the next day need fewer."""
    dev, state_dir = start(tmp_path_factory, "operations-day-limit", xero_per_day=24)
    try:
        yield dev, state_dir
    finally:
        dev.stop()


def test_08_xeros_day_limit_reached_mid_stream_then_the_next_day_each_parked_event_is_synced_once(
    day_limited: tuple[DevStack, Path],
) -> None:
    dev, state_dir = day_limited
    assert dev.info is not None
    with AcuityAdmin(dev.info.acuity_url) as admin:
        ops = Ops(dev, state_dir, admin)
        later = today() + timedelta(days=30)
        clients = [ops.client(f"Day{index}") for index in range(9)]
        for index, client in enumerate(clients):
            admin.book_appointment(ops.account, **client, price="10.00", datetime=at(later, 9 + index))
        ops.drained()
        parked = ops.parked()
        synced_today = [client for client in clients if ops.invoice_ids_in_xero(client)]
        seen = f"parked {[(e.request.object_id, e.reason, e.detail) for e in parked]}, synced {len(synced_today)}"
        assert parked, f"the day's calls ran out: {seen}"
        assert synced_today, f"some were synced before they did (mid-stream): {seen}"
        assert {event.reason for event in parked} == {"rate_limited"}, seen
        assert len(parked) + len(synced_today) == len(clients), seen
        first = str(parked[0].request.object_id)
        explained = ops.cli_json("explain", "--tenant", DEMO_TENANT_ID, "--appointment", first)
        assert explained["ledgers"]["xero"]["state"] == "parked"
        assert "resumes by itself" in explained["ledgers"]["xero"]["next_step"]
        # The next day, for Xero and for EventBridge's schedule alike.
        runs = len(ops.maintenance.runs())
        dev.xero.clock.advance(86_400 + 60)
        dev.schedule_clock.advance(86_400 + 60)
        wait_until(
            lambda: all(ops.invoice_ids_in_xero(client) for client in clients), WAIT, "an invoice for every booking"
        )
        wait_until(lambda: ops.parked() == [], WAIT, "the parking lot empty")
        ops.drained()
        assert len(ops.maintenance.runs()) > runs
        assert [len(ops.invoice_ids_in_xero(client)) for client in clients] == [1] * len(clients)
        assert ops.dead_letters() == 0
