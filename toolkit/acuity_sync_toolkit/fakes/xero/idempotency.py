"""Xero's Idempotency-Key (research A3): kept 6 minutes from the first call, per tenant; the same key with the same
method, URL and body gets the first answer again; with a different request it is a 400. At most 128 characters.
A refused write (4xx/5xx) is not kept, so a corrected retry with the same key is carried out."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.httpserver import Response

KEEP_SECONDS = 6 * 60.0
MAX_KEY_LENGTH = 128


@dataclass(frozen=True, slots=True)
class _Kept:
    fingerprint: str
    response: Response
    at: float


class IdempotencyStore:
    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._kept: dict[tuple[str, str], _Kept] = {}

    @staticmethod
    def fingerprint(method: str, url: str, body: bytes) -> str:
        return hashlib.sha256(b"\n".join([method.encode(), url.encode(), body])).hexdigest()

    def lookup(self, tenant_id: str, key: str, fingerprint: str) -> Response | str | None:
        """The kept answer, or an error message when the key was used with another request, or None."""
        with self._lock:
            kept = self._kept.get((tenant_id, key))
            if kept is None or self._clock.monotonic() - kept.at > KEEP_SECONDS:
                self._kept.pop((tenant_id, key), None)
                return None
            if kept.fingerprint != fingerprint:
                return f"The Idempotency-Key {key} is used with a different request"
            return kept.response

    def keep(self, tenant_id: str, key: str, fingerprint: str, response: Response) -> None:
        if response.status >= 400:
            return
        with self._lock:
            self._kept[(tenant_id, key)] = _Kept(fingerprint, response, self._clock.monotonic())
