"""The connection store a token keeper refreshes through, for every function that refreshes tokens."""

from __future__ import annotations

import boto3

from acuity_sync.store.connections import ConnectionStore
from acuity_sync.store.kms import SecretBox
from acuity_sync.wiring.config import TOKEN_STORE_AWS_CONFIG


def refreshing_connection_store(table_name: str, kms_key_id: str, *, keep_for: float = 0.0) -> ConnectionStore:
    """A connection store on clients of its own: short timeouts and no retries of botocore's, so that a refresh
    lease covers the store's worst part of a refresh (TokenKeeper refuses a store whose worst is longer).
    `keep_for`: seconds a decrypted token is kept in the container (store/kms.py; 0: Decrypt at every read)."""
    return ConnectionStore(
        boto3.client("dynamodb", config=TOKEN_STORE_AWS_CONFIG),
        table_name,
        SecretBox(boto3.client("kms", config=TOKEN_STORE_AWS_CONFIG), kms_key_id, keep_for=keep_for),
    )
