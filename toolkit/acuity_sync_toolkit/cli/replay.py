"""`acuity-sync replay --ledger L (--dlq | --parked) [--tenant T] [--dry-run]`: events back on the ledger's queue,
after their cause was fixed.

- `--dlq`: the ledger's dead-letter queue is received and each message sent again to the ledger's queue, in its
  appointment's group with a fresh deduplication id and `Origin.REPLAY` (SQS has no move task for FIFO queues, and
  moto none at all), and only then deleted from the dead-letter queue. A message that is not one of ours (it cannot
  be read), or another tenant's with --tenant, is left where it is and counted as skipped.
- `--parked`: the parked events (all of the ledger's, or the tenant's) through the Requeuer, with `Origin.REPLAY`:
  each is queued, then its park cleared only if it was not parked again meanwhile.

The engine's records and intents make a replay of something already synced write nothing twice. `--dry-run` says
what would be replayed and changes nothing (every message received is let go at once). A FIFO queue shows one
message of an appointment at a time, so a dry run of the dead-letter queue counts the first of each appointment.
"""

from __future__ import annotations

import argparse
import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from acuity_sync.domain.message import Origin, SyncRequest
from acuity_sync.domain.names import LedgerName
from acuity_sync.ledgers.registry import ledger_declaration
from acuity_sync.store.parking import ParkedEvent, ResumeOn
from acuity_sync.sync.requeue import Requeuer
from acuity_sync_toolkit.cli.errors import CommandError
from acuity_sync_toolkit.cli.operator import Stores, add_operator_options, answer, ledger_choices, open_stores, quietly

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

HOLD_SECONDS = 120  # a message received here stays ours this long (it is deleted or let go well before)
MAX_MESSAGES = 10_000  # one replay goes through at most this many messages


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    replay = commands.add_parser("replay", help="put dead-lettered or parked events back on their queue")
    replay.add_argument("--ledger", required=True, choices=ledger_choices())
    source = replay.add_mutually_exclusive_group(required=True)
    source.add_argument("--dlq", action="store_true", help="the ledger's dead-letter queue")
    source.add_argument("--parked", action="store_true", help="the ledger's parked events")
    replay.add_argument("--tenant", help="only this tenant's")
    replay.add_argument("--dry-run", action="store_true", help="say what would be replayed, change nothing")
    add_operator_options(replay)
    replay.set_defaults(run=_run_replay)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    message_id: str
    receipt_handle: str
    group_id: str
    request: SyncRequest | None  # None: not a message of ours


@dataclass(slots=True)
class ReplayCount:
    replayed: int = 0
    skipped: int = 0
    would_replay: int = 0


def receive_dead_letters(sqs: SQSClient, url: str, limit: int, hold: int = HOLD_SECONDS) -> Iterator[DeadLetter]:
    """The dead-letter queue's messages, each held invisible for `hold` seconds once received (until the caller
    deletes it or lets it go), until the queue shows no more or `limit` were received."""
    seen: set[str] = set()
    while len(seen) < limit:
        try:
            answer = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=hold,
                AttributeNames=["MessageGroupId"],
                WaitTimeSeconds=0,
            )
        except (BotoCoreError, ClientError) as error:
            raise CommandError(f"could not read the dead-letter queue: {type(error).__name__}") from error
        fresh = [message for message in answer.get("Messages", []) if message["MessageId"] not in seen]
        if not fresh:
            return
        for message in fresh:
            seen.add(message["MessageId"])
            try:
                request: SyncRequest | None = SyncRequest.from_json(message.get("Body", ""))
            except (ValueError, KeyError, TypeError):
                request = None
            yield DeadLetter(
                message["MessageId"],
                message["ReceiptHandle"],
                message.get("Attributes", {}).get("MessageGroupId", ""),
                request,
            )


def peek_dead_letters(sqs: SQSClient, url: str, limit: int) -> list[DeadLetter]:
    """The first `limit` dead letters, looked at and let go at once."""
    letters = list(receive_dead_letters(sqs, url, limit, hold=30))
    _let_go(sqs, url, letters)
    return letters


