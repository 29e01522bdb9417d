"""Token safety (auth/tokens.py) against moto in server mode, with the table and key from template.yaml, and a
token endpoint over HTTP: the fake QuickBooks's own, and for Xero's and FreshBooks' rules (and for holding an
answer back, which the fake QuickBooks cannot) tests/integration/test_oauth.py's TokenEndpoint.

The server mode matters: the crash and the race run in spawned processes, each with its own boto3 and httpx
clients, as Lambda containers would. Keep this module's top-level imports light: every spawned worker imports it.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import secrets
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, cast

import botocore.session
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from acuity_sync.auth.tokens import NotConnected, TokenKeeper
from acuity_sync.domain.errors import NeedsReauth, Transient
from acuity_sync.domain.grant import TokenGrant
from acuity_sync.domain.names import LedgerName
from acuity_sync.secret import Secret
from acuity_sync.store.connections import ConnectionStatus, ConnectionStore, token_context
from acuity_sync.store.kms import SecretBox
from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.httpserver import HttpServer
from tests.integration.test_oauth import CLIENT_ID, CLIENT_SECRET, Style, TokenEndpoint, authority_for, provider_for

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient

    from acuity_sync_toolkit.fakes.oauth_authority import TokenAuthority, TokenPair
    from acuity_sync_toolkit.fakes.quickbooks import FakeQuickBooks
    from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack

REGION = "us-east-1"
# The token store's clients as the sync functions build them (one attempt per call, wiring/config.py), with timeouts
# that a moto server shared by fifty processes on a busy machine keeps: 4 calls x 5 s = 20 s, which with a token
# request at the tests' 2 s timeout (8 s) still fits the tests' 30 s lease.
STORE_CONFIG = Config(connect_timeout=1, read_timeout=4, retries={"mode": "standard", "total_max_attempts": 1})
LEDGERS: dict[Style, LedgerName] = {
    "quickbooks": LedgerName.QUICKBOOKS,
    "xero": LedgerName.XERO,
    "freshbooks": LedgerName.FRESHBOOKS,
}
RACERS = 50


# ------------------------------------------------------------------------------------------------ the world


@dataclass(frozen=True, slots=True)
class Target:
    """Everything a process needs to build its own clients (picklable, for spawned workers)."""

    endpoint_url: str
    table_name: str
    key_arn: str
    token_base_url: str
    style: Style
    tenant_id: str
    lease_seconds: float = 30.0
    wait_seconds: float = 30.0

    @property
    def ledger(self) -> LedgerName:
        return LEDGERS[self.style]


def aws_clients(endpoint_url: str) -> tuple[DynamoDBClient, KMSClient]:
    # botocore's clients are what boto3 hands out; going to botocore directly spares every spawned worker boto3's
    # import (s3transfer and all), a quarter of its start-up.
    session = botocore.session.get_session()
    options: dict[str, Any] = {
        "region_name": REGION,
        "endpoint_url": endpoint_url,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
        "config": STORE_CONFIG,
    }
    return (
        cast("DynamoDBClient", session.create_client("dynamodb", **options)),
        cast("KMSClient", session.create_client("kms", **options)),
    )


def build_keeper(target: Target, http: httpx.Client, *, warm: bool = False) -> TokenKeeper:
    """A process's keeper over its own clients; `warm` makes one call on each first (connections, botocore's lazily
    loaded parts), so that a race measures the race and not the first call."""
    dynamodb, kms = aws_clients(target.endpoint_url)
    if warm:
        dynamodb.get_item(TableName=target.table_name, Key={"pk": {"S": "WARM"}, "sk": {"S": "UP"}})
        kms.describe_key(KeyId=target.key_arn)
    store = ConnectionStore(dynamodb, target.table_name, SecretBox(kms, target.key_arn))
    return TokenKeeper(
        store,
        {target.ledger: provider_for(target.style, target.token_base_url)},
        http,
        lease=timedelta(seconds=target.lease_seconds),
        wait=timedelta(seconds=target.wait_seconds),
    )


class OpsCounter:
    """The AWS operations a client makes, as `service.Operation`, in order."""

    def __init__(self, *clients: Any) -> None:
        self.ops: list[str] = []
        for client in clients:
            client.meta.events.register("before-call", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.ops.append(f"{model.service_model.service_name}.{model.name}")

    def take(self) -> list[str]:
        ops, self.ops = self.ops, []
        return ops


@dataclass
class World:
    stack: ProvisionedStack
    dynamodb: DynamoDBClient
    kms: KMSClient
    store: ConnectionStore
    box: SecretBox
    endpoint: TokenEndpoint | QuickBooksEndpoint
    token_base_url: str
    style: Style
    tenant_id: str = field(default_factory=lambda: secrets.token_hex(16))

    @property
    def ledger(self) -> LedgerName:
        return LEDGERS[self.style]

    def target(self, **overrides: Any) -> Target:
        return Target(
            endpoint_url=str(self.stack.endpoint_url),
            table_name=self.stack.table_name,
            key_arn=self.stack.kms_key_arn,
            token_base_url=self.token_base_url,
            style=self.style,
            tenant_id=self.tenant_id,
            **overrides,
        )

    def connect(self, *, access_left: timedelta) -> TokenGrant:
        """A consent at the authority, stored as the connect flow will; the access token has `access_left`."""
        pair = self.endpoint.issue(self.tenant_id)
        now = datetime.now(UTC)
        grant = TokenGrant(
            access_token=Secret(pair.access_token),
            refresh_token=Secret(pair.refresh_token),
            access_expires_at=now + access_left,
            refresh_expires_at=now + timedelta(days=100) if self.style == "quickbooks" else None,
        )
        self.store.connect(self.tenant_id, self.ledger, f"realm-{self.tenant_id[:8]}", grant)
        return grant

    def item(self) -> dict[str, Any]:
        key = {"pk": {"S": f"TENANT#{self.tenant_id}"}, "sk": {"S": f"CONN#{self.ledger}"}}
        return dict(self.dynamodb.get_item(TableName=self.stack.table_name, Key=key, ConsistentRead=True)["Item"])

    def keeper(self, http: httpx.Client, **options: Any) -> TokenKeeper:
        return TokenKeeper(self.store, {self.ledger: provider_for(self.style, self.token_base_url)}, http, **options)


# The races below test our code, not moto's: its DynamoDB made atomic per operation, as the real one (conftest.py).
pytestmark = pytest.mark.usefixtures("atomic_moto")


@pytest.fixture(scope="module")
def stack(server_stack: ProvisionedStack) -> ProvisionedStack:
    """Spawned processes reach the table and key over HTTP: the stack on this module's moto server (conftest.py)."""
    return server_stack


