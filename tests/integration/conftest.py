"""The template's stack in moto, for the integration tests: `stack` in this process (moto's mock_aws, one per test)
or, for code that runs in other threads and processes, `server_stack` on `moto_server` (one per module); and
`atomic_moto`, which makes moto's DynamoDB as atomic per operation as the real one.

A module that needs template parameters overrides `stack_parameters`; a module whose tests all run against the
server overrides `stack` with `server_stack`.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.responses import DynamoHandler
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from acuity_sync_toolkit.stack.atomic_dynamodb import DYNAMODB_OPERATIONS
from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack, provision
from tests.support.aws import REGION, TEMPLATE, set_fake_credentials


@pytest.fixture
def stack_parameters() -> dict[str, str]:
    """Template parameters for `stack` (none: the template's defaults)."""
    return {}


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch, stack_parameters: dict[str, str]) -> Iterator[ProvisionedStack]:
    """The template's key, table, queues and secrets, created by provision() inside moto's mock_aws, with fake
    credentials and no AWS_* setting of this machine; gone when the test ends."""
    set_fake_credentials(monkeypatch)
    with mock_aws():
        boto3.setup_default_session()
        yield provision(TEMPLATE, parameters=stack_parameters)


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """moto in server mode on 127.0.0.1 (a free port) for this module: its endpoint URL."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def server_stack(moto_server: str) -> Iterator[ProvisionedStack]:
    """The template's resources provisioned on this module's moto server; the fake credentials hold for the whole
    module, so that processes it spawns inherit them. The stack's name is the module's own: moto keeps its state per
    process, not per server, so two modules on one test worker would otherwise find each other's resources."""
    with pytest.MonkeyPatch.context() as patch:
        set_fake_credentials(patch)
        yield provision(TEMPLATE, stack_name=f"server-{secrets.token_hex(4)}", endpoint_url=moto_server, region=REGION)


@pytest.fixture
def atomic_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB applies each operation atomically. moto checks a condition and then mutates the item in Python
    steps, and serialises an item it read while another thread may be updating it, so threads can interleave
    (a torn read: one attribute from before a write, another from after it). One lock around each DynamoDB
    operation moto serves, in this process or as a server, restores DynamoDB's guarantee for the tests that race."""
    lock = threading.RLock()
    for name in DYNAMODB_OPERATIONS:
        original = getattr(DynamoHandler, name)

        def locked(self: DynamoHandler, _original: Any = original) -> Any:
            with lock:
                return _original(self)

        monkeypatch.setattr(DynamoHandler, name, locked)
