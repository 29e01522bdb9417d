"""moto at the size of a soak: four of its costs that grew with what a table or a queue holds, made not to. For
the local stack (`DevStack`), whose one moto server serves every function's DynamoDB and SQS calls. Measured with
moto 5.2 in process; what moto answers is unchanged.

**TransactWriteItems.** To roll a failed transaction back, moto deep-copies the whole table before it starts, once
per item the transaction names: a two-item transaction took 45 ms beside 1,000 items and 1.5 s beside 20,000, while
a GetItem stayed at 1 ms. Inside the local stack's one lock around DynamoDB (`atomic_dynamodb`) that stalled every
function, and a soak's table grows by several items per event. DynamoDB's promise is only that the items a
transaction names change all together or not at all, so only they are kept: each is copied before moto runs the
transaction (moto's table copy made free meanwhile) and put back, or deleted again, when it fails.

**ReceiveMessage.** For each message it hands out, moto checks the queue's retention period by computing every
attribute of the queue, the approximate counts among them, each a pass over all its messages: a receive of ten from
a FIFO queue holding 1,000 took 620 ms. The period is read from the queue itself instead.

**GetQueueAttributes.** moto computed every attribute of the queue (three passes over its messages for the
approximate counts) once per attribute asked and twice more per attribute answered: a drain's poll for the two
counts of a queue holding 6,000 messages made eighteen passes. They are computed once per call.

**SQS's clock.** The passes that remain (a send counts the queue's messages, a receive lists the visible ones) ask
the time twice per message through `moto.core.utils.unix_time`, which builds and subtracts two datetimes: a send to
a queue holding 1,000 took 128 ms. The SQS models read `time.time()`, the same number (seconds since the epoch).
Together: a receive from 1,000 messages 5 ms, a send 5 ms.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from moto.core.utils import unix_time
from moto.dynamodb.exceptions import MockValidationException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table
from moto.sqs import models as sqs_models
from moto.sqs.exceptions import InvalidAttributeName
from moto.sqs.models import Message, SQSBackend

_PATCHED = "_acuity_sync_at_scale"
_ONE_TRANSACTION_AT_A_TIME = threading.Lock()  # moto's table copy is made free for the whole class while one runs

# An item a transaction names, by table and key: its key and a copy of it before (None: there was none).
NamedItems = dict[tuple[str, str], tuple[dict[str, Any], Item | None]]


def make_moto_scale() -> None:
    """Patch moto in this process (idempotent): each of the costs above stops growing with the data, or as fast."""
    _make_transactions_keep_only_their_items()
    _make_receives_read_only_the_retention_period()
    _make_sqs_read_the_clock_directly()
    _make_queue_attributes_computed_once()


def _make_transactions_keep_only_their_items() -> None:
    original = DynamoDBBackend.transact_write_items
    if getattr(original, _PATCHED, False):
        return

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        with _ONE_TRANSACTION_AT_A_TIME:
            before = _named_items(self, transact_items)
            try:
                with _table_copies_free():
                    original(self, transact_items)
            except Exception:
                _put_back(self, before)
                raise

    setattr(transact_write_items, _PATCHED, True)
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


@contextmanager
def _table_copies_free() -> Iterator[None]:
    """moto's "backup" is then the table itself and its rollback a no-op: `_put_back` does the real work."""
    Table.__deepcopy__ = _the_table_itself  # type: ignore[attr-defined]
    try:
        yield
    finally:
        del Table.__deepcopy__  # type: ignore[attr-defined]


def _the_table_itself(table: Table, memo: dict[int, Any]) -> Table:
    memo[id(table)] = table
    return table


def _named_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> NamedItems:
    named: NamedItems = {}
    for entry in transact_items:
        for operation in entry.values():
            if not isinstance(operation, dict) or operation.get("TableName") not in backend.tables:
                continue  # moto refuses the transaction before it changes anything
            table = backend.tables[operation["TableName"]]
            key = operation.get("Key") or _key_of(table, operation.get("Item", {}))
            try:
                current = backend.get_item(table.name, key)
            except MockValidationException:
                continue  # a key moto refuses: it refuses the transaction before any write
            named[(table.name, json.dumps(key, sort_keys=True))] = (key, copy.deepcopy(current))
    return named


def _key_of(table: Table, item: dict[str, Any]) -> dict[str, Any]:
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    return {name: item[name] for name in names if name in item}


def _put_back(backend: DynamoDBBackend, before: NamedItems) -> None:
    for (table_name, _), (key, item) in before.items():
        if item is not None:
            backend.put_item(table_name, item.to_json()["Attributes"])
        elif backend.get_item(table_name, key) is not None:
            backend.delete_item(table_name, key)


def _make_receives_read_only_the_retention_period() -> None:
    if getattr(SQSBackend.is_message_valid_based_on_retention_period, _PATCHED, False):
        return

    def is_message_valid_based_on_retention_period(self: SQSBackend, queue_name: str, message: Message) -> bool:
        retention_period = int(getattr(self.get_queue(queue_name), "message_retention_period"))  # noqa: B009 - set from the attribute's name
        return bool(retention_period + message.sent_timestamp / 1000 > time.time())  # type: ignore[operator]

    setattr(is_message_valid_based_on_retention_period, _PATCHED, True)
    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period  # type: ignore[method-assign]


def _make_sqs_read_the_clock_directly() -> None:
    if getattr(getattr(sqs_models, "unix_time"), _PATCHED, False):  # noqa: B009 - moto imports it without re-export
        return

    def now_in_seconds(dt: datetime | None = None) -> float:
        return time.time() if dt is None else unix_time(dt)

    def now_in_milliseconds(dt: datetime | None = None) -> float:
        return now_in_seconds(dt) * 1000.0

    for function in (now_in_seconds, now_in_milliseconds):
        setattr(function, _PATCHED, True)
    setattr(sqs_models, "unix_time", now_in_seconds)  # noqa: B010
    setattr(sqs_models, "unix_time_millis", now_in_milliseconds)  # noqa: B010


def _make_queue_attributes_computed_once() -> None:
    if getattr(SQSBackend.get_queue_attributes, _PATCHED, False):
        return

    def get_queue_attributes(self: SQSBackend, queue_name: str, attribute_names: list[str]) -> dict[str, Any]:
        queue = self.get_queue(queue_name)
        if not attribute_names:
            return {}
        valid_names = ["All", *queue.BASE_ATTRIBUTES, *queue.FIFO_ATTRIBUTES, *queue.KMS_ATTRIBUTES]
        invalid_name = next((name for name in attribute_names if name not in valid_names), None)
        if invalid_name is not None:
            raise InvalidAttributeName(invalid_name)
        everything: dict[str, Any] = queue.attributes  # the one computation
        if "All" in attribute_names:
            return everything
        return {name: everything[name] for name in attribute_names if everything.get(name) is not None}

    setattr(get_queue_attributes, _PATCHED, True)
    SQSBackend.get_queue_attributes = get_queue_attributes  # type: ignore[method-assign]
