"""The maintenance function's parts against the template's table and queues (moto) and the fake Acuity and Xero over
HTTP: what the sync records it has seen, reconciliation, paging through Acuity's lists, the background's share of
the Acuity budget, resuming parked events, refreshing tokens before they lapse, backfills released gradually, and
one whole run with its cursors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import httpx
import pytest

from acuity_sync.acuity.client import AcuityClient
from acuity_sync.acuity.listing import AppointmentPages, OrdersSince
from acuity_sync.auth.oauth import OAuthProvider
from acuity_sync.auth.tokens import TokenKeeper
from acuity_sync.domain.budget import Budget
from acuity_sync.domain.errors import Rejected
from acuity_sync.domain.message import Origin, SyncRequest
from acuity_sync.domain.names import EventKind, LedgerName
from acuity_sync.ledgers.registry import default_settings
from acuity_sync.ledgers.xero import XERO_BUDGET
from acuity_sync.operations.backfill import BackfillReleaser, plan_backfill, schedule_backfill
from acuity_sync.operations.maintenance import Maintenance
from acuity_sync.operations.pacing import AcuityPacer
from acuity_sync.operations.reconcile import Reconciler, Window
from acuity_sync.operations.refresh import TokenRefresher
from acuity_sync.operations.resume import Resumer
from acuity_sync.queues import LedgerQueues
from acuity_sync.secret import Secret
from acuity_sync.store.audit import AuditTrail
from acuity_sync.store.backfills import BackfillEntry, BackfillStore
from acuity_sync.store.budgets import ACUITY_BUDGET_NAME, BudgetStore, Granted, ledger_budget_name
from acuity_sync.store.connections import ConnectionStatus, ConnectionStore
from acuity_sync.store.cursors import Cursors
from acuity_sync.store.kms import SecretBox
from acuity_sync.store.parking import ParkedEvent, ParkingLot, ResumeOn
from acuity_sync.store.records import RecordStore
from acuity_sync.store.seen import UNKNOWN, SeenStore
from acuity_sync.store.settings import SettingsStore
from acuity_sync.store.snapshots import SnapshotStore
from acuity_sync.store.sync_state import SyncStateReader
from acuity_sync.store.tenants import TenantProfile
from acuity_sync.sync.requeue import Requeuer
from acuity_sync.sync.service import Outcome, SyncService
from acuity_sync.wiring.config import TOKEN_STORE_AWS_CONFIG
from acuity_sync_toolkit.fakes.acuity import FakeAcuity
from acuity_sync_toolkit.fakes.xero import FakeXero
from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack
from acuity_sync_toolkit.stack.connections import connect, open_company
from tests.support.aws import add_tenant, tenant_store
from tests.support.bookings import booking
from tests.support.memory_ledger import MemoryLedger

TENANT = "6666666666666666bbbbbbbbbbbbbbbb"
OTHER = "7777777777777777cccccccccccccccc"
USER, KEY = 8001, "acuity-key-8001"
GENEROUS = Budget(rate_per_second=1000, burst=1000)
QUEUES = {
    LedgerName.QUICKBOOKS: "QuickBooksQueue",
    LedgerName.XERO: "XeroQueue",
    LedgerName.FRESHBOOKS: "FreshBooksQueue",
}
TODAY = date(2026, 12, 3)
NOW = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)


def always() -> bool:
    return True


@dataclass
class World:
    stack: ProvisionedStack
    acuity: FakeAcuity
    profile: TenantProfile
    ledger: MemoryLedger

    @property
    def dynamodb(self) -> Any:
        return boto3.client("dynamodb", region_name=self.stack.region)

    @property
    def table(self) -> str:
        return self.stack.table_name

    def seen(self) -> SeenStore:
        return SeenStore(self.dynamodb, self.table)

    def parking(self) -> ParkingLot:
        return ParkingLot(self.dynamodb, self.table)

    def queues(self) -> LedgerQueues:
        urls = {ledger: self.stack.queue_urls[logical_id] for ledger, logical_id in QUEUES.items()}
        return LedgerQueues(boto3.client("sqs", region_name=self.stack.region), urls)

    def service(self, ledger: LedgerName = LedgerName.QUICKBOOKS, **overrides: Any) -> SyncService:
        arguments: dict[str, Any] = {
            "ledger_name": ledger,
            "tenants": tenant_store(self.stack),
            "state": SyncStateReader(self.dynamodb, self.table),
            "records": RecordStore(self.dynamodb, self.table),
            "snapshots": SnapshotStore(self.dynamodb, self.table),
            "parking": self.parking(),
            "audit": AuditTrail(self.dynamodb, self.table),
            "budgets": BudgetStore(self.dynamodb, self.table),
            "acuity_budget": GENEROUS,
            "ledger_for": lambda _profile, _settings, _pace: self.ledger,
            "acuity_for": self.acuity_client,
            "seen": self.seen(),
        }
        return SyncService(**(arguments | overrides))

    def acuity_client(self, profile: TenantProfile | None = None) -> AcuityClient:
        profile = profile or self.profile
        return AcuityClient(profile.acuity_base_url, profile.acuity_user_id, profile.acuity_api_key)

    def book(self, **fields: Any) -> int:
        return int(self.acuity.book_appointment(USER, booking(**fields), deliver=False)["id"])

    def reconcile(self, *, dry_run: bool = False, ledgers: tuple[LedgerName, ...] | None = None) -> Any:
        with self.acuity_client() as acuity:
            return Reconciler(self.seen(), self.queues()).reconcile(
                self.profile, acuity, Window.around(TODAY, 7), pace=always, dry_run=dry_run, ledgers=ledgers
            )

    def queued(self, ledger: LedgerName) -> list[dict[str, Any]]:
        """The messages on the ledger's queue (received and deleted: each test reads what it queued)."""
        sqs = boto3.client("sqs", region_name=self.stack.region)
        url = self.stack.queue_urls[QUEUES[ledger]]
        bodies: list[dict[str, Any]] = []
        while True:
            answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
            messages = answer.get("Messages", [])
            if not messages:
                return bodies
            for message in messages:
                bodies.append({**json.loads(message["Body"]), "dedup": message["Attributes"]["MessageDeduplicationId"]})
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def world(stack: ProvisionedStack) -> Iterator[World]:
    with FakeAcuity(rate_limit_per_second=1000) as acuity:  # Acuity's pace is the budget's, tested on its own
        acuity.add_account(USER, KEY, timezone="America/New_York")
        profile = add_tenant(
            stack,
            TenantProfile(
                TENANT,
                "Studio",
                str(USER),
                Secret(KEY),
                acuity_base_url=acuity.url,
                currency="USD",
                timezone="America/New_York",
                ledgers=(LedgerName.QUICKBOOKS, LedgerName.XERO),
            ),
        )
        yield World(stack, acuity, profile, MemoryLedger())


