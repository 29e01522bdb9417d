"""The connect function's promises, through the local stack over HTTP (the gateway, the function's worker
processes, the fakes' consent pages): a consent's state is refused when wrong, reused, expired or brought back by
another browser; an admin link when expired, reused or altered; a form without its CSRF token or with another
session's; one tenant's session never reads or changes another's; every table item holding a token or key holds
ciphertext only; the webhooks registered in the fake Acuity point at the tenant's own URL, once each; Acuity's
refusals are said in words; disconnecting revokes the grant at the ledger and keeps the sync records."""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest

from acuity_sync.connect.access import ADMIN_LINK_LIFETIME, Access
from acuity_sync.connect.ledgers import CONSENT_LIFETIME
from acuity_sync.secret import Secret
from acuity_sync.store.one_time import OneTimeKind, OneTimeValues, digest
from acuity_sync.store.tenants import TenantStore
from acuity_sync_toolkit.cli import main as cli
from acuity_sync_toolkit.fakes.acuity_admin import AcuityAdmin
from acuity_sync_toolkit.stack.connections import open_company
from acuity_sync_toolkit.stack.devstack import REGION, DevStack
from tests.support.bookings import booking
from tests.support.owner import Owner, form_fields
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("connect-security")]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    state_dir: Path = tmp_path_factory.mktemp("connect-security")
    with DevStack(state_dir=state_dir, time_scale=0.05, stack_name="connect-security") as dev:
        yield dev


@dataclass
class Business:
    tenant_id: str
    user_id: int
    api_key: str
    realm: str


def add_business(stack: DevStack, capsys: pytest.CaptureFixture[str], name: str) -> Business:
    assert stack.info is not None
    user_id = 800000 + secrets.randbelow(99999)
    api_key = f"key-{secrets.token_hex(8)}"
    with AcuityAdmin(stack.info.acuity_url) as acuity:
        acuity.create_account(user_id, api_key, name=name)
    realm = str(4620816370000000 + secrets.randbelow(999999))
    open_company(stack.quickbooks, realm, name=f"{name} Books")
    arguments = ["tenant", "add", "--name", name, "--acuity-user-id", str(user_id), "--acuity-api-key", api_key]
    assert cli([*arguments, "--dev-state", str(stack.state_dir / "dev.json")]) == 0, capsys.readouterr().err
    tenant_id = json.loads(capsys.readouterr().out)["tenant_id"]
    return Business(tenant_id, user_id, api_key, realm)


def admin_link(stack: DevStack, capsys: pytest.CaptureFixture[str], tenant_id: str) -> str:
    assert cli(["admin-link", "--tenant", tenant_id, "--dev-state", str(stack.state_dir / "dev.json")]) == 0
    return capsys.readouterr().out.strip()


def signed_in(stack: DevStack, capsys: pytest.CaptureFixture[str], tenant_id: str) -> Owner:
    owner = Owner()
    answer = owner.get(admin_link(stack, capsys, tenant_id))
    assert answer.status_code == 303
    assert answer.headers["location"] == "/connect"
    return owner


def pages(stack: DevStack) -> str:
    assert stack.info is not None
    return stack.info.pages_url


def consent_callback(owner: Owner, stack: DevStack, realm: str) -> str:
    """Start the QuickBooks consent and allow it at the fake Intuit: the callback URL it redirects to."""
    start = owner.get(f"{pages(stack)}/quickbooks")
    assert start.status_code == 303
    consent_page = owner.get(start.headers["location"])
    action, fields = form_fields(consent_page.text, "allow")
    decided = owner.post(f"{stack.quickbooks.url}{action}", {**fields, "company": realm})
    assert decided.status_code == 302
    return str(decided.headers["location"])


def aws(stack: DevStack, service: str) -> Any:
    assert stack.info is not None
    return boto3.client(service, endpoint_url=stack.info.aws_endpoint_url, region_name=REGION)  # type: ignore[call-overload]


def signing_access(stack: DevStack, clock: Any = time.time) -> Access:
    assert stack.info is not None
    key = aws(stack, "secretsmanager").get_secret_value(SecretId=stack.info.signing_secret_name)["SecretString"]
    return Access(Secret(key), OneTimeValues(aws(stack, "dynamodb"), stack.info.table_name), clock=clock)


# ------------------------------------------------------------------------------------------------ admin links