def _let_go(sqs: SQSClient, url: str, letters: list[DeadLetter]) -> None:
    for start in range(0, len(letters), 10):
        batch = letters[start : start + 10]
        # On a failure they come back by themselves when their hold ends.
        with contextlib.suppress(BotoCoreError, ClientError):
            sqs.change_message_visibility_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": letter.receipt_handle, "VisibilityTimeout": 0}
                    for index, letter in enumerate(batch)
                ],
            )


def replay_dead_letters(stores: Stores, ledger: LedgerName, tenant_id: str | None, *, dry_run: bool) -> ReplayCount:
    sqs = stores.sqs
    url = stores.location.queue_url(ledger, dead_letters=True)
    queues = stores.queues((ledger,))
    count = ReplayCount()
    held: list[DeadLetter] = []
    try:
        for letter in receive_dead_letters(sqs, url, MAX_MESSAGES):
            request = letter.request
            if request is None or (tenant_id is not None and request.tenant_id != tenant_id):
                count.skipped += 1
                held.append(letter)
                continue
            if dry_run:
                count.would_replay += 1
                held.append(letter)
                continue
            again = request.requeued(Origin.REPLAY, f"{Origin.REPLAY}-{uuid.uuid4().hex}", _now())
            (sent,) = queues.send(again, (ledger,))
            if sent.error is not None:
                count.skipped += 1
                held.append(letter)
                continue
            sqs.delete_message(QueueUrl=url, ReceiptHandle=letter.receipt_handle)
            count.replayed += 1
    finally:
        _let_go(sqs, url, held)
    return count


def replay_parked(stores: Stores, ledger: LedgerName, tenant_id: str | None, *, dry_run: bool) -> ReplayCount:
    events = _parked(stores, ledger, tenant_id)
    count = ReplayCount()
    if dry_run:
        count.would_replay = len(events)
        return count
    requeuer = Requeuer(stores.parking, stores.queues((ledger,)))
    for event in events:
        result = requeuer.requeue([event], Origin.REPLAY)
        count.replayed += result.requeued
        count.skipped += result.failed
    return count


def _parked(stores: Stores, ledger: LedgerName, tenant_id: str | None) -> list[ParkedEvent]:
    if tenant_id is not None:
        return stores.parking.for_ledger(tenant_id, ledger, limit=MAX_MESSAGES)
    events: list[ParkedEvent] = []
    for resume_on in ResumeOn:
        position: str | None = None
        while len(events) < MAX_MESSAGES:
            page, position = stores.parking.waiting(resume_on, after=position, limit=100)
            events.extend(event for event in page if event.ledger is ledger)
            if position is None:
                break
    return events


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _run_replay(arguments: argparse.Namespace) -> int:
    stores = open_stores(arguments)
    ledger = LedgerName(arguments.ledger)
    if arguments.tenant is not None:
        stores.profile(arguments.tenant)  # an unknown tenant is a typo: said, not replayed as nothing
    replay = replay_dead_letters if arguments.dlq else replay_parked
    count: ReplayCount = quietly(lambda: replay(stores, ledger, arguments.tenant, dry_run=arguments.dry_run))
    document: dict[str, Any] = {"replayed": count.replayed, "skipped": count.skipped}
    if arguments.dry_run:
        document["would_replay"] = count.would_replay
    source = "dead-letter queue" if arguments.dlq else "parked events"
    name = ledger_declaration(ledger).display_name

    def words() -> list[str]:
        whose = f" of tenant {arguments.tenant}" if arguments.tenant else ""
        if arguments.dry_run:
            lines = [f"{count.would_replay} event(s) from the {name} {source}{whose} would be replayed (dry run)."]
        else:
            lines = [f"Replayed {count.replayed} event(s) from the {name} {source}{whose} onto the {name} queue."]
        if count.skipped:
            lines.append(
                f"{count.skipped} left where they are (another tenant's, unreadable, or the queue refused them)."
            )
        return lines

    answer(arguments, document, words)
    return 0