def request(object_id: int, kind: EventKind = EventKind.APPOINTMENT) -> SyncRequest:
    return SyncRequest(TENANT, kind, object_id, "changed", datetime.now(UTC).isoformat(), f"webhook-{object_id}")


# --------------------------------------------------------------------------------- what the sync has seen


def test_a_finished_sync_records_what_it_saw_and_a_parked_one_does_not(world: World) -> None:
    synced, refused = world.book(), world.book(firstName="Ann")
    assert world.service().sync(request(synced)).outcome is Outcome.SYNCED
    world.ledger.refuse_with = Rejected("6000", "A business validation error has occurred")
    assert world.service().sync(request(refused)).outcome is Outcome.PARKED
    states = world.seen().states(
        TENANT, LedgerName.QUICKBOOKS, [(EventKind.APPOINTMENT, synced), (EventKind.APPOINTMENT, refused)]
    )
    assert states[(EventKind.APPOINTMENT, synced)].fingerprint is not None
    assert states[(EventKind.APPOINTMENT, synced)].has_documents
    assert states[(EventKind.APPOINTMENT, refused)].fingerprint is None
    assert states[(EventKind.APPOINTMENT, refused)].parked
    nothing = world.seen().states(TENANT, LedgerName.XERO, [(EventKind.APPOINTMENT, synced)])
    assert nothing[(EventKind.APPOINTMENT, synced)] == UNKNOWN


