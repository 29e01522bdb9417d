"""Lambda's SQS event source mapping, run here: pollers that feed queue batches to a function's worker processes.

A `QueuePoller` serves one `QueueSource` of one function, as one event source mapping does in Lambda: it receives
batches of up to BatchSize messages, invokes the function with the SQS event Lambda builds (`sqs_event`), and
then deletes what succeeded. With ReportBatchItemFailures every message not listed in `batchItemFailures` is
deleted, and a response Lambda would reject (an unknown or empty itemIdentifier, a bad key, not a JSON object)
fails the whole batch (`items_to_retry`). A function error (unhandled, timeout, crash) fails the whole batch:
nothing is deleted and the messages come back when their visibility timeout ends. At most MaximumConcurrency
batches run at once (ScalingConfig in the template; `DEFAULT_MAXIMUM_CONCURRENCY` without one), and never two
batches of one FIFO message group: SQS (and moto) hide a group while any of its messages is in flight, and the
poller also waits for a group's running batch before invoking another batch holding that group.

Receiving. One thread per poller calls ReceiveMessage, one call at a time, and only while a concurrency slot is
free (Lambda "stops reading" at maximum concurrency). While no batch is in flight it long-polls for
`wait_seconds` (whole seconds, as SQS counts them); while batches are in flight it short-polls, again as soon as
a batch ends or every `BUSY_POLL_SECONDS`. Both because moto's long poll reads which FIFO groups are locked once,
when it starts: two long polls at once could each hand out the same group, and a long poll started beside our
own batches would hold their groups' next messages back (spinning) until it ends. With `wait_seconds` < 1 every
receive is a short poll, repeated every `wait_seconds` while the queue is empty: moto notices a message whose
visibility timeout ended only at whole-second ticks of a long poll, so tests use that to see redeliveries at once.

The time scale and visibility. The poller never changes a queue's attributes: the queue's VisibilityTimeout is
the template's. With `time_scale` < 1 each ReceiveMessage asks for a scaled visibility timeout instead, through
its own VisibilityTimeout parameter (atomic with the receive, so a batch is never briefly under the long one):
ceil(VisibilityTimeout x time_scale) seconds, and at least 1, because SQS counts visibility in whole seconds and
0 would make the batch visible, and its FIFO group free, while the function still runs. The poller sets nothing
after that: a function that calls ChangeMessageVisibility on its own message (to back off) has the last word.
As Lambda refuses a mapping whose queue's visibility timeout is shorter than the function's timeout, so does the
poller (comparing the scaled values).

Dead-letter queues need nothing here: SQS (and moto) move a message to the queue's DLQ when a receive would
exceed the redrive policy's maxReceiveCount.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack
from acuity_sync_toolkit.stack.functions import QueueSource
from acuity_sync_toolkit.stack.lambda_runtime import FunctionError, FunctionPool

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import (
        ChangeMessageVisibilityBatchRequestEntryTypeDef,
        DeleteMessageBatchRequestEntryTypeDef,
        MessageAttributeValueOutputTypeDef,
        MessageTypeDef,
    )

logger = logging.getLogger(__name__)

# Lambda's ScalingConfig.MaximumConcurrency starts at 2; a template without one gets this locally.
DEFAULT_MAXIMUM_CONCURRENCY = 2
MAX_BATCH_SIZE = 10  # a FIFO event source mapping's maximum, and ReceiveMessage's
MAX_WAIT_TIME_SECONDS = 20  # ReceiveMessage's WaitTimeSeconds maximum
BUSY_POLL_SECONDS = 0.1  # how often to look for more work while batches are in flight
_ERROR_PAUSE_SECONDS = 1.0  # after a failed ReceiveMessage (the endpoint is down, say) before the next
_MIN_PAUSE_SECONDS = 0.01
_THREAD_PREFIX = "sqs-poller"

# The system attributes Lambda puts in a record, in the order its documentation shows them; the last two only
# when SQS returns them (a traced sender; a message redriven from a DLQ).
_RECORD_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "SenderId",
    "MessageDeduplicationId",
    "ApproximateFirstReceiveTimestamp",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)


# ---------------------------------------------------------------------------------------------------------
# The event and the response, as Lambda builds and reads them.
# ---------------------------------------------------------------------------------------------------------


def sqs_event(messages: Iterable[MessageTypeDef], *, queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda invokes a function with for these received messages (one record per message).

    The shape is the Lambda Developer Guide's "Example Amazon SQS message event (FIFO queue)" (with-sqs.md) and
    its standard-queue example for message attributes (camelCase keys, binary values in base64).
    """
    return {"Records": [sqs_record(message, queue_arn=queue_arn, region=region) for message in messages]}


