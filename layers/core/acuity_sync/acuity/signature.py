"""Acuity's webhook signature: base64(HMAC-SHA256(raw body bytes, API key)) in `X-Acuity-Signature`.

Always computed over the bytes as received: a parsed and re-serialised form can differ in order or escaping.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

SIGNATURE_HEADER = "x-acuity-signature"


def sign(body: bytes, api_key: str) -> str:
    digest = hmac.new(api_key.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_matches(body: bytes, api_key: str, presented: str | None) -> bool:
    """Constant-time comparison; a missing or non-ASCII header never matches."""
    if not presented or not presented.isascii():
        return False
    return hmac.compare_digest(sign(body, api_key).encode("ascii"), presented.strip().encode("ascii"))