def test_an_event_queued_again_says_its_origin_in_the_audit_trail(world: World) -> None:
    appointment = world.book()
    world.service().sync(request(appointment).requeued(Origin.RECONCILE, "reconcile-1", datetime.now(UTC).isoformat()))
    trail = AuditTrail(world.dynamodb, world.table)
    events = {
        entry["event"] for entry in trail.entries(TENANT, LedgerName.QUICKBOOKS, EventKind.APPOINTMENT, appointment)
    }
    assert events == {"reconcile changed"}


# --------------------------------------------------------------------------------- reconciliation


def test_a_lost_webhook_is_found_missing_queued_once_per_ledger_then_left_alone(world: World) -> None:
    lost = world.book(datetime="2026-12-05T10:00:00-0500")
    world.book(datetime="2026-12-25T10:00:00-0500")  # outside the window: not read
    result = world.reconcile()
    assert (result.checked, result.queued, result.missing, result.different) == (1, 2, 2, 0)
    assert result.pages == 3  # active, canceled, orders
    for ledger in (LedgerName.QUICKBOOKS, LedgerName.XERO):
        (message,) = world.queued(ledger)
        assert (message["object_id"], message["origin"], message["action"]) == (lost, "reconcile", "changed")
        assert message["dedup"].startswith("reconcile-")
    assert world.reconcile().queued == 0, "its messages are on the queues: not queued again"
    world.service().sync(request(lost))  # QuickBooks syncs it; Xero's sync has not run yet
    later = Reconciler(world.seen(), world.queues(), clock=lambda: datetime.now(UTC) + timedelta(hours=2))
    with world.acuity_client() as acuity:
        again = later.reconcile(world.profile, acuity, Window.around(TODAY, 7), pace=always)
    assert (again.queued, again.missing) == (1, 1), "an hour on, still not synced in Xero: queued again"
    assert [message["object_id"] for message in world.queued(LedgerName.XERO)] == [lost]
    assert world.queued(LedgerName.QUICKBOOKS) == []


def test_a_change_whose_webhook_was_lost_is_found_different(world: World) -> None:
    appointment = world.book(datetime="2026-12-04T10:00:00-0500")
    world.service().sync(request(appointment))
    world.service(LedgerName.XERO, ledger_for=lambda *_: MemoryLedger(name=LedgerName.XERO)).sync(request(appointment))
    assert world.reconcile().queued == 0
    world.acuity.change_appointment(USER, appointment, {"price": "95.00"}, deliver=False)
    result = world.reconcile()
    assert (result.queued, result.different) == (2, 2)
    world.acuity.change_appointment(USER, appointment, {"canceled": True}, deliver=False)
    canceled = world.reconcile()
    assert (canceled.checked, canceled.different) == (1, 2), "the canceled list holds it now"


def test_parked_ones_are_left_to_their_condition_and_a_dry_run_queues_nothing(world: World) -> None:
    parked, lost = world.book(), world.book(firstName="Ann")
    world.ledger.refuse_with = Rejected("6000", "A business validation error has occurred")
    world.service().sync(request(parked))
    dry = world.reconcile(dry_run=True, ledgers=(LedgerName.QUICKBOOKS,))
    assert (dry.checked, dry.queued, dry.would_queue) == (2, 0, 1)
    assert world.queued(LedgerName.QUICKBOOKS) == []
    result = world.reconcile(ledgers=(LedgerName.QUICKBOOKS,))
    assert [message["object_id"] for message in world.queued(LedgerName.QUICKBOOKS)] == [lost]
    assert world.queued(LedgerName.XERO) == []
    assert result.queued == 1