class QuickBooksEndpoint:
    """The fake QuickBooks's own token endpoint (Intuit's rules), seen as the tests see a TokenEndpoint."""

    def __init__(self, qbo: FakeQuickBooks) -> None:
        self.qbo = qbo

    @property
    def authority(self) -> TokenAuthority:
        return self.qbo.authority

    @property
    def requests(self) -> int:
        """Token requests answered (it can inject no token-endpoint faults, so each is one or the other)."""
        return self.authority.refreshes + self.authority.invalid_grants

    def issue(self, subject: str) -> TokenPair:
        if not self.qbo.has_company(subject):
            self.qbo.add_company(subject)
        return self.qbo.issue_tokens(subject)


@pytest.fixture
def make_world(stack: ProvisionedStack) -> Iterator[Callable[..., World]]:
    """make_world(style, faults=False): a fresh tenant and a token endpoint with `style`'s rules. QuickBooks is the
    fake QuickBooks itself unless the test needs faults only TokenEndpoint injects (holding an answer back)."""
    from acuity_sync_toolkit.fakes.quickbooks import FakeQuickBooks

    with contextlib.ExitStack() as servers:

        def make(style: Style, *, faults: bool = False) -> World:
            dynamodb, kms = aws_clients(str(stack.endpoint_url))
            box = SecretBox(kms, stack.kms_key_arn)
            endpoint: TokenEndpoint | QuickBooksEndpoint
            if style == "quickbooks" and not faults:
                qbo = servers.enter_context(FakeQuickBooks(client_id=CLIENT_ID, client_secret=CLIENT_SECRET))
                endpoint, url = QuickBooksEndpoint(qbo), qbo.url
            else:
                endpoint = TokenEndpoint(authority_for(style, FakeClock()), style)
                url = servers.enter_context(HttpServer(endpoint)).url
            return World(
                stack=stack,
                dynamodb=dynamodb,
                kms=kms,
                store=ConnectionStore(dynamodb, stack.table_name, box),
                box=box,
                endpoint=endpoint,
                token_base_url=url,
                style=style,
            )

        yield make


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    """A fresh tenant, and the fake QuickBooks."""
    return make_world("quickbooks")


