"""The floor: a plain boto3 script making exactly the AWS calls the webhook function makes, and nothing else.

Run as a fresh process it is the cold floor (interpreter start, boto3 import, three clients, GetItem of the
tenant profile, KMS Decrypt of the API key, one SendMessage per connected ledger in parallel threads); the bench
process also imports `Floor` for the warm floor (clients created once, SendMessage only).

It deliberately imports nothing of acuity_sync: only what any Python function calling these services needs.
The botocore Config is a copy of acuity_sync.wiring.config.WEBHOOK_AWS_CONFIG (run.py checks that the two agree).

    python cold_floor.py '{"tenant_id": ..., "object_id": ..., "action": ..., "received_at": ..., "request_id": ...}'

reads the function's environment (TABLE_NAME, KMS_KEY_ID, QUEUE_URL_*, AWS_ENDPOINT_URL, ...) and writes one
line to stderr: CALLS_MARKER followed by {"queued": <messages sent>, "calls": {operation: count}}.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.config import Config

CALLS_MARKER = "BENCH-RESULT "
# A copy of acuity_sync.wiring.config.WEBHOOK_AWS_CONFIG's values.
FLOOR_CONFIG_VALUES: dict[str, Any] = {
    "connect_timeout": 2,
    "read_timeout": 3,
    "retries": {"mode": "standard", "total_max_attempts": 2},
}
FLOOR_AWS_CONFIG = Config(**FLOOR_CONFIG_VALUES)
MESSAGE_VERSION = 1
MAX_LEDGERS = 3


class CallCounter:
    """Counts AWS operations through botocore's `before-call` event (register it before creating clients)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def __call__(self, model: Any, **_kwargs: Any) -> None:
        with self._lock:
            self._counts[str(model.name)] += 1

    def register(self, session: boto3.Session) -> None:
        session.events.register("before-call", self)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))


def message_body(tenant_id: str, object_id: int, action: str, received_at: str, request_id: str) -> str:
    """What the function queues (acuity_sync.domain.message.SyncRequest.to_json), written out by hand."""
    document = {
        "v": MESSAGE_VERSION,
        "tenant_id": tenant_id,
        "kind": "appointment",
        "object_id": object_id,
        "action": action,
        "received_at": received_at,
        "request_id": request_id,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


class Floor:
    """The function's AWS calls, made directly: clients created once, as the function creates them at import."""

    def __init__(self, config: Config = FLOOR_AWS_CONFIG) -> None:
        self._table_name = os.environ["TABLE_NAME"]
        self._key_id = os.environ["KMS_KEY_ID"]
        self._dynamodb = boto3.client("dynamodb", config=config)
        self._kms = boto3.client("kms", config=config)
        self._sqs = boto3.client("sqs", config=config)
        self._pool = ThreadPoolExecutor(max_workers=MAX_LEDGERS, thread_name_prefix="floor-send")
        self._ledgers: tuple[str, ...] = ()

    def cold_event(self, tenant_id: str, object_id: int, action: str, received_at: str, request_id: str) -> int:
        """GetItem + Decrypt + one SendMessage per ledger; the number of messages queued."""
        item = self._dynamodb.get_item(
            TableName=self._table_name,
            Key={"pk": {"S": f"TENANT#{tenant_id}"}, "sk": {"S": "PROFILE"}},
            ConsistentRead=True,
        )["Item"]
        self._kms.decrypt(
            CiphertextBlob=item["acuity_api_key"]["B"],
            KeyId=self._key_id,
            EncryptionContext={"tenant_id": tenant_id, "purpose": "acuity_api_key"},
        )
        self._ledgers = tuple(value["S"] for value in item["ledgers"]["L"])
        return self.warm_event(tenant_id, object_id, action, received_at, request_id)

    def warm_event(self, tenant_id: str, object_id: int, action: str, received_at: str, request_id: str) -> int:
        """One SendMessage per ledger (known from the last cold_event), in parallel threads."""
        body = message_body(tenant_id, object_id, action, received_at, request_id)
        group_id = f"{tenant_id}#appointment#{object_id}"

        def send(ledger: str) -> str:
            response = self._sqs.send_message(
                QueueUrl=os.environ[f"QUEUE_URL_{ledger.upper()}"],
                MessageBody=body,
                MessageGroupId=group_id,
                MessageDeduplicationId=request_id,
            )
            return response["MessageId"]

        return len(list(self._pool.map(send, self._ledgers)))

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def main(argv: list[str]) -> int:
    request = json.loads(argv[1])
    boto3.setup_default_session()
    counter = CallCounter()
    assert boto3.DEFAULT_SESSION is not None
    counter.register(boto3.DEFAULT_SESSION)
    floor = Floor()
    queued = floor.cold_event(
        request["tenant_id"], request["object_id"], request["action"], request["received_at"], request["request_id"]
    )
    sys.stderr.write(CALLS_MARKER + json.dumps({"queued": queued, "calls": counter.snapshot()}) + "\n")
    return 0


if __name__ == "__main__":
    status = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    # Leave at once, as a Lambda environment does (it is frozen, later killed, never finalised): Python's
    # teardown of boto3's loaded models alone takes 50-150 ms, which no webhook ever waits for.
    os._exit(status)