def test_orders_are_reconciled_from_the_latest(world: World) -> None:
    order = world.acuity.complete_order(USER, {"total": "50.00", "firstName": "Lee"}, deliver=False)
    result = world.reconcile(ledgers=(LedgerName.QUICKBOOKS,))
    (message,) = world.queued(LedgerName.QUICKBOOKS)
    assert (message["kind"], message["object_id"], message["action"]) == ("order", order["id"], "order.completed")
    assert result.checked == 1


def test_an_unfinished_reconciliation_says_so(world: World) -> None:
    world.book()
    with world.acuity_client() as acuity:
        tokens = iter([True])
        result = Reconciler(world.seen(), world.queues()).reconcile(
            world.profile, acuity, Window.around(TODAY, 7), pace=lambda: next(tokens, False)
        )
    assert (result.pages, result.complete) == (1, False)


# --------------------------------------------------------------------------------- paging through Acuity


def test_a_window_is_paged_by_date_and_every_appointment_comes_once(world: World) -> None:
    wanted: set[int] = set()
    for day, count in ((1, 1), (2, 5), (3, 2), (6, 1)):  # five on one date: more than a page of two
        for hour in range(count):
            wanted.add(world.book(datetime=f"2026-12-0{day}T{9 + hour:02d}:00:00-0500"))
    with world.acuity_client() as acuity:
        pages = AppointmentPages(acuity, date(2026, 12, 1), date(2026, 12, 6), canceled=False, page_size=2)
        found = [appointment.id for page in pages for appointment in page]
    assert sorted(found) == sorted(wanted)  # each once
    assert pages.truncated_dates == []
    assert pages.pages >= 5


def test_orders_since_a_date_read_longer_lists_until_they_reach_it(world: World) -> None:
    ids = [
        world.acuity.complete_order(USER, {"total": "10.00", "time": f"2026-11-{day:02d} 10:00"})["id"]
        for day in range(1, 29)
    ]
    with world.acuity_client() as acuity:
        orders = OrdersSince(acuity, date(2026, 11, 20))
        lists = list(orders)
    assert [order.id for order in lists[-1]] == list(reversed(ids[19:]))
    assert orders.pages == 1  # 28 orders: one list of up to 100 reaches the date


# --------------------------------------------------------------------------------- the Acuity budget


def test_the_background_leaves_the_token_a_webhooks_sync_needs(world: World) -> None:
    budgets = BudgetStore(world.dynamodb, world.table, clock=lambda: 1000.0)  # a clock that does not move
    budget = Budget(rate_per_second=1.0, burst=2.0)
    slept: list[float] = []
    deadline = iter([True, True, True, False])
    pace = AcuityPacer(budgets, budget, keep_going=lambda: next(deadline), sleep=slept.append)
    assert pace() is True  # 2 -> 1
    assert pace() is False  # would leave none: waits while the run has time, then gives up
    assert slept == [1.0, 1.0]
    assert isinstance(budgets.take(ACUITY_BUDGET_NAME, budget), Granted)  # the webhook's sync still gets it
    assert pace.requests == 1


# --------------------------------------------------------------------------------- resuming parked events


def park(
    world: World,
    object_id: int,
    resume_on: ResumeOn,
    *,
    at: datetime,
    resume_at: datetime | None = None,
    tenant: str = TENANT,
    ledger: LedgerName = LedgerName.XERO,
    reason: str = "needs_reauth",
) -> ParkedEvent:
    event = ParkedEvent(
        SyncRequest(tenant, EventKind.APPOINTMENT, object_id, "changed", at.isoformat(), f"webhook-{object_id}"),
        ledger,
        reason,
        "words",
        resume_on,
        resume_at,
        at,
    )
    world.parking().park(event)
    return event


