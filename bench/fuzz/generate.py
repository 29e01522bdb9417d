"""The fuzz bench's requests: HTTP API (payload 2.0) events for POST /webhooks/acuity/{tenant_id}, generated from a
seeded random.Random, and an oracle that says, independently of the product's code, whether an event carries a
correct Acuity signature for a tenant.

Each request is one of these families (weights in FAMILIES):

- acuity: a webhook as Acuity sends it (the bodies of ../shared/reference/acuity/webhook_bodies.txt with
  random ids), signed with the tenant's API key, with the headers API Gateway passes on. To a tenant with a
  ledger connected it is `genuine`: it must be accepted and queued once per connected ledger.
- near_miss: the same, then one thing wrong: another key, another tenant's key, a truncated, flipped, hex,
  URL-safe or unpadded signature, one over another body (a changed id, a byte added, fields reordered), over the
  base64 text, a missing or empty header, a signature sent to another tenant's address.
- body: arbitrary bytes, text, form soups, JSON, percent-encoding, duplicate fields; signed right half the time.
- size: bodies around the 8 KiB limit (both sides of it, raw and base64) and far above it, and empty ones.
- headers: Content-Type variants, header name case, many and odd extra headers, non-ASCII values, gzip.
- address: made-up, malformed, too long, unicode and traversal tenant ids; other methods and paths.
- encoding: isBase64Encoded missing or wrong, invalid base64, URL-safe base64, whitespace in base64.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import random
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

SIGNATURE = "x-acuity-signature"
FORM = "application/x-www-form-urlencoded"
MAX_BODY_BYTES = 8 * 1024  # the limit the function answers 413 above (acuity_sync.intake.MAX_BODY_BYTES)
ROUTE_KEY = "POST /webhooks/acuity/{tenant_id}"
PREFIX = "/webhooks/acuity/"

# ../shared/reference/acuity/webhook_bodies.txt: what Acuity POSTs, ids replaced by placeholders.
ACUITY_BODIES = (
    "action=scheduled&id={id}&calendarID={calendar}&appointmentTypeID={type}",
    "action=rescheduled&id={id}&calendarID={calendar}&appointmentTypeID={type}",
    "action=canceled&id={id}&calendarID={calendar}&appointmentTypeID={type}",
    "action=changed&id={id}&calendarID={calendar}&appointmentTypeID={type}",
    "action=appointment.scheduled&id={id}&calendarID={calendar}&appointmentTypeID={type}",
    "action=appointment.rescheduled&id={id}&calendarID={calendar}&appointmentTypeID={type}",
    "action=appointment.canceled&id={id}&calendarID={calendar}&appointmentTypeID={type}",
    "action=appointment.changed&id={id}&calendarID={calendar}&appointmentTypeID={type}",
    "action=order.completed&id={id}",
)
ODD_ACTIONS = (
    "",
    "noshow",
    "SCHEDULED",
    "changed\x00",
    "appointment.",
    "order.",
    "order.refunded",
    "scheduled ",
    "appointment.appointment.scheduled",
    "%73cheduled",
    "scheduled;rm -rf /",
    "\u0455cheduled",
    "x" * 300,
)
CONTENT_TYPES = (
    FORM,
    FORM,
    FORM + "; charset=utf-8",
    FORM + ";charset=UTF-8",
    "Application/X-WWW-Form-Urlencoded",
    " application/x-www-form-urlencoded ",
    "application/json",
    "text/plain",
    "multipart/form-data; boundary=xyz",
    "",
    "application/x-www-form-urlencoded\x00",
    "application/x-www-form-urlencoded; charset=latin-1",
    "application/x-www-form-urlencodedX",
    "*/*",
)
USER_AGENTS = ("Acuity-Webhooks/1.0", "curl/8.5.0", "", "Mozilla/5.0", "\u00e9\u00e8")
HEADER_NAME_CHARS = string.ascii_letters + string.digits + "-_!#$%&'*+.^`|~"
TEXT_ALPHABET = string.printable + "\u00e9\u00fc\u4e2d\u6587\U0001f600\u0000\u200b\ufeff\u202e"


@dataclass(frozen=True, slots=True)
class Tenant:
    tenant_id: str
    api_key: str
    ledgers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Case:
    family: str
    event: dict[str, Any]
    genuine: bool  # exactly as Acuity sends it, to a tenant with a ledger connected: must be accepted


def acuity_signature(body: bytes, api_key: str) -> str:
    """base64(HMAC-SHA256(body, key)), written here again rather than imported, so that the oracle is not the
    code under test."""
    return base64.b64encode(hmac.new(api_key.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


# ------------------------------------------------------------------------------------------------ the oracle


def delivered_body(event: Mapping[str, Any]) -> bytes | None:
    """The bytes the sender sent, as API Gateway's event gives them; None when the event's body cannot be read."""
    body = event.get("body") or ""
    if not isinstance(body, str):
        return None
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except ValueError:
            return None
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError:
        return None


def presented_signatures(event: Mapping[str, Any]) -> list[str]:
    headers = event.get("headers")
    if not isinstance(headers, Mapping):
        return []
    return [
        value.strip() for name, value in headers.items() if isinstance(value, str) and str(name).lower() == SIGNATURE
    ]


def correctly_signed(event: Mapping[str, Any], tenant: Tenant) -> bool:
    """Does the event carry, under any spelling of the header's name, the signature Acuity would give its body
    with this tenant's key (and is the body within the size the function reads)?"""
    body = delivered_body(event)
    if body is None or len(body) > MAX_BODY_BYTES:
        return False
    expected = acuity_signature(body, tenant.api_key).encode("ascii")
    return any(
        value.isascii() and hmac.compare_digest(expected, value.encode("ascii"))
        for value in presented_signatures(event)
    )


