"""Signature vectors. Expected values were computed independently with
`printf '%s' BODY | openssl dgst -sha256 -hmac KEY -binary | base64`."""

from __future__ import annotations

import base64

import pytest

from acuity_sync.acuity.signature import sign, signature_matches

KEY = "abc123-API-KEY"
SCHEDULED = b"action=scheduled&id=54321&calendarID=27238&appointmentTypeID=1"
SCHEDULED_SIGNATURE = "SL69nn4Oyb9YehPt6SLW/HcRJ47wowQLXaa08pOtjVw="
ORDER = b"action=order.completed&id=1234"
ORDER_SIGNATURE = "b9l91ssz4AfTW6nGjlaJlfPHRUee+6lWEKIKDhOsZVw="
EMPTY_SIGNATURE = "FkmRRwZcNcednyQYlixsYpJ71cOzVnVmXc8y2bk9zps="


@pytest.mark.parametrize(
    ("body", "expected"), [(SCHEDULED, SCHEDULED_SIGNATURE), (ORDER, ORDER_SIGNATURE), (b"", EMPTY_SIGNATURE)]
)
def test_sign_matches_openssl(body: bytes, expected: str) -> None:
    assert sign(body, KEY) == expected
    assert signature_matches(body, KEY, expected)


def test_right_key_matches_and_wrong_key_does_not() -> None:
    assert signature_matches(SCHEDULED, KEY, SCHEDULED_SIGNATURE)
    assert not signature_matches(SCHEDULED, "another-key", SCHEDULED_SIGNATURE)


def test_a_tampered_byte_fails() -> None:
    for index in range(len(SCHEDULED)):
        tampered = bytearray(SCHEDULED)
        tampered[index] ^= 0x01
        assert not signature_matches(bytes(tampered), KEY, SCHEDULED_SIGNATURE), index


def test_fields_reordered_fail_because_the_raw_bytes_are_signed() -> None:
    reordered = b"id=54321&action=scheduled&calendarID=27238&appointmentTypeID=1"
    assert not signature_matches(reordered, KEY, SCHEDULED_SIGNATURE)


def test_empty_body_is_signed_like_any_other() -> None:
    assert signature_matches(b"", KEY, EMPTY_SIGNATURE)
    assert not signature_matches(b"", KEY, SCHEDULED_SIGNATURE)


@pytest.mark.parametrize(
    "presented",
    [
        None,
        "",
        SCHEDULED_SIGNATURE[:-1],
        SCHEDULED_SIGNATURE[:20],
        SCHEDULED_SIGNATURE.lower(),
        "é" + SCHEDULED_SIGNATURE,
        base64.b64encode(b"\x00" * 32).decode(),
    ],
)
def test_missing_truncated_or_mangled_signatures_fail(presented: str | None) -> None:
    assert not signature_matches(SCHEDULED, KEY, presented)


def test_surrounding_whitespace_in_the_header_is_tolerated() -> None:
    assert signature_matches(SCHEDULED, KEY, f" {SCHEDULED_SIGNATURE} ")


# A key with Latin, Cyrillic and CJK letters, computed with OpenSSL 3.0; the key's UTF-8 bytes are handed to openssl
# as hex, so that the vector does not depend on the shell's locale:
#   printf '%s' 'action=appointment.scheduled&id=987654&calendarID=1&appointmentTypeID=2' \
#     | openssl dgst -sha256 -mac HMAC -macopt hexkey:636cc3a92dd0bad0bbd18ed1872de98db5 -binary | base64
#   (the hex key: printf '%s' 'clé-ключ-鍵' | od -An -tx1 | tr -d ' \n')
NON_ASCII_KEY = "clé-ключ-鍵"
NON_ASCII_KEY_UTF8_HEX = "636cc3a92dd0bad0bbd18ed1872de98db5"
NON_ASCII_BODY = b"action=appointment.scheduled&id=987654&calendarID=1&appointmentTypeID=2"
NON_ASCII_SIGNATURE = "f52/PHyM6y1b84eIwYuO87tdkasU+0w9K1BSARXjnr4="


def test_a_non_ascii_key_is_used_as_utf8() -> None:
    assert NON_ASCII_KEY.encode("utf-8").hex() == NON_ASCII_KEY_UTF8_HEX  # the bytes openssl was given
    assert sign(NON_ASCII_BODY, NON_ASCII_KEY) == NON_ASCII_SIGNATURE
    assert signature_matches(NON_ASCII_BODY, NON_ASCII_KEY, NON_ASCII_SIGNATURE)
    # Neither the key without its accents nor its Latin-1 reading (what a bytes-for-characters slip gives) matches.
    assert not signature_matches(NON_ASCII_BODY, "cle-ключ-鍵", NON_ASCII_SIGNATURE)
    latin1_reading = NON_ASCII_KEY.encode("utf-8").decode("latin-1")
    assert not signature_matches(NON_ASCII_BODY, latin1_reading, NON_ASCII_SIGNATURE)
