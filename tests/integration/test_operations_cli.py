"""`acuity-sync replay`, `explain` and `status`, run in-process against the template's resources on a moto server,
located as `acuity-sync dev` locates them (a dev.json naming the table, key and queues)."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from acuity_sync.domain.message import SyncRequest
from acuity_sync.domain.names import EventKind, LedgerName
from acuity_sync.secret import Secret
from acuity_sync.store.kms import SecretBox
from acuity_sync.store.parking import ParkedEvent, ParkingLot, ResumeOn
from acuity_sync.store.tenants import TenantProfile, TenantStore
from acuity_sync_toolkit.cli import main
from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack

REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}
STACK_VARIABLES = ("ACUITY_SYNC_STACK", "ACUITY_SYNC_TABLE", "ACUITY_SYNC_KMS_KEY_ID", "AWS_ENDPOINT_URL")
QUEUES = {LedgerName.QUICKBOOKS: "QuickBooks", LedgerName.XERO: "Xero", LedgerName.FRESHBOOKS: "FreshBooks"}
EXPLAIN_KEYS = {"state", "customer_id", "invoice", "payments", "credit_notes", "events", "problem", "next_step"}


@pytest.fixture(scope="module")
def stack(server_stack: ProvisionedStack) -> ProvisionedStack:
    return server_stack


@pytest.fixture
def dev_state(stack: ProvisionedStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """What `acuity-sync dev` writes, for this module's stack."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    for name in STACK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    state = {
        "table_name": stack.table_name,
        "kms_key_arn": stack.kms_key_arn,
        "webhook_base_url": "https://example.test/webhooks/acuity/",
        "aws_endpoint_url": stack.endpoint_url,
        "region": REGION,
        "queue_urls": {str(ledger): stack.queue_urls[f"{label}Queue"] for ledger, label in QUEUES.items()},
        "dead_letter_queue_urls": {
            str(ledger): stack.queue_urls[f"{label}DeadLetterQueue"] for ledger, label in QUEUES.items()
        },
    }
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(state), encoding="utf-8")
    return path


@pytest.fixture
def tenant(stack: ProvisionedStack, dev_state: Path) -> str:
    dynamodb = boto3.client("dynamodb", endpoint_url=stack.endpoint_url, region_name=REGION)
    kms = boto3.client("kms", endpoint_url=stack.endpoint_url, region_name=REGION)
    tenant_id = secrets.token_hex(16)
    TenantStore(dynamodb, stack.table_name, SecretBox(kms, stack.kms_key_arn)).create(
        TenantProfile(tenant_id, "Studio", "1001", Secret("acuity-key"), ledgers=(LedgerName.XERO,))
    )
    return tenant_id


def cli(dev_state: Path, capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str]:
    capsys.readouterr()
    status = main([*arguments, "--dev-state", str(dev_state)])
    return status, capsys.readouterr().out


def cli_json(dev_state: Path, capsys: pytest.CaptureFixture[str], *arguments: str) -> dict[str, Any]:
    status, out = cli(dev_state, capsys, *arguments, "--json")
    assert status == 0, out
    document: dict[str, Any] = json.loads(out)
    return document


def park(stack: ProvisionedStack, tenant: str, object_id: int, reason: str = "rejected") -> ParkedEvent:
    now = datetime.now(UTC)
    request = SyncRequest(tenant, EventKind.APPOINTMENT, object_id, "changed", now.isoformat(), f"webhook-{object_id}")
    event = ParkedEvent(
        request,
        LedgerName.XERO,
        reason,
        "Xero refused it: Account code '091' is not a valid code",
        ResumeOn.SETTINGS_CHANGE,
        None,
        now,
    )
    ParkingLot(boto3.client("dynamodb", endpoint_url=stack.endpoint_url, region_name=REGION), stack.table_name).park(
        event
    )
    return event