def addressed_tenant(event: Mapping[str, Any]) -> str | None:
    """The tenant id of the address the request was sent to, when it is the webhook's route."""
    context = event.get("requestContext") or {}
    method = ((context.get("http") or {}).get("method") or "").upper()
    path = event.get("rawPath") or ""
    if method != "POST" or not path.startswith(PREFIX):
        return None
    segment = path.removeprefix(PREFIX)
    return unquote(segment) if segment and "/" not in segment else None


# ------------------------------------------------------------------------------------------------ the generator


class Generator:
    """Cases from a seeded random.Random: the same seed gives the same requests (request ids apart)."""

    def __init__(self, rng: random.Random, tenants: list[Tenant], unknown: list[str]) -> None:
        self._rng = rng
        self._tenants = tenants
        self._with_ledgers = [tenant for tenant in tenants if tenant.ledgers]
        self._unknown = unknown
        self._number = 0
        self._families: list[tuple[str, int, Callable[[], Case]]] = [
            ("acuity", 30, self._acuity),
            ("near_miss", 22, self._near_miss),
            ("body", 18, self._body),
            ("size", 8, self._size),
            ("headers", 12, self._headers),
            ("address", 6, self._address),
            ("encoding", 4, self._encoding),
        ]
        self._weights = [weight for _, weight, _ in self._families]

    def __next__(self) -> Case:
        (_, _, make) = self._rng.choices(self._families, weights=self._weights)[0]
        return make()

    def __iter__(self) -> Generator:
        return self

    # ---------------------------------------------------------------- pieces

    def _acuity_body(self) -> bytes:
        rng = self._rng
        template = rng.choice(ACUITY_BODIES)
        return template.format(
            id=rng.choice([rng.randint(1, 10**9), rng.randint(1, 10**12), rng.randint(1, 2**63 - 1)]),
            calendar=rng.randint(1, 10**6),
            type=rng.randint(1, 10**6),
        ).encode("ascii")

    def _text(self, max_size: int) -> str:
        rng = self._rng
        return "".join(rng.choice(TEXT_ALPHABET) for _ in range(rng.randint(0, max_size)))

    def _binary(self, max_size: int) -> bytes:
        return self._rng.randbytes(self._rng.randint(0, max_size))

    def _form_soup(self) -> bytes:
        rng = self._rng
        names = ["action", "id", "calendarID", "appointmentTypeID", "x", "", "ACTION", "id[]", "action%00", "&", "="]
        values = [
            lambda: rng.choice(ODD_ACTIONS + tuple(body.split("&", 1)[0][7:] for body in ACUITY_BODIES)),
            lambda: str(rng.randint(-(10**6), 10**22)),
            lambda: rng.choice(["", " 1", "1 ", "0x1F", "1e3", "\u0661\u0662", "+5", "99999999999999999999", "-0"]),
            lambda: self._text(12),
            lambda: quote(self._text(8)),
        ]
        fields = [f"{rng.choice(names)}={rng.choice(values)()}" for _ in range(rng.randint(0, 7))]
        separator = rng.choice(["&", "&", "&", ";", "&&", "\n"])
        return separator.join(fields).encode("utf-8", "surrogatepass")

    def _tenant(self) -> Tenant:
        return self._rng.choice(self._tenants)

    def _signature_header_name(self) -> str:
        rng = self._rng
        roll = rng.random()
        if roll < 0.7:
            return SIGNATURE  # API Gateway's payload 2.0 gives header names in lower case
        if roll < 0.85:
            return "X-Acuity-Signature"
        return "".join(c.upper() if rng.random() < 0.5 else c for c in SIGNATURE)

    def _base_headers(self) -> dict[str, str]:
        rng = self._rng
        headers = {"content-type": FORM, "user-agent": "Acuity-Webhooks/1.0"}
        if rng.random() < 0.5:
            headers |= {
                "accept-encoding": "gzip, deflate",
                "x-forwarded-for": f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.1",
                "x-forwarded-proto": "https",
                "x-amzn-trace-id": f"Root=1-{rng.getrandbits(32):08x}-{rng.getrandbits(96):024x}",
            }
        return headers

    def _event(
        self,
        tenant_segment: str,
        body: bytes,
        headers: dict[str, Any] | None,
        *,
        base64_encoded: bool,
        method: str = "POST",
        path: str | None = None,
    ) -> dict[str, Any]:
        """API Gateway's event; a text body (base64_encoded False) is given as a JSON string, so that bytes which
        are not UTF-8 arrive replaced, as they would."""
        self._number += 1
        raw_path = path if path is not None else PREFIX + tenant_segment
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": ROUTE_KEY,
            "rawPath": raw_path,
            "rawQueryString": "",
            "headers": headers,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "fuzz",
                "domainName": "fuzz.execute-api.us-east-1.amazonaws.com",
                "domainPrefix": "fuzz",
                "http": {
                    "method": method,
                    "path": raw_path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "198.51.100.7",
                    "userAgent": "Acuity-Webhooks/1.0",
                },
                "requestId": f"fuzz-{self._number}-{self._rng.getrandbits(40):010x}=",
                "routeKey": ROUTE_KEY,
                "stage": "$default",
                "time": "28/Nov/2026:12:00:00 +0000",
                "timeEpoch": 1795867200000 + self._number,
            },
            "pathParameters": {"tenant_id": unquote(tenant_segment)},
            "isBase64Encoded": base64_encoded,
        }
        if headers is None:
            del event["headers"]
        if body:
            event["body"] = base64.b64encode(body).decode() if base64_encoded else body.decode("utf-8", "replace")
        return event

    def _signed_event(
        self, tenant: Tenant, body: bytes, *, key: str | None = None, base64_encoded: bool | None = None
    ) -> dict[str, Any]:
        """An event for `tenant` whose signature is right for the bytes the function will read."""
        encoded = self._rng.random() < 0.8 if base64_encoded is None else base64_encoded
        if not encoded:
            body = body.decode("utf-8", "replace").encode("utf-8")
        headers = self._base_headers()
        headers[self._signature_header_name()] = acuity_signature(body, key or tenant.api_key)
        return self._event(tenant.tenant_id, body, headers, base64_encoded=encoded)

    # ---------------------------------------------------------------- families

    def _acuity(self) -> Case:
        tenant = self._tenant()
        event = self._signed_event(tenant, self._acuity_body())
        return Case("acuity", event, genuine=bool(tenant.ledgers))

    def _near_miss(self) -> Case:
        tenant = self._rng.choice(self._with_ledgers)
        body = self._acuity_body()
        event = self._signed_event(tenant, body, base64_encoded=True)
        if self._rng.random() < 0.7:
            self._wrong_signature(event, tenant, body)
        else:
            self._wrong_request(event, tenant, body)
        return Case("near_miss", event, genuine=False)

    def _wrong_signature(self, event: dict[str, Any], tenant: Tenant, body: bytes) -> None:
        """The signature header changed: another key, a damaged or differently written signature, none."""
        rng = self._rng
        headers: dict[str, Any] = event["headers"]
        name = next(name for name in headers if name.lower() == SIGNATURE)
        right: str = headers[name]
        other = rng.choice([t for t in self._tenants if t is not tenant])
        position = rng.randrange(len(right))
        flipped = rng.choice([c for c in string.ascii_letters + "+/" if c != right[position]])
        choices: list[Callable[[], str | None]] = [
            lambda: acuity_signature(body, tenant.api_key + "x"),
            lambda: acuity_signature(body, other.api_key),
            lambda: right[: rng.randint(0, len(right) - 1)],
            lambda: right[:position] + flipped + right[position + 1 :],
            lambda: hmac.new(tenant.api_key.encode(), body, hashlib.sha256).hexdigest(),
            lambda: base64.urlsafe_b64encode(base64.b64decode(right)).decode().rstrip("="),
            lambda: acuity_signature(event["body"].encode(), tenant.api_key),  # over the base64 text
            lambda: None,
            lambda: rng.choice(["", " ", "null", "sha256=" + right, right + right, "\u00e9" + right[1:]]),
            lambda: right.lower() if right.lower() != right else right.upper(),
            lambda: f"  {right}\t",  # surrounding whitespace: still the right signature
        ]
        value = rng.choice(choices)()
        if value is None:
            del headers[name]
        else:
            headers[name] = value

    def _wrong_request(self, event: dict[str, Any], tenant: Tenant, body: bytes) -> None:
        """The signature right, for another body or another address."""
        rng = self._rng
        mutation = rng.randrange(5)
        if mutation == 0:
            event["body"] = base64.b64encode(body.replace(b"id=", b"id=1", 1)).decode()
        elif mutation == 1:
            event["body"] = base64.b64encode(body + rng.choice([b"&", b"\n", b" ", b"\x00", b"&x=1"])).decode()
        elif mutation == 2:
            fields = body.split(b"&")
            rng.shuffle(fields)
            if fields == body.split(b"&"):
                fields.append(b"")
            event["body"] = base64.b64encode(b"&".join(fields)).decode()
        elif mutation == 3:
            # Right for this tenant, sent to another tenant's address (or a made-up one).
            segment = rng.choice([t.tenant_id for t in self._tenants if t is not tenant] + self._unknown)
            event["rawPath"] = event["requestContext"]["http"]["path"] = PREFIX + segment
            event["pathParameters"] = {"tenant_id": segment}
        else:
            # Two spellings of the header, the second wrong (API Gateway would join them; the sender controls it).
            headers: dict[str, Any] = event["headers"]
            name = next(name for name in headers if name.lower() == SIGNATURE)
            headers["X-ACUITY-SIGNATURE" if name != "X-ACUITY-SIGNATURE" else SIGNATURE] = acuity_signature(b"", "k")

    def _body(self) -> Case:
        rng = self._rng
        tenant = self._tenant()
        kind = rng.randrange(7)
        if kind == 0:
            body = self._binary(600)
        elif kind == 1:
            body = self._text(300).encode("utf-8", "surrogatepass")
        elif kind == 2:
            body = self._form_soup()
        elif kind == 3:
            body = json.dumps({"action": rng.choice(["scheduled", "changed"]), "id": rng.randint(1, 10**9)}).encode()
        elif kind == 4:
            body = quote(self._acuity_body().decode(), safe=rng.choice(["", "=", "&", "=&"])).encode()
        elif kind == 5:
            action = rng.choice(ODD_ACTIONS)
            body = f"action={quote(action)}&id={rng.randint(0, 10**9)}".encode()
        else:
            first, second = self._acuity_body(), self._acuity_body()
            body = first + b"&" + second  # two actions and ids
        if rng.random() < 0.5:
            event = self._signed_event(tenant, body)
        else:
            headers = self._base_headers()
            headers[SIGNATURE] = rng.choice(
                [acuity_signature(body, "not-the-key"), base64.b64encode(rng.randbytes(32)).decode()]
            )
            event = self._event(tenant.tenant_id, body, headers, base64_encoded=rng.random() < 0.8)
        return Case("body", event, genuine=False)

    def _size(self) -> Case:
        rng = self._rng
        tenant = rng.choice(self._with_ledgers)
        head = self._acuity_body() + b"&pad="
        target = rng.choice(
            [
                0,
                MAX_BODY_BYTES - 1,
                MAX_BODY_BYTES,
                MAX_BODY_BYTES + 1,
                (MAX_BODY_BYTES + 2) // 3 * 3,  # the longest whose base64 passes the handler's length check
                (MAX_BODY_BYTES + 2) // 3 * 3 + 1,
                rng.randint(100, MAX_BODY_BYTES),
                rng.randint(MAX_BODY_BYTES, 4 * MAX_BODY_BYTES),
                rng.choice([64 * 1024, 256 * 1024, 1024 * 1024]) if rng.random() < 0.05 else 20_000,
            ]
        )
        body = b"" if target == 0 else head + b"x" * max(0, target - len(head))
        event = self._signed_event(tenant, body, base64_encoded=rng.random() < 0.7)
        fits = 0 < len(delivered_body(event) or b"") <= MAX_BODY_BYTES
        return Case("size", event, genuine=fits)

    def _headers(self) -> Case:
        rng = self._rng
        tenant = self._tenant()
        body = self._acuity_body()
        encoded = rng.random() < 0.7
        if not encoded:
            body = body.decode().encode()
        headers: dict[str, Any] = {}
        content_type = rng.choice((*CONTENT_TYPES, self._text(40), None))
        if content_type is not None:
            headers[rng.choice(["content-type", "Content-Type", "CONTENT-TYPE"])] = content_type
        for _ in range(rng.choice([0, 1, 3, 10, 60])):
            name = "".join(rng.choice(HEADER_NAME_CHARS) for _ in range(rng.randint(1, 30)))
            headers[name] = rng.choice([self._text(60), "x" * rng.randint(0, 8000), ""])
        headers["user-agent"] = rng.choice(USER_AGENTS)
        gzipped = rng.random() < 0.1
        if gzipped:
            body, encoded = gzip.compress(body), True
            headers["content-encoding"] = "gzip"
        signing = rng.randrange(4)
        if signing < 2:
            headers[self._signature_header_name()] = acuity_signature(body, tenant.api_key)
        elif signing == 2:
            headers[SIGNATURE] = self._text(50)
        if rng.random() < 0.05:
            headers = {}
        event = self._event(tenant.tenant_id, body, None if rng.random() < 0.03 else headers, base64_encoded=encoded)
        return Case("headers", event, genuine=False)

    def _address(self) -> Case:
        rng = self._rng
        tenant = self._tenant()
        segment = rng.choice(
            [
                *self._unknown,
                "",
                "..",
                "..%2F..%2Fetc%2Fpasswd",
                "x" * 65,
                "x" * 15,
                "x" * 300,
                tenant.tenant_id.upper(),
                tenant.tenant_id + "%00",
                tenant.tenant_id + " ",
                quote(self._text(20), safe=""),
                "%E2%80%AE" + tenant.tenant_id,
                "%",
                "%ZZ",
            ]
        )
        body = self._acuity_body()
        headers = self._base_headers()
        headers[SIGNATURE] = acuity_signature(body, tenant.api_key)
        method, path = "POST", None
        roll = rng.random()
        if roll < 0.2:
            method = rng.choice(["GET", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH", "post"])
            segment = tenant.tenant_id
        elif roll < 0.35:
            path = rng.choice(
                [
                    "/",
                    "/webhooks/acuity",
                    "/webhooks/acuity/",
                    f"/webhooks/acuity/{tenant.tenant_id}/",
                    f"/webhooks/acuity/{tenant.tenant_id}/extra",
                    f"//webhooks/acuity/{tenant.tenant_id}",
                    f"/WEBHOOKS/acuity/{tenant.tenant_id}",
                    f"/webhooks/acuity/{tenant.tenant_id}?x=1",
                    f"/webhooks/acuity/{tenant.tenant_id}#frag",
                ]
            )
        event = self._event(segment, body, headers, base64_encoded=True, method=method, path=path)
        return Case("address", event, genuine=False)

    def _encoding(self) -> Case:
        rng = self._rng
        tenant = rng.choice(self._with_ledgers)
        body = self._acuity_body()
        event = self._signed_event(tenant, body, base64_encoded=True)
        kind = rng.randrange(6)
        if kind == 0:
            del event["isBase64Encoded"]  # the base64 text is then read as the body itself
        elif kind == 1:
            event["isBase64Encoded"] = False
        elif kind == 2:
            event["body"] = event["body"][: rng.randint(0, len(event["body"]) - 1)] + rng.choice(["", "!", "=", "*"])
        elif kind == 3:
            event["body"] = base64.urlsafe_b64encode(body).decode().rstrip("=")
        elif kind == 4:
            text = event["body"]
            at = rng.randrange(len(text))
            event["body"] = text[:at] + rng.choice([" ", "\n", "\r\n", "\t"]) + text[at:]
        else:
            event["isBase64Encoded"] = rng.choice(["true", 1, None, "false"])
        return Case("encoding", event, genuine=False)
