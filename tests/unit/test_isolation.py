"""The guard in tests/unit/conftest.py: a unit test can neither reach the network nor start a process."""

from __future__ import annotations

import multiprocessing
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.conftest import STILL_TO_MOVE


def test_a_connection_is_refused() -> None:
    with pytest.raises(AssertionError, match="a socket connection in a unit test"):
        socket.create_connection(("127.0.0.1", 9), timeout=1)


def test_a_server_is_refused() -> None:
    with socket.socket() as listener, pytest.raises(AssertionError, match="a listening socket in a unit test"):
        listener.bind(("127.0.0.1", 0))


def test_a_process_is_refused() -> None:
    with pytest.raises(AssertionError, match="a process in a unit test"):
        subprocess.run([sys.executable, "-c", "pass"], check=False)
    with pytest.raises(AssertionError, match="a process in a unit test"):
        multiprocessing.get_context("spawn").Process(target=print).start()
    with pytest.raises(AssertionError, match="a process in a unit test"):
        os.fork()


def test_each_file_let_through_is_still_here() -> None:
    """A name left in STILL_TO_MOVE after its file moved would exempt whatever takes the name next."""
    here = Path(__file__).parent
    assert sorted(name for name in STILL_TO_MOVE if not (here / name).is_file()) == []
