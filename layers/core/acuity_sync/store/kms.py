"""Secrets at rest are KMS ciphertexts bound to an encryption context (tenant + purpose), so a ciphertext
copied onto another tenant's item does not decrypt."""

from __future__ import annotations

from typing import TYPE_CHECKING

from acuity_sync.secret import Secret
from acuity_sync.store.timing import worst_call_seconds

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient


class SecretBox:
    def __init__(self, kms: KMSClient, key_id: str) -> None:
        self._kms = kms
        self._key_id = key_id

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
        response = self._kms.decrypt(CiphertextBlob=ciphertext, KeyId=self._key_id, EncryptionContext=context)
        return Secret(response["Plaintext"].decode("utf-8"))
