"""One queued message through the sync service, and what the queue must do with it: delete it (synced, skipped,
parked), or make it visible again after the wait the ledger or budget asked for (ChangeMessageVisibility: a FIFO
queue cannot delay one message), by failing it in the batch response. Past the queue's receive count a message
that keeps failing goes to the DLQ, which alarms.

Waiting is not failing. A message that waits (a budget, a rate limit, a peer's fetch: SyncResult.waiting) backs
off longer the more often it was received (up to WAIT_BACKOFF_CAP, with jitter, so that a flood spreads out
instead of coming back at once), and a message that has waited close to the receive count is queued again as a
fresh copy (same group, a new deduplication id, its receive count back to one) and this one deleted: a message is
never dead-lettered for waiting, however long a flood lasts.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor
from botocore.exceptions import BotoCoreError, ClientError

from acuity_sync.domain.message import SyncRequest
from acuity_sync.domain.names import LedgerName
from acuity_sync.observability import MetricName, count, logger
from acuity_sync.queues import LedgerQueues
from acuity_sync.sync.service import Outcome, SyncResult, SyncService

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import ChangeMessageVisibilityBatchRequestEntryTypeDef as VisibilityEntry

MAX_VISIBILITY_SECONDS = 12 * 3600  # SQS's ceiling; the service parks anything longer than 15 minutes anyway
WAIT_BACKOFF_BASE = 1.0  # seconds after the first receive; doubled with each receive after it
WAIT_BACKOFF_CAP = 120.0
REQUEUE_MARGIN = 3  # a waiting message is queued afresh this many receives before the DLQ would take it


def fifo_batch_processor() -> SqsFifoPartialProcessor:
    """FIFO batches where a failure holds back only its own group. A batch whose every message backs off is
    answered with its failures, not raised as an invocation error: backing off is not a fault of the function,
    and errors would throttle the queue's pollers. (The FIFO processor does not take the option yet:
    powertools-lambda-python#7596.)"""
    processor = SqsFifoPartialProcessor(skip_group_on_error=True)
    processor.raise_on_entire_batch_failure = False
    return processor


class RetryLater(Exception):
    """Fails this message in the batch response, so it comes back after its new visibility timeout."""


class SyncWorker:
    def __init__(
        self,
        service: SyncService,
        ledger: LedgerName,
        sqs: SQSClient,
        queue_url: str,
        time_scale: float = 1.0,
        *,
        max_receive_count: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """`max_receive_count`: the queue's redrive policy (the DLQ takes a message received more often); None
        when the queue has none, and nothing is queued afresh."""
        self._service = service
        self._ledger = ledger
        self._sqs = sqs
        self._queue_url = queue_url
        self._queues = LedgerQueues(sqs, {ledger: queue_url})
        self._time_scale = time_scale  # below 1 only in the local stack, so tests see backoffs pass quickly
        self._requeue_from = None if max_receive_count is None else max(1, max_receive_count - REQUEUE_MARGIN)
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self._group_waits: dict[str, int] = {}  # this batch: the visibility each backed-off group was given

    def start_batch(self) -> None:
        self._group_waits.clear()

    def handle(self, body: str, receipt_handle: str, receive_count: int = 1) -> SyncResult:
        logger.set_correlation_id(None)  # not the previous message's
        try:
            request = SyncRequest.from_json(body)
        except (ValueError, KeyError, TypeError):
            # Unreadable: it fails until the DLQ takes it. Said now, not only by the DLQ alarm hours later.
            logger.exception("unreadable message", extra={"ledger": self._ledger})
            raise
        logger.set_correlation_id(request.group_id)
        try:
            result = self._service.sync(request, attempt=receive_count)
        except Exception:
            # Not an outcome (a store or AWS failure, or a bug): the message fails and is retried, then the DLQ.
            logger.exception("sync failed", extra={"ledger": self._ledger})
            raise
        logger.info(
            "sync finished", extra={"outcome": result.outcome, "detail": result.detail, "receives": receive_count}
        )
        self._count(result)
        if result.outcome is Outcome.RETRY:
            if self._waited_long(result, receive_count) and self._queue_afresh(request):
                return result  # deleted; its fresh copy waits on
            visibility = self._visibility(self._wait_seconds(result, receive_count))
            self._delay([{"Id": "0", "ReceiptHandle": receipt_handle, "VisibilityTimeout": visibility}])
            self._group_waits[request.group_id] = visibility
            raise RetryLater(result.detail)
        return result

    def hold_back_skipped(self, records: Iterable[Mapping[str, Any]], failed_ids: Iterable[str]) -> None:
        """The messages of a backed-off group that the FIFO processor skipped come back with it. Left alone they
        would stay invisible for the queue's whole visibility timeout (minutes), and SQS holds a FIFO group while
        any of its messages is in flight: one short backoff would hold the appointment for that long."""
        failed = set(failed_ids)
        entries: list[VisibilityEntry] = [
            {"Id": str(index), "ReceiptHandle": record["receiptHandle"], "VisibilityTimeout": wait}
            for index, record in enumerate(records)
            if record["messageId"] in failed
            and (wait := self._group_waits.get(record.get("attributes", {}).get("MessageGroupId", ""))) is not None
        ]
        self._delay(entries)

    def _waited_long(self, result: SyncResult, receive_count: int) -> bool:
        return result.waiting and self._requeue_from is not None and receive_count >= self._requeue_from

    def _wait_seconds(self, result: SyncResult, receive_count: int) -> float:
        if not result.waiting:
            return result.retry_after
        growth = min(WAIT_BACKOFF_CAP, WAIT_BACKOFF_BASE * 2.0 ** (max(1, receive_count) - 1))
        return max(result.retry_after, growth * self._rng.uniform(0.5, 1.0))

    def _queue_afresh(self, request: SyncRequest) -> bool:
        """A copy of this waiting message, with a new deduplication id and its receive count back to one. Its
        arrival time is kept: a snapshot fetched since the webhook arrived still serves it."""
        copy = replace(request, request_id=f"wait-{uuid.uuid4().hex}")
        (sent,) = self._queues.send(copy, (self._ledger,))
        if sent.error is not None:
            logger.error("a waiting message could not be queued afresh", extra={"error": sent.error})
            return False
        logger.info("a waiting message was queued afresh", extra={"ledger": self._ledger})
        return True

    def _visibility(self, seconds: float) -> int:
        return max(1, min(MAX_VISIBILITY_SECONDS, round(seconds * self._time_scale)))

    def _delay(self, entries: list[VisibilityEntry]) -> None:
        if not entries:
            return
        try:
            self._sqs.change_message_visibility_batch(QueueUrl=self._queue_url, Entries=entries)
        except (BotoCoreError, ClientError):
            # The messages still come back, after the queue's own visibility timeout.
            logger.warning("could not change the messages' visibility", exc_info=True)

    def _count(self, result: SyncResult) -> None:
        count(MetricName.SYNCS, ledger=self._ledger, outcome=result.outcome)
