"""The local stack end to end, as a user runs it: `acuity-sync dev` in its own process; the fake Acuity books
an appointment and delivers a signed webhook; the gateway and the webhook function's worker processes queue
one message per connected ledger; each ledger's sync function writes the invoice; Ctrl-C stops it all and leaves
no process behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from acuity_sync.acuity.signature import sign
from acuity_sync.domain.names import LedgerName
from acuity_sync_toolkit.demo.books import Books, reader
from acuity_sync_toolkit.demo.run import wait_until_drained
from acuity_sync_toolkit.fakes.acuity_admin import AcuityAdmin
from acuity_sync_toolkit.stack.devstack import DevInfo
from tests.support.waiting import ProcessExits

# One xdist group per module (make e2e runs --dist loadgroup): its tests share a worker and its stack.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dev_stack")]
ACUITY_SYNC = Path(sys.executable).parent / "acuity-sync"
FORM = {"content-type": "application/x-www-form-urlencoded"}


def children_of(pid: int) -> set[int]:
    """Every descendant process, read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


class RunningDev:
    def __init__(self, process: subprocess.Popen[str], state_dir: Path, info: dict[str, Any]) -> None:
        self.process = process
        self.state_dir = state_dir
        self.info = info

    def log_tail(self, ledger: str) -> str:
        """The end of the ledger's sync function log, for a failure's message."""
        name = {"quickbooks": "QuickBooks", "xero": "Xero", "freshbooks": "FreshBooks"}[ledger]
        path = self.state_dir / "logs" / f"Sync{name}Function.log"
        return path.read_text(encoding="utf-8")[-3000:] if path.exists() else "(no log)"

    def sqs(self) -> Any:
        return boto3.client(
            "sqs",
            endpoint_url=self.info["aws_endpoint_url"],
            region_name=self.info["region"],
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def drained(self, ledger: str, timeout: float = 60) -> bool:
        return wait_until_drained(DevInfo(**self.info), ledger, timeout, sqs=self.sqs())

    def messages(self, ledger: str) -> list[dict[str, Any]]:
        received: list[dict[str, Any]] = []
        while (
            batch := self.sqs()
            .receive_message(
                QueueUrl=self.info["queue_urls"][ledger],
                MaxNumberOfMessages=10,
                VisibilityTimeout=30,
                AttributeNames=["MessageGroupId"],
            )
            .get("Messages", [])
        ):
            received.extend(batch)
        return received


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[RunningDev]:
    state_dir = tmp_path / "state"
    process = subprocess.Popen(
        [str(ACUITY_SYNC), "dev", "--port", "0", "--aws-port", "0", "--state-dir", str(state_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                pytest.fail(f"acuity-sync dev exited with {process.returncode}")
            if line.startswith("ready"):
                break
        else:
            pytest.fail("acuity-sync dev never said ready")
        info = json.loads((state_dir / "dev.json").read_text())
        yield RunningDev(process, state_dir, info)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def test_dev_prints_an_admin_link_to_the_demo_tenants_page_once_ready(dev: RunningDev) -> None:
    assert dev.process.stdout is not None
    lines = [dev.process.stdout.readline() for _ in range(2)]  # the lines after `ready`
    (said,) = [line for line in lines if line.startswith("demo tenant settings")]
    link = said.rsplit(" ", 1)[-1].strip()
    assert link.startswith(dev.info["pages_url"] + "/enter?token=")
    assert link.startswith("http://localhost:")  # Secure cookies work there in a browser
    opened = httpx.get(link, follow_redirects=False, timeout=30)
    assert (opened.status_code, opened.headers["location"]) == (303, "/connect")
    cookie = opened.headers["set-cookie"].split(";", 1)[0]
    page = httpx.get(dev.info["pages_url"], headers={"cookie": cookie}, timeout=30)
    assert page.status_code == 200
    assert "Demo Studio" in page.text


def test_dev_json_holds_the_contract(dev: RunningDev) -> None:
    info = dev.info
    for key in ("gateway_url", "aws_endpoint_url", "acuity_url", "table_name", "queue_urls", "demo_tenant"):
        assert info[key], key
    assert sorted(info["queue_urls"]) == ["freshbooks", "quickbooks", "xero"]
    tenant = info["demo_tenant"]
    assert sorted(tenant) == ["acuity_api_key", "acuity_user_id", "id", "webhook_url"]
    assert tenant["webhook_url"] == f"{info['gateway_url']}/webhooks/acuity/{tenant['id']}"
    for url in (info["gateway_url"], info["aws_endpoint_url"], info["acuity_url"]):
        assert url.startswith("http://127.0.0.1:")
    ids = {"quickbooks": "realm_id", "xero": "tenant_id", "freshbooks": "account_id"}
    for ledger, company_key in ids.items():
        assert sorted(info["ledgers"][ledger]) == sorted(["access_token", company_key, "url"])
        # Each fake accepts its token for reads through its own API.
        books = reader(LedgerName(ledger), info["ledgers"][ledger])
        try:
            assert books.read().invoices == ()
        finally:
            books.close()


def books_of(info: dict[str, Any], ledger: str) -> Books:
    books = reader(LedgerName(ledger), info["ledgers"][ledger])
    try:
        return books.read()
    finally:
        books.close()


def test_a_booking_in_acuity_reaches_every_ledger_and_ctrl_c_stops_everything(dev: RunningDev) -> None:
    info, tenant = dev.info, dev.info["demo_tenant"]
    workers = children_of(dev.process.pid)
    with AcuityAdmin(info["acuity_url"]) as admin:
        appointment = admin.book_appointment(
            tenant["acuity_user_id"],
            firstName="Jane",
            lastName="Doe",
            email="jane@example.com",
            price="80.00",
            datetime="2026-12-03T15:00:00-0500",
        )
        deliveries = admin.deliveries(tenant["acuity_user_id"])
    assert deliveries, "the fake Acuity delivered nothing"
    assert {delivery["status"] for delivery in deliveries} == {200}

    # Each ledger's sync function (worker processes fed by the poller) turns it into an invoice. The books are read
    # once the queues are drained: polling them would spend the ledger's rate limit the sync needs.
    for ledger in ("quickbooks", "xero", "freshbooks"):
        assert dev.drained(ledger, timeout=120), f"{ledger}: {dev.log_tail(ledger)}"
        invoices = books_of(info, ledger).invoices
        assert len(invoices) == 1, f"{ledger}: {invoices}; log: {dev.log_tail(ledger)}"
        (invoice,) = invoices
        assert (invoice.total, invoice.date) == (Decimal("80.00"), "2026-12-03"), ledger
        assert invoice.reference, f"{ledger}: our marker for appointment {appointment['id']} is on the invoice"

    forged = httpx.post(
        tenant["webhook_url"],
        content=b"action=changed&id=1",
        headers={**FORM, "x-acuity-signature": sign(b"action=changed&id=1", "guess")},
    )
    assert forged.status_code == 401
    assert httpx.get(tenant["webhook_url"]).status_code == 404  # only POST is routed, as in API Gateway

    workers |= children_of(dev.process.pid)
    assert workers, "the webhook function should run in worker processes"
    with ProcessExits(workers) as exits:
        os.killpg(dev.process.pid, signal.SIGINT)
        assert dev.process.wait(30) == 0
        assert exits.wait(10) == set(), "worker processes outlived acuity-sync dev"


def test_tenant_add_against_the_dev_stack_prints_a_working_webhook_url(dev: RunningDev) -> None:
    info = dev.info
    with AcuityAdmin(info["acuity_url"]) as admin:
        admin.create_account(4242, "studio-b-key")
    result = subprocess.run(
        [
            str(ACUITY_SYNC),
            "tenant",
            "add",
            "--name",
            "Studio B",
            "--acuity-user-id",
            "4242",
            "--acuity-api-key",
            "studio-b-key",
            "--acuity-base-url",
            info["acuity_url"],
            "--dev-state",
            str(dev.state_dir / "dev.json"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    added = json.loads(result.stdout)
    assert added["webhook_url"] == f"{info['webhook_base_url']}{added['tenant_id']}"
    assert len(added["tenant_id"]) == 32
    body = b"action=scheduled&id=7"
    answer = httpx.post(
        added["webhook_url"], content=body, headers={**FORM, "x-acuity-signature": sign(body, "studio-b-key")}
    )
    assert (answer.status_code, answer.json()["outcome"]) == (200, "no_ledger")

    refused = subprocess.run(
        [
            str(ACUITY_SYNC),
            "tenant",
            "add",
            "--name",
            "Studio C",
            "--acuity-user-id",
            "4242",
            "--acuity-api-key",
            "wrong",
            "--acuity-base-url",
            info["acuity_url"],
            "--dev-state",
            str(dev.state_dir / "dev.json"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert "refused" in refused.stderr
    assert "wrong" not in refused.stderr


def test_tenant_add_takes_the_stack_from_flags_as_for_a_deployed_stack(dev: RunningDev, tmp_path: Path) -> None:
    info = dev.info
    with AcuityAdmin(info["acuity_url"]) as admin:
        admin.create_account(5151, "studio-d-key", currency="EUR", timezone="Europe/Paris")
    result = subprocess.run(
        [
            str(ACUITY_SYNC),
            "tenant",
            "add",
            "--name",
            "Studio D",
            "--acuity-user-id",
            "5151",
            "--acuity-api-key",
            "studio-d-key",
            "--acuity-base-url",
            info["acuity_url"],
            "--table",
            info["table_name"],
            "--kms-key-id",
            info["kms_key_arn"],
            "--webhook-base-url",
            "https://example.execute-api.us-east-1.amazonaws.com/webhooks/acuity/",
            "--endpoint-url",
            info["aws_endpoint_url"],
            "--region",
            info["region"],
            "--dev-state",
            str(tmp_path / "absent.json"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"},
    )
    assert result.returncode == 0, result.stderr
    added = json.loads(result.stdout)
    assert added["webhook_url"] == (
        f"https://example.execute-api.us-east-1.amazonaws.com/webhooks/acuity/{added['tenant_id']}"
    )
    assert (added["currency"], added["timezone"]) == ("EUR", "Europe/Paris")
    # The profile landed in the stack's table, with the key encrypted (never in clear).
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=info["aws_endpoint_url"],
        region_name=info["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    item = dynamodb.get_item(
        TableName=info["table_name"], Key={"pk": {"S": f"TENANT#{added['tenant_id']}"}, "sk": {"S": "PROFILE"}}
    )["Item"]
    assert item["name"]["S"] == "Studio D"
    assert b"studio-d-key" not in item["acuity_api_key"]["B"]


def test_the_readme_demo_shows_each_booking_in_every_ledger_side_by_side(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(ACUITY_SYNC), "demo", "--state-dir", str(tmp_path / "state")],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "200 accepted, queued for quickbooks, xero, freshbooks" in out
    assert "401 rejected_signature" in out
    assert "404 rejected_tenant" in out
    ledgers = ("QuickBooks", "Xero", "FreshBooks")
    lines = [line.split() for line in out.splitlines() if line.split()[:1] and line.split()[0] in ledgers]
    assert len(lines) == 12, out  # 4 bookings x 3 ledgers
    assert sorted(line[0] for line in lines) == ["FreshBooks"] * 4 + ["QuickBooks"] * 4 + ["Xero"] * 4
    for ledger in ledgers:
        mine = [" ".join(line) for line in lines if line[0] == ledger]
        assert any("Jane Doe" in line and "80.00 paid; payment $80.00" in line for line in mine), out
        assert any("Sam Lee" in line and "open, balance $45.50" in line for line in mine), out
        assert any("Lee Park" in line and "100.00 paid; payment $100.00" in line for line in mine), out
    assert out.count("canceled after it was paid") == 3


def test_tenant_add_without_a_stack_says_what_to_pass(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            str(ACUITY_SYNC),
            "tenant",
            "add",
            "--name",
            "X",
            "--acuity-user-id",
            "1",
            "--acuity-api-key",
            "k",
            "--dev-state",
            str(tmp_path / "absent.json"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={key: value for key, value in os.environ.items() if not key.startswith("ACUITY_SYNC_")},
    )
    assert result.returncode == 2
    assert "--stack" in result.stderr
