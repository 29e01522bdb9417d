"""The webhook function, invoked in-process as Lambda would, against moto with the template's resources."""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest

from acuity_sync import observability
from acuity_sync.acuity.signature import sign
from acuity_sync.domain.names import ALL_LEDGERS, LedgerName
from acuity_sync.secret import Secret
from acuity_sync.store import tenant_cache
from acuity_sync.store.audit import AuditTrail
from acuity_sync.store.tenants import TenantProfile
from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack
from tests.support.aws import add_tenant, loaded_handler, queue_depths, tenant_store
from tests.support.http_events import FakeLambdaContext, webhook_event

TENANT = "0123456789abcdef0123456789abcdef"
KEY = "tenant-api-key-123"
SCHEDULED = b"action=scheduled&id=54321&calendarID=27238&appointmentTypeID=1"
QUEUE_OF = {
    LedgerName.QUICKBOOKS: "QuickBooksQueue",
    LedgerName.XERO: "XeroQueue",
    LedgerName.FRESHBOOKS: "FreshBooksQueue",
}


@pytest.fixture
def stack(stack: ProvisionedStack) -> ProvisionedStack:
    """The stack (conftest.py), with a tenant connected to every ledger."""
    add_tenant(stack, TenantProfile(TENANT, "Studio", "1001", Secret(KEY), ledgers=ALL_LEDGERS))
    return stack