def test_an_admin_link_opens_once_and_leads_to_a_page_without_its_token(
    stack: DevStack, capsys: pytest.CaptureFixture[str]
) -> None:
    business = add_business(stack, capsys, "Link Studio")
    link = admin_link(stack, capsys, business.tenant_id)
    owner = Owner()
    opened = owner.get(link)
    assert opened.status_code == 303
    assert opened.headers["location"] == "/connect"
    (cookie,) = opened.headers.get_list("set-cookie")
    assert {"HttpOnly", "Secure", "SameSite=Lax", "Path=/connect"} <= {part.strip() for part in cookie.split(";")}
    page = owner.follow(opened)
    assert page.status_code == 200
    assert "Link Studio" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "script-src" not in page.headers["content-security-policy"]  # no script at all
    again = Owner().get(link)
    assert again.status_code == 403
    assert "used already" in again.text


def test_an_altered_or_expired_admin_link_is_refused(stack: DevStack, capsys: pytest.CaptureFixture[str]) -> None:
    business = add_business(stack, capsys, "Altered Studio")
    link = admin_link(stack, capsys, business.tenant_id)
    token = parse_qs(urlsplit(link).query)["token"][0]
    payload, rest = token.split(".", 1)
    other = add_business(stack, capsys, "Other Studio")
    forged = json.dumps({"t": other.tenant_id, "n": "x"}).encode()
    altered = base64.urlsafe_b64encode(forged).decode().rstrip("=") + "." + rest
    refused = Owner().get(link.replace(token, altered))
    assert refused.status_code == 403
    assert "not valid" in refused.text
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert Owner().get(link.replace(token, flipped)).status_code == 403
    assert payload  # the genuine link still opens (it was never used)
    assert Owner().get(link).status_code == 303
    past = time.time() - ADMIN_LINK_LIFETIME.total_seconds() - 60
    expired = signing_access(stack, clock=lambda: past).issue_link(
        business.tenant_id, pages(stack).removesuffix("/connect")
    )
    answer = Owner().get(expired)
    assert answer.status_code == 403
    assert "expired" in answer.text


# ------------------------------------------------------------------------------------------------ OAuth state


def test_a_wrong_reused_expired_or_foreign_state_is_refused(
    stack: DevStack, capsys: pytest.CaptureFixture[str]
) -> None:
    business = add_business(stack, capsys, "State Studio")
    owner = signed_in(stack, capsys, business.tenant_id)
    callback = consent_callback(owner, stack, business.realm)
    query = parse_qs(urlsplit(callback).query)
    assert query["realmId"] == [business.realm]
    wrong = owner.get(callback.replace(query["state"][0], "not-the-state"))
    assert wrong.status_code == 400
    assert "cannot be finished" in wrong.text
    stranger = Owner().get(callback)  # the right state, from a browser that did not start this consent
    assert stranger.status_code == 400
    # Taken once: the stranger used it up, so even its own browser cannot finish it now.
    assert owner.get(callback).status_code == 400

    callback = consent_callback(owner, stack, business.realm)
    connected = owner.get(callback)
    assert connected.status_code == 303
    assert connected.headers["location"].startswith("/connect?done=connected&ledger=quickbooks")
    reused = owner.get(callback)
    assert reused.status_code == 400

    # Expired: a state stored more than CONSENT_LIFETIME ago (its item still in the table: TTL deletes lazily).
    assert stack.info is not None
    binding = secrets.token_urlsafe(16)
    state = secrets.token_urlsafe(16)
    past = time.time() - CONSENT_LIFETIME.total_seconds() - 60
    old = OneTimeValues(aws(stack, "dynamodb"), stack.info.table_name, clock=lambda: datetime.fromtimestamp(past, UTC))
    old.put(
        OneTimeKind.OAUTH_STATE,
        state,
        {"tenant_id": business.tenant_id, "session_id": "s", "ledger": "quickbooks", "binding": digest(binding)},
        CONSENT_LIFETIME,
    )
    owner.cookies[("acuity_sync_consent", "/oauth")] = binding
    expired = owner.get(f"{pages(stack).removesuffix('/connect')}/oauth/quickbooks/callback?code=c&state={state}")
    assert expired.status_code == 400
    assert "expired" in expired.text


# ------------------------------------------------------------------------------------------------ CSRF and tenants


def test_forms_need_their_own_sessions_csrf_token(stack: DevStack, capsys: pytest.CaptureFixture[str]) -> None:
    business = add_business(stack, capsys, "Csrf Studio")
    owner = signed_in(stack, capsys, business.tenant_id)
    connected = owner.get(consent_callback(owner, stack, business.realm))
    page = owner.follow(connected)
    action, fields = form_fields(page.text, "settings-quickbooks")
    assert fields["csrf_token"]
    url = f"{pages(stack).removesuffix('/connect')}{action}"
    without = owner.post(url, {**{k: v for k, v in fields.items() if k != "csrf_token"}, "mode": "send"})
    assert without.status_code == 403
    other_session = signed_in(stack, capsys, business.tenant_id)  # the same tenant, another session
    _, other_fields = form_fields(other_session.get(pages(stack)).text, "settings-quickbooks")
    assert other_fields["csrf_token"] != fields["csrf_token"]
    foreign = owner.post(url, {**fields, "mode": "send", "csrf_token": other_fields["csrf_token"]})
    assert foreign.status_code == 403
    saved = owner.post(url, {**fields, "mode": "send"})
    assert saved.status_code == 303  # with its own token, from its own page: saved
    settings = owner.follow(saved)
    assert '<option value="send" selected>' in settings.text


