"""tests/support/waiting.py, which the end-to-end tests trust to wait for the right thing."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.support.waiting import ProcessExits, wait_until

IDLE = [sys.executable, "-c", "import signal; signal.pause()"]  # runs until a signal ends it


@pytest.fixture
def idle() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(IDLE)
    try:
        yield process
    finally:
        process.kill()
        process.wait(10)


def test_wait_until_returns_once_the_condition_holds() -> None:
    answers = iter([False, False, True])
    wait_until(lambda: next(answers), 10, "the third answer")
    assert next(answers, None) is None  # asked exactly three times


def test_wait_until_fails_naming_what_it_waited_for() -> None:
    calls: list[int] = []

    def never() -> bool:
        calls.append(1)
        return False

    with pytest.raises(AssertionError, match="waiting for the impossible"):
        wait_until(never, 0.1, "the impossible")
    assert len(calls) >= 2  # checked again at the deadline, not only at the start


def test_a_running_process_is_reported_running(idle: subprocess.Popen[bytes]) -> None:
    with ProcessExits([idle.pid]) as exits:
        assert exits.wait(0.1) == {idle.pid}


def test_an_exit_is_seen_even_before_the_parent_reaps_it(idle: subprocess.Popen[bytes]) -> None:
    with ProcessExits([idle.pid]) as exits:
        idle.send_signal(signal.SIGTERM)
        assert exits.wait(10) == set()  # a zombie until the fixture's wait(): it has exited all the same
        assert idle.poll() is not None


def test_a_process_already_gone_counts_as_exited(idle: subprocess.Popen[bytes]) -> None:
    idle.kill()
    idle.wait(10)
    with ProcessExits([idle.pid]) as exits:
        assert exits.wait(0) == set()
