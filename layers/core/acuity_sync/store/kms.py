"""Secrets at rest are KMS ciphertexts bound to an encryption context (tenant + purpose), so a ciphertext
copied onto another tenant's item does not decrypt.

KMS charges per request ($0.03 per 10,000) and takes a network round trip, so a box may keep what it opened for a
bounded time (`keep_for`): a warm sync function then does not Decrypt the same Acuity API key or access token for
every message. The plaintext is kept by its ciphertext and encryption context, so a rotated key or a refreshed
token (a new ciphertext) is opened afresh at once; what is kept lapses after `keep_for` seconds (a key whose KMS
grant was revoked stops opening within that time) and at most `max_kept` secrets are held (the oldest go first)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

from acuity_sync.secret import Secret
from acuity_sync.store.timing import worst_call_seconds

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

DEFAULT_MAX_KEPT = 1024


class SecretBox:
    def __init__(
        self,
        kms: KMSClient,
        key_id: str,
        *,
        keep_for: float = 0.0,
        max_kept: int = DEFAULT_MAX_KEPT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if keep_for < 0 or max_kept < 1:
            raise ValueError("keep_for must be at least 0 and max_kept at least 1")
        self._kms = kms
        self._key_id = key_id
        self._keep_for = keep_for  # seconds; 0: every open() is a Decrypt
        self._max_kept = max_kept
        self._clock = clock
        self._kept: OrderedDict[tuple[bytes, tuple[tuple[str, str], ...]], tuple[Secret, float]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def worst_call_seconds(self) -> float:
        """The longest one seal or open can take, by the KMS client's timeouts and retries."""
        return worst_call_seconds(self._kms)

    def seal(self, secret: Secret, context: dict[str, str]) -> bytes:
        response = self._kms.encrypt(
            KeyId=self._key_id, Plaintext=secret.reveal().encode("utf-8"), EncryptionContext=context
        )
        return response["CiphertextBlob"]

    def open(self, ciphertext: bytes, context: dict[str, str]) -> Secret:
        if self._keep_for <= 0:
            return self._decrypt(ciphertext, context)
        key = (bytes(ciphertext), tuple(sorted(context.items())))
        now = self._clock()
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and now - kept[1] < self._keep_for:
                return kept[0]
        secret = self._decrypt(ciphertext, context)
        with self._lock:
            self._kept[key] = (secret, now)
            self._kept.move_to_end(key)
            while len(self._kept) > self._max_kept:
                self._kept.popitem(last=False)
        return secret

    def _decrypt(self, ciphertext: bytes, context: dict[str, str]) -> Secret:
        response = self._kms.decrypt(CiphertextBlob=ciphertext, KeyId=self._key_id, EncryptionContext=context)
        return Secret(response["Plaintext"].decode("utf-8"))