def test_one_tenants_session_never_reaches_another_tenant(stack: DevStack, capsys: pytest.CaptureFixture[str]) -> None:
    first = add_business(stack, capsys, "First Studio")
    second = add_business(stack, capsys, "Second Studio")
    owner = signed_in(stack, capsys, first.tenant_id)
    page = owner.get(pages(stack))
    assert "First Studio" in page.text
    assert "Second Studio" not in page.text
    assert second.tenant_id not in page.text
    # A tenant id in the URL or the form is never read: the session's tenant is the only one.
    probe = owner.get(f"{pages(stack)}?tenant={second.tenant_id}")
    assert "First Studio" in probe.text
    assert "Second Studio" not in probe.text
    # A session cookie re-labelled for the other tenant is an altered cookie: no page.
    (name_path, value), *_ = [(key, v) for key, v in owner.cookies.items() if key[0] == "acuity_sync_session"]
    payload, signature = value.split(".", 1)
    document = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    document["t"] = second.tenant_id
    relabelled = base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")
    owner.cookies[name_path] = f"{relabelled}.{signature}"
    answer = owner.get(pages(stack))
    assert answer.status_code == 401
    assert "Second Studio" not in answer.text


# ------------------------------------------------------------------------------------------------ secrets at rest


def test_every_item_holding_a_token_or_key_holds_ciphertext_only(
    stack: DevStack, capsys: pytest.CaptureFixture[str]
) -> None:
    business = add_business(stack, capsys, "Cipher Studio")
    owner = signed_in(stack, capsys, business.tenant_id)
    assert owner.get(consent_callback(owner, stack, business.realm)).status_code == 303
    assert stack.info is not None
    plaintexts = {business.api_key, *stack.quickbooks.authority.tokens_issued()}
    plaintexts |= {stack.info.demo_tenant["acuity_api_key"]}
    items: list[dict[str, Any]] = []
    for page in aws(stack, "dynamodb").get_paginator("scan").paginate(TableName=stack.info.table_name):
        items.extend(page["Items"])
    secret_fields = ("access_token", "refresh_token", "acuity_api_key")
    holding = [item for item in items if any(field in item for field in secret_fields)]
    assert any(
        item["pk"]["S"] == f"TENANT#{business.tenant_id}" and item["sk"]["S"] == "CONN#quickbooks" for item in holding
    )
    for item in holding:
        for field in secret_fields:
            if field in item:
                assert set(item[field]) == {"B"}, f"{item['pk']['S']} {item['sk']['S']} {field} is not binary"
                blob = bytes(item[field]["B"])
                assert not any(text.encode() in blob for text in plaintexts)
    everything = json.dumps(items, default=lambda value: bytes(value).hex())
    leaked = [text for text in plaintexts if text in everything]
    assert leaked == []


# ------------------------------------------------------------------------------------------------ Acuity


def acuity_webhooks(stack: DevStack, business: Business) -> list[dict[str, Any]]:
    assert stack.info is not None
    listed: list[dict[str, Any]] = httpx.get(
        f"{stack.info.acuity_url}/api/v1/webhooks", auth=(str(business.user_id), business.api_key), timeout=10
    ).json()
    return listed