def resumer(world: World) -> Resumer:
    box = SecretBox(boto3.client("kms", region_name=world.stack.region), world.stack.kms_key_arn)
    return Resumer(
        world.parking(),
        Requeuer(world.parking(), world.queues()),
        ConnectionStore(world.dynamodb, world.table, box),
        SettingsStore(world.dynamodb, world.table),
    )


def test_events_whose_time_has_come_are_resumed_and_the_others_wait(world: World) -> None:
    park(
        world,
        1,
        ResumeOn.TIME,
        at=NOW - timedelta(hours=20),
        resume_at=NOW - timedelta(minutes=1),
        reason="rate_limited",
    )
    park(
        world, 2, ResumeOn.TIME, at=NOW - timedelta(hours=1), resume_at=NOW + timedelta(hours=3), reason="rate_limited"
    )
    result = resumer(world).resume_due(NOW, limit=10)
    assert (result.resumed, result.failed) == (1, 0)
    (message,) = world.queued(LedgerName.XERO)
    assert (message["object_id"], message["origin"]) == (1, "resume")
    assert [event.request.object_id for event in world.parking().for_ledger(TENANT, LedgerName.XERO)] == [2]


def test_a_reconnect_resumes_only_what_was_parked_before_it(world: World) -> None:
    xero = FakeXero().start()
    try:
        company = "3f1c2b9e-5d7a-4e61-9c08-0d5e6a7b8c91"
        open_company(xero, company)
        park(world, 1, ResumeOn.RECONNECT, at=datetime.now(UTC) - timedelta(minutes=5))
        assert resumer(world).resume_waiting(ResumeOn.RECONNECT, None, 10)[0].resumed == 0  # never connected
        connect(world.stack, xero, TENANT, company)
        park(world, 2, ResumeOn.RECONNECT, at=datetime.now(UTC) + timedelta(seconds=1))  # parked after it
        result, position = resumer(world).resume_waiting(ResumeOn.RECONNECT, None, 10)
        assert (result.resumed, result.checked, position) == (1, 2, None)
        assert [message["object_id"] for message in world.queued(LedgerName.XERO)] == [1]
    finally:
        xero.stop()


def test_a_settings_change_resumes_what_it_may_fix(world: World) -> None:
    park(world, 1, ResumeOn.SETTINGS_CHANGE, at=datetime.now(UTC) - timedelta(minutes=5), reason="rejected")
    assert resumer(world).resume_waiting(ResumeOn.SETTINGS_CHANGE, None, 10)[0].resumed == 0
    SettingsStore(world.dynamodb, world.table).put(TENANT, LedgerName.XERO, default_settings(LedgerName.XERO), 0)
    assert resumer(world).resume_waiting(ResumeOn.SETTINGS_CHANGE, None, 10)[0].resumed == 1
    assert [message["object_id"] for message in world.queued(LedgerName.XERO)] == [1]


def test_a_long_list_is_walked_a_part_at_a_time(world: World) -> None:
    for object_id in range(1, 6):
        park(world, object_id, ResumeOn.SETTINGS_CHANGE, at=NOW + timedelta(seconds=object_id), reason="rejected")
    part = resumer(world)
    positions = []
    checked = 0
    position: str | None = None
    for _ in range(3):
        result, position = part.resume_waiting(ResumeOn.SETTINGS_CHANGE, position, 2)
        checked += result.checked
        positions.append(position)
    assert checked == 5
    assert positions[-1] is None, "the end reached: the next run starts again"


# --------------------------------------------------------------------------------- refreshing tokens