def sqs_record(message: MessageTypeDef, *, queue_arn: str, region: str) -> dict[str, Any]:
    received = message.get("Attributes", {})
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {name: received[name] for name in _RECORD_ATTRIBUTES if name in received},
        "messageAttributes": {
            name: _record_message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
    }
    if "MD5OfMessageAttributes" in message:  # SQS returns it only for a message that has attributes
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    record.update({"eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": region})
    return record


def _record_message_attribute(value: MessageAttributeValueOutputTypeDef) -> dict[str, Any]:
    attribute: dict[str, Any] = {}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
    attribute["stringListValues"] = list(value.get("StringListValues", []))
    attribute["binaryListValues"] = [
        base64.b64encode(item).decode("ascii") for item in value.get("BinaryListValues", [])
    ]
    attribute["dataType"] = value["DataType"]
    return attribute


def items_to_retry(response: object, message_ids: Collection[str]) -> frozenset[str]:
    """The message ids a ReportBatchItemFailures response leaves in the queue (every id: the whole batch failed).

    Lambda's rules (services-sqs-errorhandling): a null response, an empty object and a null or empty
    `batchItemFailures` are complete success; an invalid response, an empty or null `itemIdentifier`, a bad key
    name and an id not in the batch are complete failure.
    """
    everything = frozenset(message_ids)
    if isinstance(response, bytes):  # a handler that returned bytes: Lambda parses them as the JSON response
        try:
            response = json.loads(response)
        except ValueError:
            return everything
    if response is None:
        return frozenset()
    if not isinstance(response, dict):
        return everything
    failures = response.get("batchItemFailures")
    if failures is None:
        return frozenset()
    if not isinstance(failures, list):
        return everything
    retry: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in everything:
            return everything
        retry.add(identifier)
    return frozenset(retry)


# ---------------------------------------------------------------------------------------------------------
# Settings derived from the template.
# ---------------------------------------------------------------------------------------------------------


def maximum_concurrency(source: QueueSource, override: int | None = None) -> int:
    """How many batches of this source may run at once: `override`, else the template's, else the default.

    Size the function's pool to at least this (the sum over its sources), or batches wait for a worker while
    their visibility timeout runs; a poller never runs more batches than its pool has workers.
    """
    value = override if override is not None else source.maximum_concurrency
    value = DEFAULT_MAXIMUM_CONCURRENCY if value is None else value
    if value < 1:
        raise ValueError(f"maximum concurrency must be at least 1, not {value}")
    return value


def scaled_visibility_timeout(visibility_timeout: int, time_scale: float) -> int | None:
    """The VisibilityTimeout to receive with: None (the queue's own) at time_scale >= 1, else the scaled value
    rounded up to whole seconds, at least 1 (see the module's docstring for why never 0)."""
    if time_scale >= 1:
        return None
    return max(1, math.ceil(visibility_timeout * time_scale))


# ---------------------------------------------------------------------------------------------------------
# The poller.
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PollerStats:
    """What a poller has done so far (a snapshot)."""

    batches: int = 0  # invocations made
    received: int = 0  # messages received (released ones included)
    deleted: int = 0  # messages deleted after success
    failed_batches: int = 0  # batches that failed whole: function error or a response Lambda rejects
    failed_items: int = 0  # messages listed in batchItemFailures of a partly successful batch
    released: int = 0  # messages received while stopping and made visible again at once