def test_the_webhooks_point_at_the_tenants_own_url_once_each(
    stack: DevStack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert stack.info is not None
    business = add_business(stack, capsys, "Hook Studio")
    hooks = acuity_webhooks(stack, business)
    own = f"{stack.info.webhook_base_url}{business.tenant_id}"
    assert sorted((hook["event"], hook["target"]) for hook in hooks) == [
        ("appointment.changed", own),
        ("order.completed", own),
    ]
    # Saving the account again on the page (the same key) registers nothing twice; the targets follow the page's
    # host, replacing ours that pointed elsewhere, and nobody else's subscription is touched.
    with AcuityAdmin(stack.info.acuity_url):
        httpx.post(
            f"{stack.info.acuity_url}/api/v1/webhooks",
            json={"event": "appointment.scheduled", "target": "https://elsewhere.example/hook"},
            auth=(str(business.user_id), business.api_key),
            timeout=10,
        ).raise_for_status()
    owner = signed_in(stack, capsys, business.tenant_id)
    _, fields = form_fields(owner.get(pages(stack)).text)
    for _ in range(2):
        saved = owner.post(
            f"{pages(stack)}/acuity",
            {
                "csrf_token": fields["csrf_token"],
                "acuity_user_id": str(business.user_id),
                "acuity_api_key": business.api_key,
            },
        )
        assert saved.status_code == 303, saved.text[:500]
    hooks = acuity_webhooks(stack, business)
    page_url = f"{pages(stack).removesuffix('/connect')}/webhooks/acuity/{business.tenant_id}"
    assert sorted((hook["event"], hook["target"]) for hook in hooks) == [
        ("appointment.changed", page_url),
        ("appointment.scheduled", "https://elsewhere.example/hook"),
        ("order.completed", page_url),
    ]


def test_acuity_refusals_are_said_in_words(stack: DevStack, capsys: pytest.CaptureFixture[str]) -> None:
    assert stack.info is not None
    business = add_business(stack, capsys, "Words Studio")
    owner = signed_in(stack, capsys, business.tenant_id)
    _, fields = form_fields(owner.get(pages(stack)).text)
    wrong = owner.post(
        f"{pages(stack)}/acuity",
        {"csrf_token": fields["csrf_token"], "acuity_user_id": str(business.user_id), "acuity_api_key": "wrong-key"},
    )
    assert wrong.status_code == 422
    assert "Acuity refused the user id" in wrong.text
    with AcuityAdmin(stack.info.acuity_url) as acuity:
        acuity.create_account(business.user_id + 1, "emerging-key", name="Small Plan", plan="Emerging")
    small = owner.post(
        f"{pages(stack)}/acuity",
        {
            "csrf_token": fields["csrf_token"],
            "acuity_user_id": str(business.user_id + 1),
            "acuity_api_key": "emerging-key",
        },
    )
    assert small.status_code == 422
    assert "plan may not include API access" in small.text
    profile = TenantStore(aws(stack, "dynamodb"), stack.info.table_name, stack_box(stack)).get(business.tenant_id)
    assert profile is not None
    assert profile.acuity_user_id == str(business.user_id)  # nothing was changed by a refused form


def stack_box(stack: DevStack) -> Any:
    from acuity_sync.store.kms import SecretBox

    assert stack.info is not None
    return SecretBox(aws(stack, "kms"), stack.info.kms_key_arn)


# ------------------------------------------------------------------------------------------------ disconnect


def test_disconnect_revokes_the_grant_removes_the_ledger_and_keeps_the_records(
    stack: DevStack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert stack.info is not None
    business = add_business(stack, capsys, "Leaving Studio")
    owner = signed_in(stack, capsys, business.tenant_id)
    page = owner.follow(owner.get(consent_callback(owner, stack, business.realm)))
    tenants = TenantStore(aws(stack, "dynamodb"), stack.info.table_name, stack_box(stack))
    profile = tenants.get(business.tenant_id)
    assert profile is not None
    assert profile.ledgers == ("quickbooks",)
    dynamodb = aws(stack, "dynamodb")
    table = stack.info.table_name
    with AcuityAdmin(stack.info.acuity_url) as acuity:
        booked = acuity.book_appointment(business.user_id, **booking(email="leaving@example.com"))
    record_key = {"pk": {"S": f"TENANT#{business.tenant_id}#quickbooks"}, "sk": {"S": f"APPT#{booked['id']}"}}

    def synced() -> bool:
        return "Item" in dynamodb.get_item(TableName=table, Key=record_key)

    wait_until(synced, 30.0, "the booking's sync record")
    authority = stack.quickbooks.authority
    granted = [
        token
        for token in authority.tokens_issued()
        if business.realm in stack.quickbooks.companies_of(authority.subject_of(token) or "")
    ]
    assert any(authority.check_access(token) for token in granted)
    _, fields = form_fields(page.text, None)
    gone = owner.post(f"{pages(stack)}/quickbooks/disconnect", {"csrf_token": fields["csrf_token"]})
    assert gone.status_code == 303
    assert "done=disconnected" in gone.headers["location"]
    profile = tenants.get(business.tenant_id)
    assert profile is not None
    assert profile.ledgers == ()
    # Revoked at Intuit: no token of the grant answers any more; the tokens are gone from the table.
    assert all(authority.check_access(token) is None for token in granted)
    connection = dynamodb.get_item(
        TableName=stack.info.table_name,
        Key={"pk": {"S": f"TENANT#{business.tenant_id}"}, "sk": {"S": "CONN#quickbooks"}},
    )
    assert "Item" not in connection
    assert synced()  # the sync record stays, for a later reconnect
    assert "not connected" in owner.follow(gone).text
