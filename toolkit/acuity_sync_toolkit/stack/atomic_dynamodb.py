"""moto's DynamoDB as atomic per operation as DynamoDB itself, for the local stack.

DynamoDB applies each operation atomically. moto checks a condition and then mutates the item in Python steps, and
copies items while another thread may be updating them, so its server's request threads can interleave: a torn
read, or a request that fails with moto's own 500 ("dictionary changed size during iteration") after botocore's
retries, which no real table answers. The local stack's functions race as Lambda's do (five workers per sync
function, three functions), so one lock around each DynamoDB operation its moto serves restores DynamoDB's
guarantee. (tests/integration/conftest.py's `atomic_moto` does the same for the integration tests that race.)
"""

from __future__ import annotations

import threading
from typing import Any

from moto.dynamodb.responses import DynamoHandler

# Every DynamoDB operation our code makes, as moto's handler serves it.
DYNAMODB_OPERATIONS = (
    "get_item",
    "put_item",
    "update_item",
    "delete_item",
    "query",
    "scan",
    "batch_get_item",
    "batch_write_item",
    "transact_get_items",
    "transact_write_items",
)
_LOCK = threading.RLock()
_ATOMIC = "_acuity_sync_atomic"


def make_dynamodb_atomic() -> None:
    """Serialise every DynamoDB operation moto serves in this process (idempotent)."""
    for name in DYNAMODB_OPERATIONS:
        original = getattr(DynamoHandler, name)
        if getattr(original, _ATOMIC, False):
            continue

        def locked(self: DynamoHandler, _original: Any = original) -> Any:
            with _LOCK:
                return _original(self)

        setattr(locked, _ATOMIC, True)
        setattr(DynamoHandler, name, locked)
