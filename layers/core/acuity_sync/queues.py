"""The ledgers' FIFO queues. One message per connected ledger, sent together rather than one after another."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from acuity_sync.domain.message import SyncRequest
from acuity_sync.domain.names import ALL_LEDGERS, LedgerName

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

# SQS allows 128 characters of letters, digits and punctuation in a deduplication id.
_DEDUP_ID = re.compile(r"[!-~]{1,128}")


def deduplication_id(request_id: str) -> str:
    """The API request id: only a retry of the same HTTP request is deduplicated, never a second webhook
    with the same content (a second `changed` within five minutes is a real change)."""
    if _DEDUP_ID.fullmatch(request_id):
        return request_id
    return hashlib.sha256(request_id.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class SendOutcome:
    ledger: LedgerName
    message_id: str | None
    error: str | None  # None when SQS took the message


class LedgerQueues:
    def __init__(self, sqs: SQSClient, queue_urls: Mapping[LedgerName, str]) -> None:
        self._sqs = sqs
        self._queue_urls = dict(queue_urls)
        self._pool = ThreadPoolExecutor(max_workers=len(ALL_LEDGERS), thread_name_prefix="sqs-send")

    def send(self, request: SyncRequest, ledgers: tuple[LedgerName, ...]) -> list[SendOutcome]:
        if len(ledgers) == 1:
            return [self._send_one(request, ledgers[0])]
        return list(self._pool.map(lambda ledger: self._send_one(request, ledger), ledgers))

    def _send_one(self, request: SyncRequest, ledger: LedgerName) -> SendOutcome:
        queue_url = self._queue_urls.get(ledger)
        if queue_url is None:
            return SendOutcome(ledger, None, f"no queue is configured for {ledger}")
        try:
            response = self._sqs.send_message(
                QueueUrl=queue_url,
                MessageBody=request.to_json(),
                MessageGroupId=request.group_id,
                MessageDeduplicationId=deduplication_id(request.request_id),
            )
        except (BotoCoreError, ClientError) as error:
            return SendOutcome(ledger, None, type(error).__name__)
        return SendOutcome(ledger, response["MessageId"], None)