class QueuePoller:
    """One event source mapping: `source`'s queue feeding `pool`'s function. Start once; stop is idempotent."""

    def __init__(
        self,
        source: QueueSource,
        pool: FunctionPool,
        *,
        sqs_client: SQSClient,
        queue_arn: str,
        region: str,
        time_scale: float = 1.0,
        wait_seconds: float = 1.0,
        max_concurrency: int | None = None,
    ) -> None:
        if not 1 <= source.batch_size <= MAX_BATCH_SIZE:
            raise ValueError(f"{source.queue_logical_id}: batch size {source.batch_size} is not within 1..10")
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        if wait_seconds < 0:
            raise ValueError("wait_seconds must not be negative")
        self.source = source
        self.pool = pool
        self.queue_arn = queue_arn
        self.region = region
        self.function_name = pool.spec.logical_id
        self.concurrency = min(maximum_concurrency(source, max_concurrency), pool.max_workers)
        self._sqs = sqs_client
        self._long_poll_seconds = min(int(wait_seconds), MAX_WAIT_TIME_SECONDS)
        self._idle_pause = max(wait_seconds, _MIN_PAUSE_SECONDS)
        self._busy_pause = min(BUSY_POLL_SECONDS, self._idle_pause)
        queue_visibility = self._queue_visibility_timeout()
        self.visibility_timeout = scaled_visibility_timeout(queue_visibility, time_scale)
        effective = queue_visibility if self.visibility_timeout is None else self.visibility_timeout
        if pool.timeout_seconds > effective:
            # Lambda's CreateEventSourceMapping refuses this too: a batch would come back while still running.
            raise ValueError(
                f"{self.function_name}: queue {source.queue_logical_id}'s visibility timeout ({effective} s) is "
                f"less than the function's timeout ({pool.timeout_seconds:g} s)"
            )
        self._lock = threading.Condition()  # guards everything below; notified when a batch ends or on stop
        self._active = 0  # batches received and not yet settled
        self._groups: set[str] = set()  # FIFO groups of the batches being invoked
        self._stopping = False
        self._started = False
        self._stats = PollerStats()
        self._receiver: threading.Thread | None = None
        self._executor: ThreadPoolExecutor | None = None

    # -- lifecycle

    def start(self) -> Self:
        with self._lock:
            if self._started:
                raise RuntimeError(f"the poller of {self.source.queue_logical_id} was already started")
            self._started = True
        name = f"{_THREAD_PREFIX}-{self.function_name}-{self.source.queue_logical_id}"
        self._executor = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix=f"{name}-batch")
        self._receiver = threading.Thread(target=self._receive_loop, name=name, daemon=True)
        self._receiver.start()
        return self

    def request_stop(self) -> None:
        """Stop receiving, without waiting (stop() waits). Batches already received still run to their end."""
        with self._lock:
            self._stopping = True
            self._lock.notify_all()

    def stop(self) -> None:
        """Stop receiving, let the batches in flight finish (within the function's timeout), join every thread."""
        self.request_stop()
        if self._receiver is not None:
            self._receiver.join()  # at most one receive (wait_seconds) away
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def stats(self) -> PollerStats:
        with self._lock:
            return self._stats

    # -- receiving

    def _queue_visibility_timeout(self) -> int:
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self.source.queue_url, AttributeNames=["VisibilityTimeout"]
        )
        return int(attributes["Attributes"]["VisibilityTimeout"])

    def _receive_loop(self) -> None:
        while True:
            with self._lock:
                while self._active >= self.concurrency and not self._stopping:
                    self._lock.wait()  # at maximum concurrency Lambda stops reading
                if self._stopping:
                    return
                busy = self._active > 0
            wait_time = 0 if busy else self._long_poll_seconds
            try:
                messages = self._receive(wait_time)
            except Exception as error:  # keep polling, as Lambda does, whatever one receive met
                unexpected = not isinstance(error, (BotoCoreError, ClientError))
                logger.warning("receiving from %s failed: %s", self.source.queue_logical_id, error, exc_info=unexpected)
                self._pause(_ERROR_PAUSE_SECONDS)
                continue
            if messages:
                if not self._dispatch(messages):
                    self._release(messages)
                    return
            elif busy:
                self._pause(self._busy_pause)  # a batch ending wakes us: its group may have more
            elif wait_time == 0:
                self._pause(self._idle_pause)

    def _receive(self, wait_time: int) -> list[MessageTypeDef]:
        arguments: dict[str, Any] = {}
        if self.visibility_timeout is not None:
            arguments["VisibilityTimeout"] = self.visibility_timeout
        response = self._sqs.receive_message(
            QueueUrl=self.source.queue_url,
            MaxNumberOfMessages=self.source.batch_size,
            WaitTimeSeconds=wait_time,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
            **arguments,
        )
        return response.get("Messages", [])

    def _pause(self, seconds: float) -> None:
        with self._lock:
            if not self._stopping:
                self._lock.wait(timeout=seconds)

    def _dispatch(self, messages: list[MessageTypeDef]) -> bool:
        """Hand a batch to a batch thread; False when stopping (the caller releases the batch)."""
        with self._lock:
            self._stats = _add(self._stats, received=len(messages))
            if self._stopping:
                return False
            self._active += 1
        assert self._executor is not None
        self._executor.submit(self._run_batch, messages)
        return True

    def _release(self, messages: Sequence[MessageTypeDef]) -> None:
        """Make messages received while stopping visible again at once, rather than after a visibility timeout."""
        entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
            {"Id": str(index), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
            for index, m in enumerate(messages)
        ]
        try:
            self._sqs.change_message_visibility_batch(QueueUrl=self.source.queue_url, Entries=entries)
        except (BotoCoreError, ClientError) as error:
            logger.warning("releasing %d messages of %s failed: %s", len(messages), self.source.queue_logical_id, error)
            return
        with self._lock:
            self._stats = _add(self._stats, released=len(messages))

    # -- a batch

    def _run_batch(self, messages: list[MessageTypeDef]) -> None:
        groups = {group for group in (m.get("Attributes", {}).get("MessageGroupId") for m in messages) if group}
        try:
            self._claim(groups)
            try:
                self._invoke_and_settle(messages)
            finally:
                self._unclaim(groups)
        except Exception:
            logger.exception(
                "a batch of %s could not be handled; it returns after its visibility timeout",
                self.source.queue_logical_id,
            )
        finally:
            with self._lock:
                self._active -= 1
                self._lock.notify_all()

    def _claim(self, groups: set[str]) -> None:
        # moto already withholds a group in flight; this also holds if a function frees its own message early.
        with self._lock:
            while self._groups & groups:
                self._lock.wait()
            self._groups |= groups

    def _unclaim(self, groups: set[str]) -> None:
        with self._lock:
            self._groups -= groups
            self._lock.notify_all()

    def _invoke_and_settle(self, messages: list[MessageTypeDef]) -> None:
        ids = [message["MessageId"] for message in messages]
        event = sqs_event(messages, queue_arn=self.queue_arn, region=self.region)
        try:
            response = self.pool.invoke(event)
        except FunctionError as error:
            logger.warning(
                "%s failed a batch of %d from %s (%s); it returns after its visibility timeout",
                self.function_name,
                len(ids),
                self.source.queue_logical_id,
                error,
            )
            retry = frozenset(ids)
        except RuntimeError as error:  # the pool was closed under us (the stack is stopping)
            logger.warning(
                "%s could not take a batch from %s: %s", self.function_name, self.source.queue_logical_id, error
            )
            retry = frozenset(ids)
        else:
            retry = items_to_retry(response, ids) if self.source.report_batch_item_failures else frozenset()
        whole = len(retry) == len(ids)
        with self._lock:
            self._stats = _add(
                self._stats, batches=1, failed_batches=int(whole), failed_items=0 if whole else len(retry)
            )
        self._delete([message for message in messages if message["MessageId"] not in retry])

    def _delete(self, messages: Sequence[MessageTypeDef]) -> None:
        if not messages:
            return
        entries: list[DeleteMessageBatchRequestEntryTypeDef] = [
            {"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(messages)
        ]
        try:
            response = self._sqs.delete_message_batch(QueueUrl=self.source.queue_url, Entries=entries)
        except (BotoCoreError, ClientError) as error:
            logger.warning(
                "deleting %d messages from %s failed: %s", len(messages), self.source.queue_logical_id, error
            )
            return
        for failure in response.get("Failed", []):
            logger.warning(
                "deleting a message from %s failed: %s", self.source.queue_logical_id, failure.get("Message")
            )
        with self._lock:
            self._stats = _add(self._stats, deleted=len(response.get("Successful", [])))


def _add(stats: PollerStats, **increments: int) -> PollerStats:
    return replace(stats, **{name: getattr(stats, name) + value for name, value in increments.items()})


# ---------------------------------------------------------------------------------------------------------
# Every event source mapping of a stack.
# ---------------------------------------------------------------------------------------------------------


class PollerGroup:
    """One QueuePoller per QueueSource of every function in `stack`, each feeding `pools[function logical id]`."""

    def __init__(
        self,
        stack: ProvisionedStack,
        pools: Mapping[str, FunctionPool],
        *,
        sqs_client: SQSClient | None = None,
        time_scale: float = 1.0,
        wait_seconds: float = 1.0,
        max_concurrency: int | None = None,
    ) -> None:
        consumers = {name: spec for name, spec in stack.functions.items() if spec.queue_sources}
        missing = sorted(set(consumers) - set(pools))
        if missing:
            raise ValueError(f"no FunctionPool for {', '.join(missing)}, which the template feeds from queues")
        self._own_client = sqs_client is None
        if sqs_client is None:
            # Every poller shares the client: one connection per receiving thread and per batch thread.
            connections = sum(
                1 + maximum_concurrency(source, max_concurrency)
                for spec in consumers.values()
                for source in spec.queue_sources
            )
            sqs_client = boto3.client(
                "sqs",
                endpoint_url=stack.endpoint_url,
                region_name=stack.region,
                config=Config(max_pool_connections=max(10, connections)),
            )
        self.pollers: tuple[QueuePoller, ...] = tuple(
            QueuePoller(
                source,
                pools[name],
                sqs_client=sqs_client,
                queue_arn=stack.queue_arns[source.queue_logical_id],
                region=stack.region,
                time_scale=time_scale,
                wait_seconds=wait_seconds,
                max_concurrency=max_concurrency,
            )
            for name, spec in consumers.items()
            for source in spec.queue_sources
        )
        self._sqs = sqs_client

    def start(self) -> Self:
        try:
            for poller in self.pollers:
                poller.start()
        except BaseException:
            self.stop()
            raise
        return self

    def request_stop(self) -> None:
        for poller in self.pollers:
            poller.request_stop()

    def stop(self) -> None:
        """Stop every poller (all stop receiving at once, then each is joined). Idempotent."""
        self.request_stop()
        for poller in self.pollers:
            poller.stop()
        if self._own_client:
            self._sqs.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