def test_a_token_about_to_lapse_is_refreshed_under_the_keeper_and_a_revoked_one_marked(world: World) -> None:
    xero = FakeXero().start()
    try:
        company, other_company = "3f1c2b9e-5d7a-4e61-9c08-0d5e6a7b8c92", "3f1c2b9e-5d7a-4e61-9c08-0d5e6a7b8c93"
        add_tenant(world.stack, replace(world.profile, tenant_id=OTHER))
        for tenant, company_id in ((TENANT, company), (OTHER, other_company)):
            open_company(xero, company_id)
            connect(world.stack, xero, tenant, company_id)
        xero.authority.revoke_subject(other_company)  # the owner disconnected our app in Xero
        # The keeper's store is on the token store's clients, as the maintenance function's (wiring/tokens.py).
        region = world.stack.region
        kms = boto3.client("kms", region_name=region, config=TOKEN_STORE_AWS_CONFIG)
        connections = ConnectionStore(
            boto3.client("dynamodb", region_name=region, config=TOKEN_STORE_AWS_CONFIG),
            world.table,
            SecretBox(kms, world.stack.kms_key_arn),
        )
        before = connections.read(TENANT, LedgerName.XERO)
        assert before is not None
        provider = OAuthProvider.for_ledger(
            LedgerName.XERO, "local-client", Secret("local-secret"), token_url=f"{xero.url}/connect/token"
        )
        with httpx.Client() as http:
            keeper = TokenKeeper(connections, {LedgerName.XERO: provider}, http)
            refresher = TokenRefresher(connections, keeper, [LedgerName.XERO])
            assert refresher.refresh_due(datetime.now(UTC), 10, keep_going=always).refreshed == 0  # 60 days left
            result = refresher.refresh_due(datetime.now(UTC) + timedelta(days=55), 10, keep_going=always)
        assert (result.refreshed, result.needs_reauth, result.failed) == (1, 1, 0)
        after = connections.read(TENANT, LedgerName.XERO)
        assert after is not None
        assert after.version == before.version + 1
        assert after.refresh_expires_at is not None
        assert before.refresh_expires_at is not None
        assert after.refresh_expires_at > before.refresh_expires_at
        revoked = connections.read(OTHER, LedgerName.XERO)
        assert revoked is not None
        assert revoked.status is ConnectionStatus.NEEDS_REAUTH
        assert xero.authority.refreshes == 1
    finally:
        xero.stop()


# --------------------------------------------------------------------------------- backfill


def test_a_backfill_plan_leaves_synced_ones_alone_and_estimates_the_calls(world: World) -> None:
    synced = world.book(datetime="2026-11-03T10:00:00-0500")
    world.book(datetime="2026-11-04T10:00:00-0500", amountPaid="80.00")
    world.book(datetime="2026-11-05T10:00:00-0500")
    canceled = world.book(datetime="2026-11-06T10:00:00-0500")
    world.acuity.change_appointment(USER, canceled, {"canceled": True}, deliver=False)
    world.book(datetime="2026-12-05T10:00:00-0500")  # after the window
    world.acuity.complete_order(USER, {"total": "25.00", "time": "2026-11-10 12:00"}, deliver=False)
    world.service().sync(request(synced))
    with world.acuity_client() as acuity:
        plan = plan_backfill(
            world.profile,
            acuity,
            world.seen(),
            [LedgerName.QUICKBOOKS],
            date(2026, 11, 1),
            date(2026, 11, 30),
            pace=always,
        )
    assert (plan.appointments, plan.orders, plan.already_synced, len(plan.to_queue)) == (3, 1, 1, 3)
    assert plan.calls_estimate == 4 + 3 + 4  # paid booking, unpaid booking, paid order (QuickBooks: 4 / 3)
    store = BackfillStore(world.dynamodb, world.table)
    assert schedule_backfill(store, TENANT, plan) == 3
    assert store.waiting(TENANT, LedgerName.QUICKBOOKS) == 3
    assert world.queued(LedgerName.QUICKBOOKS) == [], "nothing is queued until the maintenance function releases it"


