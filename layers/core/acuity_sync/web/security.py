"""What every page answer carries: a strict Content-Security-Policy (no script at all; the one stylesheet is inline
and allowed by its hash; forms post only to us; never framed), Referrer-Policy no-referrer (an admin link or a
consent's code never leaks through a Referer), no caching, no sniffing. And the cookies, written here only:
HttpOnly, Secure, SameSite=Lax, each limited to the paths that read it."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from importlib.resources import files

CSS = (files("acuity_sync.web") / "templates" / "style.css").read_text(encoding="utf-8")
_CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode("utf-8")).digest()).decode("ascii")

CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

SESSION_COOKIE = "acuity_sync_session"
SESSION_PATH = "/connect"  # every page and form; never the webhooks
CONSENT_COOKIE = "acuity_sync_consent"
CONSENT_PATH = "/oauth"  # the consents' callbacks only


@dataclass(frozen=True, slots=True)
class SetCookie:
    """A cookie to set: always HttpOnly, Secure and SameSite=Lax; Max-Age 0 clears it."""

    name: str
    value: str
    path: str
    max_age: int

    def __str__(self) -> str:
        return f"{self.name}={self.value}; Path={self.path}; Max-Age={self.max_age}; HttpOnly; Secure; SameSite=Lax"


def set_cookie(name: str, value: str, path: str, max_age: int) -> SetCookie:
    return SetCookie(name, value, path, max_age)


def clear_cookie(name: str, path: str) -> SetCookie:
    return SetCookie(name, "", path, 0)