@pytest.fixture(params=["quickbooks", "xero", "freshbooks"])
def any_world(make_world: Callable[..., World], request: pytest.FixtureRequest) -> World:
    return make_world(request.param)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


def emf_documents(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if '"_aws"' in line]


def reauth_metrics(output: str) -> list[dict[str, Any]]:
    return [
        document
        for document in emf_documents(output)
        for metric in document["_aws"]["CloudWatchMetrics"]
        if any(entry["Name"] == "ConnectionsNeedingReauth" for entry in metric["Metrics"])
    ]


# ------------------------------------------------------------------------------------------------ at rest


def test_tokens_are_sealed_at_rest(world: World) -> None:
    grant = world.connect(access_left=timedelta(hours=1))
    item = world.item()

    raw = repr(item).encode() + b"".join(value["B"] for value in item.values() if "B" in value)
    for token in (grant.access_token.reveal(), grant.refresh_token.reveal()):
        assert token.encode() not in raw
    assert set(item["access_token"]) == {"B"}
    assert set(item["refresh_token"]) == {"B"}
    # Bound to tenant, ledger and field: a ciphertext moved anywhere else does not open.
    right = token_context(world.tenant_id, world.ledger, "oauth_access_token")
    assert world.box.open(item["access_token"]["B"], right) == grant.access_token
    for wrong in (
        token_context("another-tenant-0000", world.ledger, "oauth_access_token"),
        token_context(world.tenant_id, LedgerName.XERO, "oauth_access_token"),
        token_context(world.tenant_id, world.ledger, "oauth_refresh_token"),
    ):
        with pytest.raises(ClientError, match="InvalidCiphertext"):
            world.box.open(item["access_token"]["B"], wrong)

    connection = world.store.get(world.tenant_id, world.ledger)
    assert connection is not None
    assert (connection.access_token, connection.refresh_token) == (grant.access_token, grant.refresh_token)
    assert (connection.status, connection.version) == (ConnectionStatus.CONNECTED, 1)
    assert grant.refresh_token.reveal() not in repr(connection)
    assert item["gsi1pk"] == {"S": "REFRESH#quickbooks"}  # the maintenance function's list of refresh expiries


# ------------------------------------------------------------------------------------------------ fresh and refresh


def test_a_fresh_token_is_used_as_stored(world: World, http: httpx.Client) -> None:
    grant = world.connect(access_left=timedelta(hours=1))
    keeper = world.keeper(http)
    ops = OpsCounter(world.dynamodb, world.kms)

    assert keeper.access_token(world.tenant_id, world.ledger) == grant.access_token

    assert ops.take() == ["dynamodb.GetItem", "kms.Decrypt"]
    assert world.endpoint.requests == 0
    credentials = keeper.credentials(world.tenant_id, world.ledger)
    assert credentials.company_id == f"realm-{world.tenant_id[:8]}"


def test_an_expiring_token_is_refreshed_once_and_stored_before_it_is_used(any_world: World, http: httpx.Client) -> None:
    world = any_world
    grant = world.connect(access_left=timedelta(minutes=4))  # inside the 5-minute margin
    keeper = world.keeper(http)
    ops = OpsCounter(world.dynamodb, world.kms)

    token = keeper.access_token(world.tenant_id, world.ledger)

    assert token != grant.access_token
    assert world.endpoint.authority.check_access(token.reveal()) == world.tenant_id
    assert world.endpoint.authority.refreshes == 1
    # Read, lease, open the refresh token, (token endpoint), seal both, store-and-release: then return.
    assert ops.take() == [
        "dynamodb.GetItem",
        "dynamodb.UpdateItem",
        "kms.Decrypt",
        "kms.Encrypt",
        "kms.Encrypt",
        "dynamodb.UpdateItem",
    ]
    stored = world.store.get(world.tenant_id, world.ledger)
    assert stored is not None
    assert stored.access_token == token
    assert stored.refresh_token != grant.refresh_token
    assert stored.version == 2
    item = world.item()
    assert "lease_owner" not in item
    assert "lease_until" not in item
    lifetime = {"quickbooks": 3600, "xero": 1800, "freshbooks": 12 * 3600}[world.style]
    assert abs((stored.access_expires_at - datetime.now(UTC)).total_seconds() - lifetime) < 30

    # The next caller finds it fresh.
    ops.take()
    assert keeper.access_token(world.tenant_id, world.ledger) == token
    assert ops.take() == ["dynamodb.GetItem", "kms.Decrypt"]
    assert world.endpoint.authority.refreshes == 1
    assert world.endpoint.authority.invalid_grants == 0


