"""The guard in tests/unit/conftest.py: a unit test can neither reach the network nor start a process."""

from __future__ import annotations

import multiprocessing
import os
import socket
import subprocess
import sys

import pytest


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
