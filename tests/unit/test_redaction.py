from __future__ import annotations

import io
import json
import logging

from acuity_sync.observability import REDACTED, RedactingFormatter, redact
from acuity_sync.secret import Secret


def test_emails_are_masked_also_url_encoded() -> None:
    text = redact("GET /v3/query?query=select * from Customer where PrimaryEmailAddr = 'bob.mc+1@example.com'")
    assert "example.com" not in text
    assert REDACTED in text
    assert "bob%40example.com" not in redact("email=bob%40example.com")


def test_tokens_keys_and_signatures_are_masked() -> None:
    samples = {
        "Authorization: Bearer eyJhbGciOi.abc.def": "eyJhbGciOi",
        "Basic dXNlcjpwYXNz": "dXNlcjpwYXNz",
        '{"access_token": "at-123", "refresh_token":"rt-456"}': "at-123",
        "refresh_token=rt-456&grant_type=refresh_token": "rt-456",
        "x-acuity-signature: SL69nn4Oyb9YehPt6SLW/HcRJ47wowQLXaa08pOtjVw=": "SL69nn4O",
        "api_key=sk_live_abc": "sk_live_abc",
        "client_secret=shh": "shh",
    }
    for text, secret in samples.items():
        assert secret not in redact(text), text


def test_ordinary_text_is_left_alone() -> None:
    assert redact("queued for quickbooks, xero") == "queued for quickbooks, xero"


def test_the_formatter_redacts_messages_extras_and_exceptions() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter())
    log = logging.getLogger("redaction-test")
    log.addHandler(handler)
    log.propagate = False
    try:
        raise ValueError("refused for jane@example.com with access_token=abc123")
    except ValueError:
        log.exception("failed for %s", "jane@example.com", extra={"url": "https://x/?email=jane%40example.com"})
    line = stream.getvalue()
    assert "jane" not in line
    assert "abc123" not in line
    assert json.loads(line.splitlines()[0])["message"].startswith("failed for")


def test_a_secret_never_prints_its_value() -> None:
    secret = Secret("sk_live_123")
    assert "sk_live_123" not in repr(secret)
    assert "sk_live_123" not in f"{secret}"
    assert secret.reveal() == "sk_live_123"


def test_escaped_json_inside_a_log_line_stays_valid_and_masked() -> None:
    line = json.dumps({"statement": 'raise X("access_token=abc123")', "body": json.dumps({"refresh_token": "r1"})})
    masked = redact(line)
    decoded = json.loads(masked)
    assert "abc123" not in masked
    assert "r1" not in decoded["body"]


def test_a_python_repr_camel_case_names_and_quoted_values_are_masked() -> None:
    samples = {
        "{'refresh_token': 'rt-from-a-repr'}": "rt-from-a-repr",
        '{"accessToken": "at.camel.case"}': "at.camel.case",
        '{"refreshToken":"rt-camel"}': "rt-camel",
        "xeroAccessToken=at-prefixed": "at-prefixed",
        '{"client_secret": "two words"}': "words",
        '{"password": "with \\"escaped\\" quotes"}': "escaped",
        "Cookie: session=s3ss10n": "s3ss10n",
        "/callback?code=SplxlOBeZQQYbYS6WxSbIA&state=af0ifjsldkj": "SplxlOBeZQQYbYS6WxSbIA",
    }
    for text, secret in samples.items():
        assert secret not in redact(text), text
        assert REDACTED in redact(text), text


def test_emails_with_apostrophes_and_other_scripts_are_masked() -> None:
    for email in ("o'brien@example.com", "d'arcy.o'neil+spa@example.co.uk", "josé.núñez@exámple.com"):
        for text in (f"customer {email} booked", json.dumps({"email": email}), f"PrimaryEmailAddr = '{email}'"):
            masked = redact(text)
            assert "example" not in masked, masked
            assert "exámple" not in masked, masked
            assert email.split("@")[0].split("'")[-1] not in masked, masked


def test_status_and_error_codes_stay_readable() -> None:
    text = json.dumps(
        {"statusCode": 401, "error_code": "invalid_grant", "errorCode": "E42", "status_code": 429},
        separators=(",", ":"),
    )
    assert redact(text) == text
    # QuickBooks' fault: its number is what Intuit support asks for.
    fault = '{"Fault":{"Error":[{"Message":"Duplicate Name Exists Error","code":"6240"}]}}'
    assert redact(fault) == fault
    # Names that merely start like a secret's are not secrets.
    expiries = "access_token_expires_at=1700000000 x_refresh_token_expires_in=8726400"
    assert redact(expiries) == expiries


def test_what_the_other_parts_of_wave_2_added_is_masked() -> None:
    """The names the other parts of wave 2 added: the connect function's cookies, the admin link's
    token, OAuth's state, code and PKCE values, the settings page's CSRF token, a revoke request's token, and a
    booking's package or gift certificate code."""
    samples = {
        "Cookie: acuity_sync_session=s1gn3d.session.value; acuity_sync_consent=c0nsent-binding": "c0nsent-binding",
        "Set-Cookie: acuity_sync_session=s1gn3d.session.value; Path=/; HttpOnly": "s1gn3d",
        "GET /connect/enter?token=adm1n-l1nk-t0ken": "adm1n-l1nk-t0ken",
        "/oauth/xero/callback?code=4uth-c0de&state=st4te-v4lue": "st4te-v4lue",
        "code_verifier=v3rifier-v4lue&code_challenge=ch4llenge": "v3rifier-v4lue",
        "csrf_token=cs4f-f0rm-v4lue": "cs4f-f0rm-v4lue",
        "acuity_api_key=f0rm-k3y": "f0rm-k3y",
        '{"client_id": "id", "client_secret": "s3cr3t", "token": "r3voked-t0ken"}': "r3voked-t0ken",
        "GET /certificates/check?certificate=GIFT-ABC123": "GIFT-ABC123",
        '{"certificate": "PKG-10CLASS"}': "PKG-10CLASS",
    }
    for text, secret in samples.items():
        assert secret not in redact(text), text
    kept = '{"next_token": "page-2", "payload_key": "abc"}'
    assert redact(kept) == kept