def test_a_token_the_ledger_refused_is_replaced_once(world: World, http: httpx.Client) -> None:
    grant = world.connect(access_left=timedelta(hours=1))
    keeper = world.keeper(http)

    # Two workers used the stored token and both got a 401.
    first = keeper.access_token(world.tenant_id, world.ledger, rejected=grant.access_token)
    second = keeper.access_token(world.tenant_id, world.ledger, rejected=grant.access_token)

    assert first == second != grant.access_token
    assert world.endpoint.authority.refreshes == 1
    # force_refresh without a token: refreshes what is stored, once.
    third = keeper.access_token(world.tenant_id, world.ledger, force_refresh=True)
    assert third not in (first, grant.access_token)
    assert world.endpoint.authority.refreshes == 2


def test_no_connection_is_not_connected(world: World, http: httpx.Client) -> None:
    with pytest.raises(NotConnected, match="not connected"):
        world.keeper(http).access_token(world.tenant_id, world.ledger)
    assert world.endpoint.requests == 0


# ------------------------------------------------------------------------------------------------ invalid_grant


class BeforeFirstRequest(httpx.BaseTransport):
    """Runs `hook` once, just before the first request goes out: a peer acting while this process is between
    taking the lease and reaching the token endpoint."""

    def __init__(self, hook: Callable[[], None]) -> None:
        self._hook: Callable[[], None] | None = hook
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        hook, self._hook = self._hook, None
        if hook is not None:
            hook()
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


@pytest.mark.parametrize(
    ("style", "refreshes", "invalid_grants"),
    [
        ("freshbooks", 1, 1),  # single-use, no grace: our late request is refused; the re-read shows the peer's
        ("quickbooks", 2, 0),  # the old token still works (24 h): our answer loses the version check instead
    ],
)
def test_a_refusal_after_a_peer_rotated_the_token_uses_the_peers_tokens(
    make_world: Callable[..., World],
    http: httpx.Client,
    capfd: pytest.CaptureFixture[str],
    style: Style,
    refreshes: int,
    invalid_grants: int,
) -> None:
    world = make_world(style)
    world.connect(access_left=timedelta(minutes=1))
    peer_tokens: list[Secret] = []

    def peer_takes_over() -> None:
        # Our lease has lapsed by the peer's clock: it takes over and rotates the token first.
        peer = world.keeper(http, clock=lambda: time.time() + 3600)
        peer_tokens.append(peer.access_token(world.tenant_id, world.ledger))

    with httpx.Client(transport=BeforeFirstRequest(peer_takes_over)) as slow_http:
        token = world.keeper(slow_http).access_token(world.tenant_id, world.ledger)

    assert [token] == peer_tokens
    assert world.endpoint.authority.check_access(token.reveal()) is not None
    assert world.endpoint.authority.refreshes == refreshes
    assert world.endpoint.authority.invalid_grants == invalid_grants
    stored = world.store.get(world.tenant_id, world.ledger)
    assert stored is not None
    assert (stored.status, stored.version, stored.access_token) == (ConnectionStatus.CONNECTED, 2, token)
    assert world.tenant_id not in {entry.tenant_id for entry in world.store.needing_reauth(world.ledger)}
    assert reauth_metrics(capfd.readouterr().out) == []


