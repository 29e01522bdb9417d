from __future__ import annotations

import json

import pytest

from acuity_sync.domain.message import MESSAGE_VERSION, Origin, SyncRequest
from acuity_sync.domain.names import EventKind
from acuity_sync.queues import deduplication_id

REQUEST = SyncRequest(
    tenant_id="0123456789abcdef0123456789abcdef",
    kind=EventKind.APPOINTMENT,
    object_id=54321,
    action="rescheduled",
    received_at="2026-11-28T15:00:00.000+00:00",
    request_id="JKJaXmPLvHcESHA=",
)


def test_the_message_is_small_versioned_json_with_ids_only() -> None:
    document = json.loads(REQUEST.to_json())
    assert document == {
        "v": MESSAGE_VERSION,
        "tenant_id": REQUEST.tenant_id,
        "kind": "appointment",
        "object_id": 54321,
        "action": "rescheduled",
        "received_at": "2026-11-28T15:00:00.000+00:00",
        "request_id": "JKJaXmPLvHcESHA=",
    }
    assert len(REQUEST.to_json()) < 256


def test_round_trip() -> None:
    assert SyncRequest.from_json(REQUEST.to_json()) == REQUEST


def test_a_requeued_message_says_where_it_came_from_and_is_new_to_the_queue() -> None:
    again = REQUEST.requeued(Origin.BACKFILL, "backfill-1", "2026-12-07T09:00:00+00:00")
    document = json.loads(again.to_json())
    assert (document["origin"], document["request_id"], document["received_at"]) == (
        "backfill",
        "backfill-1",
        "2026-12-07T09:00:00+00:00",
    )
    assert (again.group_id, again.object_id, again.action) == (REQUEST.group_id, 54321, "rescheduled")
    assert SyncRequest.from_json(again.to_json()) == again
    assert SyncRequest.from_json(REQUEST.to_json()).origin is Origin.WEBHOOK  # a webhook's message has no origin key


def test_an_unknown_version_is_refused() -> None:
    document = json.loads(REQUEST.to_json()) | {"v": 99}
    with pytest.raises(ValueError, match="version"):
        SyncRequest.from_json(json.dumps(document))


def test_one_group_per_tenant_kind_and_id() -> None:
    assert REQUEST.group_id == "0123456789abcdef0123456789abcdef#appointment#54321"


def test_deduplication_id_is_the_request_id_when_sqs_accepts_it() -> None:
    assert deduplication_id("JKJaXmPLvHcESHA=") == "JKJaXmPLvHcESHA="
    hashed = deduplication_id("with space " + "x" * 200)
    assert len(hashed) == 64
    assert hashed.isalnum()
