"""Property-based fuzz of the webhook handler against moto: arbitrary bodies, headers, encodings and sizes.
Never a 5xx, and nothing is queued for a request that is not correctly signed.

FUZZ_EXAMPLES sets the number of examples (CI runs the default, 2,000, with a fixed seed)."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from acuity_sync.acuity.signature import sign
from acuity_sync.domain.names import ALL_LEDGERS
from acuity_sync.secret import Secret
from acuity_sync.store.tenants import TenantProfile
from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack
from tests.support.aws import add_tenant, loaded_handler, queue_depths
from tests.support.http_events import FakeLambdaContext, webhook_event

TENANT = "fuzz0000000000000000000000000001"
KEY = "fuzz-api-key"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2000"))

actions = st.sampled_from(
    [
        "scheduled",
        "rescheduled",
        "canceled",
        "changed",
        "appointment.scheduled",
        "appointment.changed",
        "order.completed",
        "",
        "noshow",
        "SCHEDULED",
        "changed\x00",
    ]
) | st.text(max_size=30)
ids = (
    st.integers(min_value=0, max_value=10**9).map(str)
    | st.integers(min_value=-5, max_value=10**21).map(str)
    | st.text(max_size=12)
)
GOOD_ACTIONS = [
    "scheduled",
    "rescheduled",
    "canceled",
    "changed",
    "appointment.scheduled",
    "appointment.changed",
    "appointment.rescheduled",
    "appointment.canceled",
    "order.completed",
]
form_fields = st.lists(st.tuples(st.sampled_from(["action", "id", "calendarID", "x", ""]), actions | ids), max_size=6)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    choice = draw(st.sampled_from([0, 1, 2, 2, 2, 3]))
    if choice == 0:
        return draw(st.binary(max_size=512))
    if choice == 1:
        return ("&".join(f"{name}={value}" for name, value in draw(form_fields))).encode("utf-8", "surrogatepass")
    if choice == 2:
        return f"action={draw(actions)}&id={draw(ids)}".encode("utf-8", "surrogatepass")
    return b"action=changed&id=1&pad=" + b"x" * draw(st.integers(8000, 9000))


def header_case(name: str, flips: list[bool]) -> str:
    return "".join(c.upper() if flip else c for c, flip in zip(name, flips + [False] * len(name), strict=False))


@pytest.mark.timeout(900)
def test_fuzz_never_5xx_and_queues_only_what_is_correctly_signed(
    stack: ProvisionedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_tenant(stack, TenantProfile(TENANT, "Fuzz", "1", Secret(KEY), ledgers=ALL_LEDGERS))
    with loaded_handler(stack, "WebhookFunction", monkeypatch) as webhook:
        accepted_count = {"n": 0}
        sqs = boto3.client("sqs", region_name=stack.region)
        source_queues = [url for logical_id, url in stack.queue_urls.items() if "DeadLetter" not in logical_id]

        @seed(20261128)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(
            # Weighted towards the real tenant and a right signature, so that a good share of the examples
            # are correctly signed and the rest differ from one by a little.
            tenant=st.sampled_from([TENANT, TENANT, TENANT, "f" * 32, "", "../etc", "x" * 65]) | st.text(max_size=70),
            body=bodies(),
            signing=st.sampled_from(
                ["right", "right", "right", "right", "wrong_key", "random", "missing", "truncated", "other_body"]
            ),
            base64_encoded=st.booleans(),
            flips=st.lists(st.booleans(), max_size=18),
            content_type=st.sampled_from(
                [
                    "application/x-www-form-urlencoded",
                    "application/x-www-form-urlencoded; charset=utf-8",
                    "application/x-www-form-urlencoded",
                    "Application/X-WWW-Form-Urlencoded",
                    "application/json",
                    "text/plain",
                    "",
                    None,
                ]
            )
            | st.text(max_size=40),
            extra_headers=st.dictionaries(st.text(min_size=1, max_size=20), st.text(max_size=40), max_size=3),
            drop=st.sampled_from([None, "headers", "body", "isBase64Encoded"]),
            well_formed=st.booleans(),
            good_action=st.sampled_from(GOOD_ACTIONS),
            good_id=st.integers(min_value=0, max_value=10**18),
        )
        def run(
            tenant: str,
            body: bytes,
            signing: str,
            base64_encoded: bool,
            flips: list[bool],
            content_type: str | None,
            extra_headers: dict[str, str],
            drop: str | None,
            well_formed: bool,
            good_action: str,
            good_id: int,
        ) -> None:
            if well_formed:
                # Half the examples are webhooks as Acuity sends them, with arbitrary headers and case around.
                tenant, signing, drop = TENANT, "right", None
                content_type = "application/x-www-form-urlencoded"
                body = f"action={good_action}&id={good_id}&calendarID=1".encode()
            if not base64_encoded:
                # API Gateway gives text bodies as JSON strings; those are the bytes the handler signs.
                body = body.decode("utf-8", "replace").encode("utf-8")
            signature = {
                "right": sign(body, KEY),
                "wrong_key": sign(body, "not-the-key"),
                "random": base64.b64encode(os.urandom(32)).decode(),
                "missing": None,
                "truncated": sign(body, KEY)[:-4],
                "other_body": sign(body + b"&", KEY),
            }[signing]
            event: dict[str, Any] = webhook_event(tenant, body, base64_encoded=base64_encoded)
            event["headers"] = {**extra_headers}
            if content_type is not None:
                event["headers"]["content-type"] = content_type
            if signature is not None:
                event["headers"][header_case("x-acuity-signature", flips)] = signature
            if drop is not None:
                event.pop(drop, None)
            # Dropping isBase64Encoded leaves a text body as it was, but makes a base64 body unreadable.
            body_intact = drop != "body" and not (drop == "isBase64Encoded" and base64_encoded)
            correctly_signed = (
                signing == "right" and tenant == TENANT and drop != "headers" and body_intact and len(body) <= 8192
            )
            response = webhook.lambda_handler(event, FakeLambdaContext())
            status = response["statusCode"]
            assert status < 500, response
            answer = json.loads(response["body"])
            accepted = answer.get("outcome") == "accepted"
            if accepted:
                assert correctly_signed, (event, answer)
                accepted_count["n"] += 1
            for url in source_queues:
                # Taken off the queue as checked, so each example starts from empty queues.
                messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
                assert len(messages) == (1 if accepted else 0), (answer, messages)
                for message in messages:
                    assert json.loads(message["Body"])["object_id"] == answer["id"]
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

        run()
        # The fuzz must exercise the accepting path too, or it proves nothing about it.
        assert accepted_count["n"] >= EXAMPLES // 4, accepted_count
        assert sum(queue_depths(stack).values()) == 0
