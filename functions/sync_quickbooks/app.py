"""The QuickBooks Online sync: FIFO batches from the QuickBooks queue, one message at a time per appointment.

Thin by design: acuity_sync.sync.worker decides; a failed message fails only its own group
(skip_group_on_error), so other appointments in the batch go on.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from acuity_sync.ledgers import LedgerName
from acuity_sync.observability import logger, tracer
from acuity_sync.sync.worker import fifo_batch_processor
from acuity_sync.wiring.sync import build_sync_worker

processor = fifo_batch_processor()
worker = build_sync_worker(LedgerName.QUICKBOOKS)


@tracer.capture_method(capture_response=False)
def record_handler(record: SQSRecord) -> None:
    worker.handle(record.body, record.receipt_handle)


# No @metrics.log_metrics: each outcome is flushed as its own EMF document (single_metric), with its dimensions.
@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
