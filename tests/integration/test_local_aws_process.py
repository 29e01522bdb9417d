"""The local stack's AWS in a process of its own (acuity_sync_toolkit.stack.aws_process): it serves with the stack's
changes to moto applied, stops when told, and ends by itself when the process that started it dies."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable

import boto3
import httpx

from acuity_sync_toolkit.stack.aws_process import AwsProcess


def answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=5.0)  # any answer: it is serving
    except httpx.TransportError:
        return False
    return True


def wait_until(condition: Callable[[], bool], seconds: float = 30.0) -> bool:
    """Polls `condition` until it holds, up to `seconds` (a bound, not a sleep the test relies on)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_it_serves_dynamodb_atomically_and_stops_when_told() -> None:
    aws = AwsProcess()
    url = aws.start()
    try:
        dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        dynamodb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.put_item(TableName="t", Item={"pk": {"S": "a"}})
        assert dynamodb.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"] == {"pk": {"S": "a"}}
    finally:
        aws.stop()
    assert not answers(url)


def test_it_ends_by_itself_when_the_process_that_started_it_dies() -> None:
    starter = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\n"
            "from acuity_sync_toolkit.stack.aws_process import AwsProcess\n"
            "aws = AwsProcess()\n"
            "print(aws.start(), flush=True)\n"
            "time.sleep(600)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert starter.stdout is not None
        url = starter.stdout.readline().strip()
        assert answers(url)
        starter.send_signal(signal.SIGKILL)
        starter.wait(timeout=30)
        assert wait_until(lambda: not answers(url)), "moto's process outlived the process that started it"
    finally:
        if starter.poll() is None:
            starter.kill()
