"""bench/fuzz's generator and oracle: the bench's zeros mean something only if its oracle tells a correctly signed
request from the rest (independently of the product's code) and its tally counts what it must."""

from __future__ import annotations

import base64
import json
import random
from collections import Counter

from acuity_sync.acuity.signature import sign
from bench.fuzz.generate import Case, Generator, addressed_tenant, correctly_signed, delivered_body
from bench.fuzz.run import TENANTS, UNKNOWN_TENANTS, Sent, Tally, check

ALL, ONE, NONE = TENANTS
BODY = b"action=scheduled&id=54321&calendarID=27238&appointmentTypeID=1"


def event(tenant_id: str, body: bytes, headers: dict[str, str], *, base64_encoded: bool = True) -> dict[str, object]:
    return {
        "rawPath": f"/webhooks/acuity/{tenant_id}",
        "requestContext": {"http": {"method": "POST"}},
        "headers": headers,
        "isBase64Encoded": base64_encoded,
        "body": base64.b64encode(body).decode() if base64_encoded else body.decode(),
    }


def cases(count: int, seed: int = 7) -> list[Case]:
    generator = Generator(random.Random(seed), TENANTS, UNKNOWN_TENANTS)
    return [next(generator) for _ in range(count)]


def test_the_oracle_agrees_with_acuitys_signature_under_any_spelling_of_the_header() -> None:
    for name in ("x-acuity-signature", "X-Acuity-Signature", "X-ACUITY-signature"):
        assert correctly_signed(event(ALL.tenant_id, BODY, {name: sign(BODY, ALL.api_key)}), ALL)
    assert correctly_signed(event(ALL.tenant_id, BODY, {"x-acuity-signature": f" {sign(BODY, ALL.api_key)} "}), ALL)
    text = event(ALL.tenant_id, BODY, {"x-acuity-signature": sign(BODY, ALL.api_key)}, base64_encoded=False)
    assert correctly_signed(text, ALL)


def test_the_oracle_refuses_another_key_body_tenant_or_a_missing_header() -> None:
    right = sign(BODY, ALL.api_key)
    assert not correctly_signed(event(ALL.tenant_id, BODY, {"x-acuity-signature": right}), ONE)
    assert not correctly_signed(event(ALL.tenant_id, BODY, {"x-acuity-signature": sign(BODY, ONE.api_key)}), ALL)
    assert not correctly_signed(event(ALL.tenant_id, BODY + b"&", {"x-acuity-signature": right}), ALL)
    assert not correctly_signed(event(ALL.tenant_id, BODY, {"x-acuity-signature": right[:-2]}), ALL)
    assert not correctly_signed(event(ALL.tenant_id, BODY, {"x-signature": right}), ALL)
    over_text = event(ALL.tenant_id, BODY, {})
    over_text["headers"] = {"x-acuity-signature": sign(str(over_text["body"]).encode(), ALL.api_key)}
    assert not correctly_signed(over_text, ALL)
    big = BODY + b"&pad=" + b"x" * 9000
    assert not correctly_signed(event(ALL.tenant_id, big, {"x-acuity-signature": sign(big, ALL.api_key)}), ALL)


def test_the_generator_makes_every_family_and_genuine_webhooks_that_are_signed() -> None:
    generated = cases(3000)
    families = Counter(case.family for case in generated)
    assert set(families) == {"acuity", "near_miss", "body", "size", "headers", "address", "encoding"}, families
    genuine = [case for case in generated if case.genuine]
    assert len(genuine) > 600
    for case in genuine:
        tenant = next(tenant for tenant in TENANTS if tenant.tenant_id == addressed_tenant(case.event))
        assert tenant.ledgers
        assert correctly_signed(case.event, tenant), case.event
    signed = sum(
        1
        for case in generated
        for tenant in TENANTS
        if tenant.tenant_id == addressed_tenant(case.event) and correctly_signed(case.event, tenant)
    )
    unsigned = len(generated) - signed
    # both sides of the line, in numbers
    assert signed > 1000, (signed, unsigned)
    assert unsigned > 1000, (signed, unsigned)
    assert any(len(delivered_body(case.event) or b"") > 8192 for case in generated)


def queued(tenant_id: str, object_id: int, ledger: str) -> Sent:
    body = json.dumps({"tenant_id": tenant_id, "object_id": object_id, "kind": "appointment"})
    return Sent(f"https://queue/{ledger}", body, f"{tenant_id}#appointment#{object_id}", "request-1")


QUEUES = {f"https://queue/{ledger}": ledger for ledger in ("quickbooks", "xero", "freshbooks")}
ACCEPTED = {"statusCode": 200, "body": json.dumps({"outcome": "accepted"})}


def test_the_tally_counts_a_message_queued_for_an_unsigned_request_and_a_5xx() -> None:
    wrong = Case("near_miss", event(ONE.tenant_id, BODY, {"x-acuity-signature": sign(BODY, "other")}), genuine=False)
    tally = Tally()
    check(tally, wrong, ACCEPTED, [queued(ONE.tenant_id, 54321, "xero")], QUEUES)
    assert (tally.unsigned_queued, tally.accepted) == (1, 1)
    check(tally, wrong, {"statusCode": 502, "body": "{}"}, [], QUEUES)
    assert tally.server_errors == 1
    assert tally.requests == 2


def test_the_tally_counts_messages_that_are_not_what_the_signed_request_said() -> None:
    signed = Case("acuity", event(ONE.tenant_id, BODY, {"x-acuity-signature": sign(BODY, ONE.api_key)}), genuine=True)
    tally = Tally()
    check(tally, signed, ACCEPTED, [queued(ONE.tenant_id, 54321, "xero")], QUEUES)
    assert (tally.wrong_messages, tally.unsigned_queued, tally.genuine_refused) == (0, 0, 0)
    check(tally, signed, ACCEPTED, [queued(ONE.tenant_id, 1, "xero")], QUEUES)  # another object id
    check(tally, signed, ACCEPTED, [queued(ONE.tenant_id, 54321, "quickbooks")], QUEUES)  # a ledger not connected
    check(tally, signed, ACCEPTED, [], QUEUES)  # accepted, nothing queued
    assert tally.wrong_messages == 3
    check(tally, signed, {"statusCode": 401, "body": json.dumps({"outcome": "rejected_signature"})}, [], QUEUES)
    assert tally.genuine_refused == 1