def test_backfills_are_released_a_few_per_tenant_in_turn_within_the_day_share(world: World) -> None:
    store = BackfillStore(world.dynamodb, world.table)
    budgets = BudgetStore(world.dynamodb, world.table)
    for tenant in (TENANT, OTHER):
        for object_id in range(1, 5):
            for ledger in (LedgerName.QUICKBOOKS, LedgerName.XERO):
                planned = SyncRequest(
                    tenant, EventKind.APPOINTMENT, object_id, "changed", NOW.isoformat(), "planned", Origin.BACKFILL
                )
                store.add(BackfillEntry(planned, ledger, 5 if ledger is LedgerName.XERO else 4))
    # OTHER's Xero has spent its share of today's 5,000 calls (2,500) but for 12: two more backfills, not three.
    taken = 2500 - 12
    spender = replace(XERO_BUDGET, rate_per_second=1e6)  # the same daily cap, no waiting between takes
    for tokens in [5] * (taken // 5) + [taken % 5]:
        budgets.take(ledger_budget_name(OTHER, LedgerName.XERO), spender, tokens=tokens)
    releaser = BackfillReleaser(store, world.queues(), budgets)
    first, position = releaser.release(None, per_group=3, total=100, keep_going=always)
    assert (first.released, first.groups, first.held_for_budget) == (3 + 3 + 3 + 2, 4, 1)
    assert position is None
    quickbooks = world.queued(LedgerName.QUICKBOOKS)
    assert sorted((m["tenant_id"], m["object_id"]) for m in quickbooks) == sorted(
        [(t, i) for t in (TENANT, OTHER) for i in (1, 2, 3)]
    )
    assert all(m["origin"] == "backfill" and m["dedup"].startswith("backfill-") for m in quickbooks)
    second, position = releaser.release(None, per_group=3, total=2, keep_going=always)
    # The groups in turn from the first: TENANT's QuickBooks has one left, TENANT's Xero gives the second; the
    # run's total is reached there, and the next run goes on after it.
    assert (second.released, position) == (2, f"{TENANT}#{LedgerName.XERO}")
    assert store.waiting(OTHER, LedgerName.XERO) == 2  # held for tomorrow


# --------------------------------------------------------------------------------- one run


def test_a_run_reconciles_tenants_in_turn_and_counts_events_parked_over_a_day(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import acuity_sync.operations.maintenance as maintenance_module

    monkeypatch.setattr(maintenance_module, "TENANTS_PER_RUN", 1)
    world.acuity.add_account(USER + 1, "other-key")
    add_tenant(
        world.stack,
        replace(world.profile, tenant_id=OTHER, acuity_user_id=str(USER + 1), acuity_api_key=Secret("other-key")),
    )
    world.book(datetime="2026-12-04T10:00:00-0500")
    park(world, 9, ResumeOn.RECONNECT, at=NOW - timedelta(days=2))
    box = SecretBox(boto3.client("kms", region_name=world.stack.region), world.stack.kms_key_arn)
    connections = ConnectionStore(world.dynamodb, world.table, box)
    maintenance = Maintenance(
        resumer=resumer(world),
        refresher=TokenRefresher(connections, TokenKeeper(connections, {}, httpx.Client()), []),
        releaser=BackfillReleaser(
            BackfillStore(world.dynamodb, world.table), world.queues(), BudgetStore(world.dynamodb, world.table)
        ),
        reconciler=Reconciler(world.seen(), world.queues()),
        parking=world.parking(),
        tenants=tenant_store(world.stack),
        cursors=Cursors(world.dynamodb, world.table),
        acuity_for=world.acuity_client,
        acuity_pace=always,
    )
    first = maintenance.run(NOW, always)
    second = maintenance.run(NOW, always)
    third = maintenance.run(NOW, always)
    assert [run.tenants_reconciled for run in (first, second, third)] == [1, 1, 1]
    # The tenants in turn, one a run: TENANT's booking found missing for its two ledgers, OTHER's Acuity has
    # nothing, then TENANT again, whose messages wait on the queues.
    assert [(run.checked, run.reconciled) for run in (first, second, third)] == [(1, 2), (0, 0), (1, 0)]
    assert first.acuity_pages == second.acuity_pages == 3
    assert first.parked_over_a_day == 1
    assert first.failed_parts == []