@pytest.fixture
def webhook(stack: ProvisionedStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    with loaded_handler(stack, "WebhookFunction", monkeypatch) as module:
        yield module


def invoke(module: ModuleType, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = module.lambda_handler(event, FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"])


def receive_all(stack: ProvisionedStack, logical_id: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=stack.region)
    response = sqs.receive_message(
        QueueUrl=stack.queue_urls[logical_id], MaxNumberOfMessages=10, AttributeNames=["All"]
    )
    return [dict(message) for message in response.get("Messages", [])]


def test_a_signed_webhook_is_queued_once_per_connected_ledger(stack: ProvisionedStack, webhook: ModuleType) -> None:
    status, body = invoke(webhook, webhook_event(TENANT, SCHEDULED, api_key=KEY, request_id="abcDEF123="))
    assert status == 200
    assert body["outcome"] == "accepted"
    assert sorted(body["queued"]) == sorted(str(ledger) for ledger in ALL_LEDGERS)
    for ledger in ALL_LEDGERS:
        messages = receive_all(stack, QUEUE_OF[ledger])
        assert len(messages) == 1
        message = messages[0]
        assert message["Attributes"]["MessageGroupId"] == f"{TENANT}#appointment#54321"
        assert message["Attributes"]["MessageDeduplicationId"] == "abcDEF123="
        document = json.loads(message["Body"])
        assert document["v"] == 1
        assert (document["tenant_id"], document["kind"], document["object_id"]) == (TENANT, "appointment", 54321)
        assert document["action"] == "scheduled"
        assert document["request_id"] == "abcDEF123="


def test_the_same_request_retried_is_deduplicated_but_a_new_change_is_not(
    stack: ProvisionedStack, webhook: ModuleType
) -> None:
    invoke(webhook, webhook_event(TENANT, SCHEDULED, api_key=KEY, request_id="same="))
    invoke(webhook, webhook_event(TENANT, SCHEDULED, api_key=KEY, request_id="same="))
    invoke(webhook, webhook_event(TENANT, SCHEDULED, api_key=KEY, request_id="another="))
    assert set(queue_depths(stack).values()) == {2, 0}
    assert queue_depths(stack)["QuickBooksQueue"] == 2


@pytest.mark.parametrize(
    ("action", "kind", "normalised"),
    [
        ("appointment.rescheduled", "appointment", "rescheduled"),
        ("canceled", "appointment", "canceled"),
        ("order.completed", "order", "order.completed"),
    ],
)
def test_each_action_spelling_is_queued_normalised(
    stack: ProvisionedStack, webhook: ModuleType, action: str, kind: str, normalised: str
) -> None:
    status, body = invoke(webhook, webhook_event(TENANT, f"action={action}&id=99".encode(), api_key=KEY))
    assert status == 200
    assert (body["kind"], body["id"], body["action"]) == (kind, 99, normalised)
    message = receive_all(stack, "XeroQueue")[0]
    assert message["Attributes"]["MessageGroupId"] == f"{TENANT}#{kind}#99"


def test_a_body_over_8_kib_is_refused_before_anything_else(stack: ProvisionedStack, webhook: ModuleType) -> None:
    big = SCHEDULED + b"&padding=" + b"x" * 8200
    status, body = invoke(webhook, webhook_event(TENANT, big, api_key=KEY))
    assert status == 413
    assert body["outcome"] == "rejected_size"
    status, _ = invoke(webhook, webhook_event("unknown-tenant-000000", big, api_key=KEY))
    assert status == 413
    assert set(queue_depths(stack).values()) == {0}


def test_unknown_tenants_get_404_and_are_cached_as_misses(
    stack: ProvisionedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    boto3.DEFAULT_SESSION.events.register(  # type: ignore[union-attr]
        "provide-client-params.dynamodb.GetItem", lambda **kwargs: reads.append(kwargs["params"]["Key"]["pk"]["S"])
    )
    with loaded_handler(stack, "WebhookFunction", monkeypatch) as webhook:
        for _ in range(5):
            status, body = invoke(webhook, webhook_event("f" * 32, SCHEDULED, api_key=KEY))
            assert (status, body["outcome"]) == (404, "rejected_tenant")
        status, _ = invoke(webhook, webhook_event("not a tenant id!", SCHEDULED, api_key=KEY))
        assert status == 404
    assert reads == ["TENANT#" + "f" * 32]
    assert set(queue_depths(stack).values()) == {0}


@pytest.mark.parametrize("signature", [None, "", sign(SCHEDULED, "wrong-key"), sign(SCHEDULED, KEY)[:-2]])
def test_missing_or_wrong_signatures_get_401_and_nothing_is_queued(
    stack: ProvisionedStack, webhook: ModuleType, signature: str | None
) -> None:
    event = webhook_event(TENANT, SCHEDULED, signature=signature)
    assert ("x-acuity-signature" in event["headers"]) == (signature is not None)
    status, body = invoke(webhook, event)
    assert (status, body["outcome"]) == (401, "rejected_signature")
    assert set(queue_depths(stack).values()) == {0}


def test_the_signature_header_is_found_in_any_letter_case(stack: ProvisionedStack, webhook: ModuleType) -> None:
    event = webhook_event(TENANT, SCHEDULED, headers={"X-Acuity-SIGNATURE": sign(SCHEDULED, KEY)})
    assert invoke(webhook, event)[0] == 200


def test_a_plain_text_body_is_checked_as_well_as_a_base64_one(stack: ProvisionedStack, webhook: ModuleType) -> None:
    assert invoke(webhook, webhook_event(TENANT, SCHEDULED, api_key=KEY, base64_encoded=False))[0] == 200
    assert invoke(webhook, webhook_event(TENANT, SCHEDULED, api_key=KEY, base64_encoded=True))[0] == 200
    event = webhook_event(TENANT, SCHEDULED, api_key=KEY)
    event["body"] = "not base64 at all!"
    status, body = invoke(webhook, event)
    assert (status, body["outcome"]) == (400, "rejected_form")


def test_a_rotated_key_is_picked_up_on_mismatch(
    stack: ProvisionedStack, webhook: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert invoke(webhook, webhook_event(TENANT, SCHEDULED, api_key=KEY))[0] == 200  # cached now
    tenant_store(stack).set_api_key(TENANT, Secret("rotated-key"))
    monkeypatch.setattr(tenant_cache, "REREAD_AFTER_SECONDS", 0.0)
    assert invoke(webhook, webhook_event(TENANT, SCHEDULED, api_key="rotated-key"))[0] == 200
    assert invoke(webhook, webhook_event(TENANT, SCHEDULED, api_key=KEY))[0] == 401


def test_a_mismatch_with_a_fresh_key_does_not_reread(stack: ProvisionedStack, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[object] = []
    boto3.DEFAULT_SESSION.events.register(  # type: ignore[union-attr]
        "provide-client-params.dynamodb.GetItem", lambda **kwargs: reads.append(kwargs)
    )
    with loaded_handler(stack, "WebhookFunction", monkeypatch) as webhook:
        for _ in range(20):
            assert invoke(webhook, webhook_event(TENANT, SCHEDULED, api_key="forged"))[0] == 401
    assert len(reads) == 1


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        (SCHEDULED, {"content-type": "application/json"}, "Content-Type"),
        (b"action=scheduled&id=abc", {}, "numeric id"),
        (b"id=5", {}, "no action"),
        (b"action=changed&id=\xff\xfe", {}, "UTF-8"),
        (b"", {}, "no action"),
    ],
)
def test_signed_but_malformed_forms_get_400(
    stack: ProvisionedStack, webhook: ModuleType, body: bytes, headers: dict[str, str], reason: str
) -> None:
    status, answer = invoke(webhook, webhook_event(TENANT, body, api_key=KEY, headers=headers))
    assert (status, answer["outcome"]) == (400, "rejected_form")
    assert reason in answer["message"]
    assert set(queue_depths(stack).values()) == {0}


def test_an_unknown_signed_action_is_answered_200_and_written_to_the_audit_trail(
    stack: ProvisionedStack, webhook: ModuleType
) -> None:
    status, body = invoke(webhook, webhook_event(TENANT, b"action=appointment.noshow&id=77", api_key=KEY))
    assert (status, body["outcome"]) == (200, "ignored_action")
    assert set(queue_depths(stack).values()) == {0}
    entries = AuditTrail(boto3.client("dynamodb", region_name="us-east-1"), stack.table_name).entries(
        TENANT, None, None, 77
    )
    assert [(entry["decision"], entry["rule"]) for entry in entries] == [("ignored", "unknown_action")]
    assert "appointment.noshow" in entries[0]["detail"]


def test_a_tenant_without_ledgers_is_answered_200_recorded_and_nothing_queued(
    stack: ProvisionedStack, webhook: ModuleType
) -> None:
    lonely = "1111111111111111aaaaaaaaaaaaaaaa"
    add_tenant(stack, TenantProfile(lonely, "Solo", "1002", Secret("solo-key")))
    status, body = invoke(webhook, webhook_event(lonely, SCHEDULED, api_key="solo-key"))
    assert (status, body["outcome"], body["queued"]) == (200, "no_ledger", [])
    assert set(queue_depths(stack).values()) == {0}
    entries = AuditTrail(boto3.client("dynamodb", region_name="us-east-1"), stack.table_name).entries(
        lonely, None, body["kind"], 54321
    )
    assert entries[0]["rule"] == "no_ledger_connected"


def test_sqs_refusing_a_message_gives_503_so_acuity_retries(stack: ProvisionedStack, webhook: ModuleType) -> None:
    boto3.client("sqs", region_name="us-east-1").delete_queue(QueueUrl=stack.queue_urls["XeroQueue"])
    status, body = invoke(webhook, webhook_event(TENANT, SCHEDULED, api_key=KEY))
    assert (status, body["outcome"]) == (503, "unavailable")
    assert "xero" in body["message"]


def test_our_table_failing_gives_503_not_404(stack: ProvisionedStack, webhook: ModuleType) -> None:
    boto3.client("dynamodb", region_name="us-east-1").delete_table(TableName=stack.table_name)
    status, body = invoke(webhook, webhook_event(TENANT, SCHEDULED, api_key=KEY))
    assert (status, body["outcome"]) == (503, "unavailable")


def test_no_key_signature_or_email_reaches_the_logs(
    stack: ProvisionedStack, webhook: ModuleType, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The logger kept the stdout of the moment it was created; point it at this test's captured stdout.
    monkeypatch.setattr(observability.logger.registered_handler, "stream", sys.stdout)
    body = b"action=scheduled&id=5&email=jane%40example.com"
    invoke(webhook, webhook_event(TENANT, body, api_key=KEY))
    invoke(webhook, webhook_event(TENANT, body, api_key="forged-key"))
    output = capfd.readouterr().out
    assert "webhook answered" in output
    for secret in (KEY, sign(body, KEY), sign(body, "forged-key"), "jane"):
        assert secret not in output


def test_a_bug_is_a_500_logged_through_the_masking_logger(
    stack: ProvisionedStack, webhook: ModuleType, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(observability.logger.registered_handler, "stream", sys.stdout)
    # A profile written by a faulty tool: no name. Reading it is a bug of ours (a KeyError), not bad input.
    broken = "fedcba9876543210fedcba9876543210"
    add_tenant(stack, TenantProfile(broken, "Studio", "1002", Secret(KEY), ledgers=ALL_LEDGERS))
    boto3.client("dynamodb", region_name=stack.region).update_item(
        TableName=stack.table_name,
        Key={"pk": {"S": f"TENANT#{broken}"}, "sk": {"S": "PROFILE"}},
        UpdateExpression="REMOVE #name",
        ExpressionAttributeNames={"#name": "name"},
    )
    body = b"action=scheduled&id=5&email=jane%40example.com"
    status, answer = invoke(webhook, webhook_event(broken, body, api_key=KEY))
    assert (status, answer["outcome"]) == (500, "error")
    lines = [json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith("{")]
    (failure,) = [line for line in lines if line.get("message") == "webhook failed"]
    assert failure["level"] == "ERROR"
    assert failure["error_type"] == "KeyError"
    assert "KeyError" in failure["exception"]
    assert sum(queue_depths(stack).values()) == 0


def test_each_answer_emits_the_webhooks_metric_with_its_outcome(
    stack: ProvisionedStack, webhook: ModuleType, capfd: pytest.CaptureFixture[str]
) -> None:
    invoke(webhook, webhook_event(TENANT, SCHEDULED, api_key=KEY))
    invoke(webhook, webhook_event(TENANT, SCHEDULED, api_key="forged"))
    documents = [json.loads(line) for line in capfd.readouterr().out.splitlines() if '"_aws"' in line]
    outcomes = [document["outcome"] for document in documents if "Webhooks" in document]
    assert outcomes == ["accepted", "rejected_signature"]
    namespaces = {metric["Namespace"] for document in documents for metric in document["_aws"]["CloudWatchMetrics"]}
    assert namespaces == {"AcuitySync"}
    queued = [document for document in documents if "MessagesQueued" in document]
    assert sorted(document["ledger"] for document in queued) == sorted(str(ledger) for ledger in ALL_LEDGERS)
    for document in queued:
        # The dashboard plots MessagesQueued by exactly these dimensions.
        assert document["service"] == "webhook"
        assert [sorted(dimensions) for dimensions in document["_aws"]["CloudWatchMetrics"][0]["Dimensions"]] == [
            ["ledger", "service"]
        ]


def test_the_body_is_never_reserialised_before_checking(stack: ProvisionedStack, webhook: ModuleType) -> None:
    # Same fields, different escaping: only the exact bytes that were signed verify.
    signed = b"action=scheduled&id=54321&calendarID=27238&appointmentTypeID=1&name=a+b"
    event = webhook_event(TENANT, signed.replace(b"a+b", b"a%20b"), signature=sign(signed, KEY))
    assert invoke(webhook, event)[0] == 401
    assert base64.b64decode(event["body"]) != signed


def test_the_answer_is_json_in_the_http_apis_response_shape(stack: ProvisionedStack, webhook: ModuleType) -> None:
    response = webhook.lambda_handler(webhook_event(TENANT, SCHEDULED, api_key=KEY), FakeLambdaContext())
    assert set(response) == {"statusCode", "body", "isBase64Encoded", "headers", "cookies"}
    assert (response["statusCode"], response["isBase64Encoded"], response["cookies"]) == (200, False, [])
    assert response["headers"] == {"Content-Type": "application/json"}
    assert json.loads(response["body"])["outcome"] == "accepted"


def with_address(event: dict[str, Any], method: str, path: str, stage: str = "$default") -> dict[str, Any]:
    context = {**event["requestContext"], "http": {**event["requestContext"]["http"], "method": method}}
    return {**event, "rawPath": path, "requestContext": {**context, "stage": stage}}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/webhooks/acuity/{TENANT}"),
        ("PUT", f"/webhooks/acuity/{TENANT}"),
        ("POST", f"/webhooks/acuity/{TENANT}/extra"),
        ("POST", f"/webhooks/acuity/{TENANT}/"),
        ("POST", "/webhooks/acuity/"),
        ("POST", f"/webhooks/other/{TENANT}"),
        ("POST", ""),
    ],
)
def test_only_a_post_to_a_webhook_address_reaches_the_intake(
    stack: ProvisionedStack, webhook: ModuleType, method: str, path: str
) -> None:
    event = with_address(webhook_event(TENANT, SCHEDULED, api_key=KEY), method, path)
    assert invoke(webhook, event) == (404, {"outcome": "rejected_tenant", "message": "no such webhook address"})
    assert set(queue_depths(stack).values()) == {0}


def test_the_address_is_read_as_api_gateway_gives_it(stack: ProvisionedStack, webhook: ModuleType) -> None:
    """The method in any letter case, a named stage's prefix left out, the tenant id as it is in the path."""
    event = webhook_event(TENANT, SCHEDULED, api_key=KEY)
    assert invoke(webhook, with_address(event, "post", f"/webhooks/acuity/{TENANT}"))[0] == 200
    assert invoke(webhook, with_address(event, "POST", f"/live/webhooks/acuity/{TENANT}", stage="live"))[0] == 200
    encoded = "%30" + TENANT[1:]  # "0..." percent-encoded is another address, not this tenant's
    assert invoke(webhook, with_address(event, "POST", f"/webhooks/acuity/{encoded}"))[0] == 404


def test_an_event_without_a_request_context_is_still_answered(stack: ProvisionedStack, webhook: ModuleType) -> None:
    event = webhook_event(TENANT, SCHEDULED, api_key=KEY)
    del event["requestContext"]
    assert invoke(webhook, event)[0] == 404


def test_the_trace_header_still_reaches_sqs_without_the_x_ray_sdk(
    stack: ProvisionedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The webhook creates no Tracer (its cold start), yet its trace continues into the sync function's: in Lambda
    (AWS_LAMBDA_FUNCTION_NAME and _X_AMZN_TRACE_ID set), botocore itself sends the invocation's trace header with
    each SendMessage, and SQS hands it on to the consumer as AWSTraceHeader."""
    trace = "Root=1-67891233-abcdef012345678912345678;Parent=0123456789abcdef;Sampled=1"
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "WebhookFunction")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", trace)
    headers: list[str | None] = []
    boto3.DEFAULT_SESSION.events.register(  # type: ignore[union-attr]
        "before-send.sqs.SendMessage", lambda request, **_: headers.append(request.headers.get("X-Amzn-Trace-Id"))
    )
    with loaded_handler(stack, "WebhookFunction", monkeypatch) as webhook:
        assert invoke(webhook, webhook_event(TENANT, SCHEDULED, api_key=KEY))[0] == 200
    assert [header.decode() if isinstance(header, bytes) else header for header in headers] == [trace] * len(
        ALL_LEDGERS
    )