def test_a_truly_refused_token_needs_reauth(
    world: World, http: httpx.Client, capfd: pytest.CaptureFixture[str]
) -> None:
    world.connect(access_left=timedelta(minutes=1))
    world.endpoint.authority.revoke_subject(world.tenant_id)  # the owner disconnected our app
    keeper = world.keeper(http)
    capfd.readouterr()

    with pytest.raises(NeedsReauth, match="QuickBooks refused to renew the connection"):
        keeper.access_token(world.tenant_id, world.ledger)

    item = world.item()
    assert item["status"] == {"S": "needs_reauth"}
    assert "invalid_grant" in item["reauth_reason"]["S"]
    assert item["gsi1pk"] == {"S": "REAUTH#quickbooks"}
    assert item["gsi1sk"]["S"].endswith(f"#{world.tenant_id}")
    assert "lease_owner" not in item
    assert world.tenant_id in {entry.tenant_id for entry in world.store.needing_reauth(LedgerName.QUICKBOOKS)}
    (metric,) = reauth_metrics(capfd.readouterr().out)
    assert metric["ledger"] == "quickbooks"
    assert metric["ConnectionsNeedingReauth"] == [1.0]
    assert metric["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "AcuitySync"
    assert ["ledger"] in metric["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
    assert world.endpoint.authority.invalid_grants == 1

    # Every later call parks at once: no second request, no second count.
    requests = world.endpoint.requests
    with pytest.raises(NeedsReauth, match="needs to be reconnected"):
        keeper.access_token(world.tenant_id, world.ledger)
    assert world.endpoint.requests == requests
    assert reauth_metrics(capfd.readouterr().out) == []

    # Reconnecting (the connect flow) ends it.
    fresh = world.connect(access_left=timedelta(hours=1))
    assert keeper.access_token(world.tenant_id, world.ledger) == fresh.access_token
    assert world.item()["gsi1pk"] == {"S": "REFRESH#quickbooks"}
    assert world.tenant_id not in {entry.tenant_id for entry in world.store.needing_reauth(LedgerName.QUICKBOOKS)}


# ------------------------------------------------------------------------------------------------ leases


class SteppedClock:
    """Time that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = time.time()
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


def test_a_dead_lease_holders_lease_lapses_and_another_takes_over(world: World, http: httpx.Client) -> None:
    world.connect(access_left=timedelta(minutes=1))
    record = world.store.read(world.tenant_id, world.ledger)
    assert record is not None
    now = datetime.now(UTC)
    taken = world.store.take_lease(record, "a-holder-that-died", now + timedelta(seconds=30), now)
    assert taken.ok

    # While the lease lives, a waiter gives up after its wait: Transient, the message is retried later.
    impatient = SteppedClock()
    keeper = world.keeper(http, clock=impatient, sleep=impatient.sleep, wait=timedelta(seconds=10))
    with pytest.raises(Transient, match="being renewed by another worker"):
        keeper.access_token(world.tenant_id, world.ledger)
    assert 10 <= impatient.slept < 12
    assert world.endpoint.requests == 0

    # A patient one waits the lease out, then refreshes with the refresh token still stored.
    patient = SteppedClock()
    keeper = world.keeper(http, clock=patient, sleep=patient.sleep, wait=timedelta(seconds=60))
    token = keeper.access_token(world.tenant_id, world.ledger)
    assert 29 <= patient.slept < 32
    assert world.endpoint.authority.check_access(token.reveal()) is not None
    assert world.endpoint.authority.refreshes == 1
    assert "lease_owner" not in world.item()


def test_a_lease_must_outlast_a_token_request(world: World, http: httpx.Client) -> None:
    with pytest.raises(ValueError, match="must outlast"):
        world.keeper(http, lease=timedelta(seconds=5))  # the provider's 2 s timeout allows 8 s per request


def test_a_lease_must_outlast_the_worst_store_of_the_answer_too(world: World, http: httpx.Client) -> None:
    # The tests' store clients: 4 calls of at most 5 s; with the 8 s request that is 28 s.
    assert world.store.worst_refresh_seconds == 20.0
    with pytest.raises(ValueError, match=r"store's part of it \(20 s\)"):
        world.keeper(http, lease=timedelta(seconds=25))
    world.keeper(http, lease=timedelta(seconds=30))
    # Clients with botocore's defaults (60 s timeouts, retried) could take many minutes to store: refused.
    slow = ConnectionStore(
        cast("DynamoDBClient", botocore.session.get_session().create_client("dynamodb", region_name=REGION)),
        world.stack.table_name,
        world.box,
    )
    with pytest.raises(ValueError, match="store's part of it"):
        TokenKeeper(slow, {world.ledger: provider_for(world.style, world.token_base_url)}, http)


def test_no_refresh_is_started_without_the_time_to_store_it(world: World, http: httpx.Client) -> None:
    grant = world.connect(access_left=timedelta(minutes=1))
    # Enough for the token request (8 s), not for the store's part around it (20 s more).
    keeper = world.keeper(http, time_left=lambda: 20.0)
    with pytest.raises(Transient, match="not enough time left"):
        keeper.access_token(world.tenant_id, world.ledger)
    assert world.endpoint.requests == 0
    stored = world.store.get(world.tenant_id, world.ledger)
    assert stored is not None
    assert (stored.access_token, stored.version) == (grant.access_token, 1)
    # With the time for both (and the reserve), it refreshes.
    token = world.keeper(http, time_left=lambda: 31.0).access_token(world.tenant_id, world.ledger)
    assert world.endpoint.authority.check_access(token.reveal()) == world.tenant_id


def _doomed_worker(target: Target) -> None:
    """Refreshes; the test kills it after the endpoint has answered and before the answer arrives."""
    with httpx.Client() as http:
        build_keeper(target, http).access_token(target.tenant_id, target.ledger)


@pytest.mark.parametrize(
    ("style", "recovers"),
    [
        ("quickbooks", True),  # the old refresh token stays valid for 24 h
        ("xero", True),  # single-use with a 30-minute grace: the retry is served
        ("freshbooks", False),  # single-use, no grace: the pair the dead process got is gone -> needs_reauth
    ],
)
def test_a_holder_killed_between_the_answer_and_the_store(
    make_world: Callable[..., World], http: httpx.Client, style: Style, recovers: bool
) -> None:
    world = make_world(style, faults=True)
    endpoint = world.endpoint
    assert isinstance(endpoint, TokenEndpoint)
    world.connect(access_left=timedelta(minutes=1))
    endpoint.hold()
    process = multiprocessing.get_context("spawn").Process(target=_doomed_worker, args=(world.target(),), daemon=True)
    process.start()
    try:
        assert endpoint.answered.wait(timeout=60), "the doomed worker never reached the token endpoint"
        assert process.pid is not None
        os.kill(process.pid, signal.SIGKILL)
        process.join(timeout=10)
        assert process.exitcode == -signal.SIGKILL
    finally:
        endpoint.release()
        if process.is_alive():
            process.kill()
    item = world.item()
    assert item["version"] == {"N": "1"}  # the answer was never stored
    assert "lease_owner" in item  # and the lease was never released

    # Later (the lease has lapsed), another process needs a token.
    successor = world.keeper(http, clock=lambda: time.time() + 60)
    if recovers:
        token = successor.access_token(world.tenant_id, world.ledger)
        assert world.endpoint.authority.check_access(token.reveal()) is not None
        assert world.endpoint.authority.invalid_grants == 0
        assert world.item()["version"] == {"N": "2"}
        assert world.endpoint.authority.refreshes == 2
    else:
        with pytest.raises(NeedsReauth):
            successor.access_token(world.tenant_id, world.ledger)
        assert world.endpoint.authority.invalid_grants == 1
        assert world.endpoint.authority.refreshes == 1
        assert world.item()["status"] == {"S": "needs_reauth"}


# The points of a refresh where a holder is killed (SIGKILL: nothing runs after), by the AWS call it stalls at.
KillPoint = Literal["leased", "answered", "stored"]


def _stall_at(dynamodb: Any, point: KillPoint, stalled: Any) -> None:
    """Stall this process forever at `point`, after telling the parent (which then kills it):
    leased: the lease is taken, the token endpoint not yet asked; answered: the endpoint has answered and the
    tokens are sealed, their UpdateItem not sent; stored: the UpdateItem has stored them, nothing returned yet."""
    last: dict[str, str] = {}

    def params(params: dict[str, Any], **_: Any) -> None:
        last["update"] = str(params.get("UpdateExpression", ""))
        if point == "answered" and "refresh_token = :refresh" in last["update"]:
            stalled.set()
            time.sleep(3600)

    def after(**_: Any) -> None:
        update = last.get("update", "")
        if (point == "leased" and update.startswith("SET lease_owner")) or (
            point == "stored" and "refresh_token = :refresh" in update
        ):
            stalled.set()
            time.sleep(3600)

    dynamodb.meta.events.register("provide-client-params.dynamodb.UpdateItem", params)
    dynamodb.meta.events.register("after-call.dynamodb.UpdateItem", after)


def _stalled_worker(target: Target, point: KillPoint, stalled: Any) -> None:
    dynamodb, kms = aws_clients(target.endpoint_url)
    _stall_at(dynamodb, point, stalled)
    store = ConnectionStore(dynamodb, target.table_name, SecretBox(kms, target.key_arn))
    with httpx.Client() as http:
        provider = provider_for(target.style, target.token_base_url)
        TokenKeeper(store, {target.ledger: provider}, http).access_token(target.tenant_id, target.ledger)


@pytest.mark.parametrize(
    ("point", "style", "outcome"),
    [
        # Killed holding the lease before asking: the refresh token was never used; anyone recovers.
        ("leased", "quickbooks", "refreshes"),
        ("leased", "xero", "refreshes"),
        ("leased", "freshbooks", "refreshes"),
        # Killed with the answer in hand, before the store: as test_a_holder_killed_between_the_answer_and_the_store.
        ("answered", "quickbooks", "refreshes"),
        ("answered", "xero", "refreshes"),
        ("answered", "freshbooks", "needs_reauth"),
        # Killed after the store: the next process finds the fresh tokens and refreshes nothing.
        ("stored", "quickbooks", "uses_stored"),
        ("stored", "xero", "uses_stored"),
        ("stored", "freshbooks", "uses_stored"),
    ],
)
def test_a_holder_killed_at_each_point_of_a_refresh(
    make_world: Callable[..., World], http: httpx.Client, point: KillPoint, style: Style, outcome: str
) -> None:
    world = make_world(style)
    world.connect(access_left=timedelta(minutes=1))
    context = multiprocessing.get_context("spawn")
    stalled = context.Event()
    process = context.Process(target=_stalled_worker, args=(world.target(), point, stalled), daemon=True)
    process.start()
    try:
        assert stalled.wait(timeout=120), f"the holder never reached the point {point!r}"
        assert process.pid is not None
        os.kill(process.pid, signal.SIGKILL)
        process.join(timeout=10)
        assert process.exitcode == -signal.SIGKILL
    finally:
        if process.is_alive():
            process.kill()
    item = world.item()
    asked = {"leased": 0, "answered": 1, "stored": 1}[point]
    assert world.endpoint.authority.refreshes == asked
    if point == "stored":
        assert (item["version"], "lease_owner" in item) == ({"N": "2"}, False)
    else:
        assert (item["version"], "lease_owner" in item) == ({"N": "1"}, True)  # the lease dies with its holder

    # Later (the 30 s lease has lapsed), another process needs a token.
    successor = world.keeper(http, clock=lambda: time.time() + 60)
    if outcome == "needs_reauth":
        with pytest.raises(NeedsReauth):
            successor.access_token(world.tenant_id, world.ledger)
        assert world.item()["status"] == {"S": "needs_reauth"}
        return
    token = successor.access_token(world.tenant_id, world.ledger)
    assert world.endpoint.authority.check_access(token.reveal()) == world.tenant_id
    assert world.endpoint.authority.invalid_grants == 0
    assert world.endpoint.authority.refreshes == asked + (outcome == "refreshes")
    assert world.item()["version"] == {"N": "3" if point == "stored" and outcome == "refreshes" else "2"}


@pytest.mark.parametrize(
    ("style", "peer_refused"),
    [
        ("quickbooks", False),  # the old token still works for the peer: its tokens are stored first and win
        ("xero", False),  # within Xero's 30-minute grace, likewise
        ("freshbooks", True),  # single-use: the peer is refused and marks needs_reauth; the late store wins
    ],
)
def test_a_late_store_wins_over_a_needs_reauth_a_peer_wrote_past_the_lapsed_lease(
    make_world: Callable[..., World], http: httpx.Client, style: Style, peer_refused: bool
) -> None:
    world = make_world(style)
    world.connect(access_left=timedelta(minutes=1))
    peer_saw: list[str] = []
    restored: list[tuple[str, LedgerName]] = []

    def peer_takes_over(params: dict[str, Any], **_: Any) -> None:
        # Our holder has its answer and is about to store it, but its lease has lapsed by the peer's clock.
        if "refresh_token = :refresh" not in str(params.get("UpdateExpression", "")) or peer_saw:
            return
        peer = world.keeper(http, clock=lambda: time.time() + 3600)
        try:
            peer_saw.append(peer.access_token(world.tenant_id, world.ledger).reveal())
        except NeedsReauth:
            peer_saw.append("needs_reauth")

    dynamodb, kms = aws_clients(str(world.stack.endpoint_url))
    dynamodb.meta.events.register("provide-client-params.dynamodb.UpdateItem", peer_takes_over)
    store = ConnectionStore(dynamodb, world.stack.table_name, SecretBox(kms, world.stack.kms_key_arn))
    provider = provider_for(world.style, world.token_base_url)
    holder = TokenKeeper(store, {world.ledger: provider}, http, on_restored=lambda *key: restored.append(key))

    token = holder.access_token(world.tenant_id, world.ledger)

    assert world.endpoint.authority.check_access(token.reveal()) == world.tenant_id
    item = world.item()
    assert item["status"] == {"S": "connected"}
    assert world.tenant_id not in {entry.tenant_id for entry in world.store.needing_reauth(world.ledger)}
    stored = world.store.get(world.tenant_id, world.ledger)
    assert stored is not None
    assert stored.access_token == token
    if peer_refused:
        assert peer_saw == ["needs_reauth"]
        assert world.endpoint.authority.invalid_grants == 1
        assert item["version"] == {"N": "3"}  # connected 1, needs_reauth 2, restored 3
        assert "refused_version" not in item
        assert "reauth_reason" not in item
        assert "gsi1pk" not in item  # FreshBooks' refresh tokens never lapse: in no list
        assert restored == [(world.tenant_id, world.ledger)]
    else:
        assert peer_saw == [token.reveal()]  # the holder's store lost to the peer's and it uses the peer's tokens
        assert world.endpoint.authority.invalid_grants == 0
        assert item["version"] == {"N": "2"}
        assert restored == []


# ------------------------------------------------------------------------------------------------ the race


def _race_worker(target: Target, ready: Any, go: Any, results: Any) -> None:
    """One Lambda container: its own boto3 and httpx clients; asks for a token when the parent says go."""
    try:
        with httpx.Client() as http:
            keeper = build_keeper(target, http, warm=True)
            ready.put(os.getpid())
            if not go.wait(timeout=120):
                results.put(("error", "never told to go", 0.0))
                return
            started = time.perf_counter()
            token = keeper.access_token(target.tenant_id, target.ledger)
            results.put(("ok", token.reveal(), time.perf_counter() - started))
    except Exception as error:  # reported to the parent, which fails the test with it
        results.put(("error", f"{type(error).__name__}: {error}", 0.0))


def test_fifty_processes_racing_an_expired_token_refresh_it_once(world: World) -> None:
    old = world.connect(access_left=timedelta(seconds=-60))  # expired
    context = multiprocessing.get_context("spawn")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    target = world.target()
    spawn_started = time.perf_counter()
    processes = [
        context.Process(target=_race_worker, args=(target, ready, go, results), daemon=True) for _ in range(RACERS)
    ]
    for process in processes:
        process.start()
    try:
        for _ in range(RACERS):
            ready.get(timeout=120)
        spawned = time.perf_counter() - spawn_started
        race_started = time.perf_counter()
        go.set()
        outcomes = [results.get(timeout=120) for _ in range(RACERS)]
        raced = time.perf_counter() - race_started
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()

    errors = [detail for status, detail, _ in outcomes if status != "ok"]
    assert errors == []
    tokens = {detail for _, detail, _ in outcomes}
    assert len(tokens) == 1  # every process holds the one refreshed token
    (token,) = tokens
    assert token != old.access_token.reveal()
    assert world.endpoint.authority.check_access(token) == world.tenant_id
    assert world.endpoint.authority.refreshes == 1  # exactly one refresh at the token endpoint
    assert world.endpoint.authority.invalid_grants == 0
    assert world.endpoint.requests == 1
    assert world.item()["version"] == {"N": "2"}
    slowest = max(elapsed for _, _, elapsed in outcomes)
    print(
        f"\nrace: {RACERS} processes spawned in {spawned:.1f} s; all held the token {raced:.2f} s after go "
        f"(slowest access_token() {slowest:.2f} s); refreshes={world.endpoint.authority.refreshes}, "
        f"invalid_grant={world.endpoint.authority.invalid_grants}"
    )