def received(stack: ProvisionedStack, logical_id: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", endpoint_url=stack.endpoint_url, region_name=REGION)
    url = stack.queue_urls[logical_id]
    bodies: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=5).get(
        "Messages", []
    ):
        for message in messages:
            try:
                bodies.append(json.loads(message["Body"]))
            except ValueError:
                bodies.append({"unreadable": message["Body"]})
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def test_replay_parked_says_what_it_would_do_then_requeues_and_clears(
    stack: ProvisionedStack, dev_state: Path, tenant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    park(stack, tenant, 11)
    park(stack, tenant, 12, reason="currency_mismatch")
    dry = cli_json(dev_state, capsys, "replay", "--ledger", "xero", "--parked", "--tenant", tenant, "--dry-run")
    assert dry == {"replayed": 0, "skipped": 0, "would_replay": 2}
    assert received(stack, "XeroQueue") == []
    assert cli_json(dev_state, capsys, "replay", "--ledger", "xero", "--parked", "--tenant", tenant) == {
        "replayed": 2,
        "skipped": 0,
    }
    messages = received(stack, "XeroQueue")
    assert sorted(message["object_id"] for message in messages) == [11, 12]
    assert {message["origin"] for message in messages} == {"replay"}
    status, words = cli(dev_state, capsys, "replay", "--ledger", "xero", "--parked", "--tenant", tenant)
    assert (status, words.strip()) == (
        0,
        "Replayed 0 event(s) from the Xero parked events of tenant " + tenant + " onto the Xero queue.",
    )


def test_replay_dlq_resends_ours_with_fresh_ids_and_leaves_the_rest(
    stack: ProvisionedStack, dev_state: Path, tenant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sqs = boto3.client("sqs", endpoint_url=stack.endpoint_url, region_name=REGION)
    dead_letters = stack.queue_urls["XeroDeadLetterQueue"]
    now = datetime.now(UTC).isoformat()
    ours = SyncRequest(tenant, EventKind.APPOINTMENT, 21, "changed", now, "webhook-21")
    theirs = SyncRequest(secrets.token_hex(16), EventKind.APPOINTMENT, 22, "changed", now, "webhook-22")
    for index, (body, group) in enumerate(
        [(ours.to_json(), ours.group_id), (theirs.to_json(), theirs.group_id), ("not ours", "poison")]
    ):
        sqs.send_message(
            QueueUrl=dead_letters, MessageBody=body, MessageGroupId=group, MessageDeduplicationId=f"d{index}"
        )
    dry = cli_json(dev_state, capsys, "replay", "--ledger", "xero", "--dlq", "--tenant", tenant, "--dry-run")
    assert dry == {"replayed": 0, "skipped": 2, "would_replay": 1}
    assert cli_json(dev_state, capsys, "replay", "--ledger", "xero", "--dlq", "--tenant", tenant) == {
        "replayed": 1,
        "skipped": 2,
    }
    (replayed,) = received(stack, "XeroQueue")
    assert (replayed["object_id"], replayed["origin"]) == (21, "replay")
    assert replayed["request_id"].startswith("replay-")
    assert replayed["request_id"] != ours.request_id
    left = received(stack, "XeroDeadLetterQueue")
    assert sorted(str(message.get("object_id", message.get("unreadable"))) for message in left) == ["22", "not ours"]


def test_explain_an_unknown_id_says_so_with_exit_1(
    stack: ProvisionedStack, dev_state: Path, tenant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, words = cli(dev_state, capsys, "explain", "--tenant", tenant, "--appointment", "999999")
    assert status == 1
    assert "no appointment 999999 is known for Studio" in words
    assert "Traceback" not in words
    status, document = cli(dev_state, capsys, "explain", "--tenant", tenant, "--order", "5", "--json")
    assert status == 1
    assert json.loads(document)["object_id"] == 5
    assert main(["explain", "--tenant", "0" * 32, "--appointment", "1", "--dev-state", str(dev_state)]) == 2


def test_explain_a_parked_appointment_in_words_and_json(
    stack: ProvisionedStack, dev_state: Path, tenant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    park(stack, tenant, 31)
    document = cli_json(dev_state, capsys, "explain", "--tenant", tenant, "--appointment", "31")
    assert set(document) == {"tenant_id", "kind", "object_id", "ledgers"}
    assert (document["tenant_id"], document["kind"], document["object_id"]) == (tenant, "appointment", 31)
    xero = document["ledgers"]["xero"]
    assert set(xero) == EXPLAIN_KEYS
    assert xero["state"] == "parked"
    assert xero["problem"] == "Xero refused it: Account code '091' is not a valid code"
    assert "a settings change resumes it" in xero["next_step"]
    assert (xero["invoice"], xero["payments"], xero["credit_notes"]) == (None, [], [])
    status, words = cli(dev_state, capsys, "explain", "--tenant", tenant, "--appointment", "31")
    assert status == 0
    assert "Xero: parked" in words
    assert "why: Xero refused it" in words


def test_status_shows_connections_parked_events_and_queues(
    stack: ProvisionedStack, dev_state: Path, tenant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    park(stack, tenant, 41)
    park(stack, tenant, 42, reason="needs_reauth")
    document = cli_json(dev_state, capsys, "status", "--tenant", tenant)
    assert set(document["queues"]) == {"quickbooks", "xero", "freshbooks"}
    assert set(document["queues"]["xero"]) == {"queued", "in_flight", "dead_letters"}
    (only,) = document["tenants"]
    assert only["ledgers"]["xero"] == {
        "connection": "not_connected",
        "reauth_reason": None,
        "refresh_lapses_at": None,
        "parked": {"needs_reauth": 1, "rejected": 1},
        "backfill_waiting": 0,
        "last_sync": None,
    }
    status, words = cli(dev_state, capsys, "status", "--tenant", tenant)
    assert status == 0
    assert "parked: 1 needs_reauth, 1 rejected" in words
    everyone = cli_json(dev_state, capsys, "status")
    assert tenant in {entry["tenant_id"] for entry in everyone["tenants"]}
