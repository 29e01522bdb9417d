"""The local Lambda runtime: worker processes that import once, time out, crash and die as Lambda's do."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from acuity_sync_toolkit.stack import lambda_runtime
from acuity_sync_toolkit.stack.functions import FunctionSpec
from acuity_sync_toolkit.stack.lambda_runtime import FunctionError, FunctionPool

ROOT = Path(__file__).resolve().parents[2]
ECHO_DIR = ROOT / "tests" / "fixtures" / "functions" / "echo"
LAYER_DIR = ROOT / "layers" / "core"


def echo_spec(timeout_seconds: int = 3, init_seconds: float = 0.0) -> FunctionSpec:
    return FunctionSpec(
        logical_id="EchoFunction",
        code_dir=ECHO_DIR,
        handler="app.lambda_handler",
        layer_dirs=(LAYER_DIR,),
        runtime="python3.11",
        timeout_seconds=timeout_seconds,
        memory_mb=256,
        environment={"ECHO_FROM_SPEC": "spec", "ECHO_OVERRIDE": "spec", "ECHO_INIT_SECONDS": str(init_seconds)},
    )


def is_running(pid: int) -> bool:
    """Alive and not a zombie (a worker whose parent died may wait unreaped under a PID 1 that does not reap)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def pool() -> Iterator[FunctionPool]:
    with FunctionPool(echo_spec(), max_workers=1) as function_pool:
        yield function_pool


def test_a_worker_imports_once_and_keeps_module_state(pool: FunctionPool) -> None:
    answers = [pool.invoke({"n": n}) for n in range(3)]

    assert [answer["invocations"] for answer in answers] == [1, 2, 3]
    assert {answer["pid"] for answer in answers} == {answers[0]["pid"]}
    assert {answer["loaded_at"] for answer in answers} == {answers[0]["loaded_at"]}
    assert answers[2]["event"] == {"n": 2}
    assert pool.cold_starts == 1


def test_an_init_longer_than_its_own_time_is_retried_within_the_invocations_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Lambda's suppressed init: past the init phase's own time (10 s, shortened here), the init goes on under the
    function's timeout instead of failing the invocation; past that too, the invocation times out."""
    monkeypatch.setattr(lambda_runtime, "INIT_TIMEOUT_SECONDS", 0.2)
    with FunctionPool(echo_spec(timeout_seconds=3, init_seconds=1.0), max_workers=1) as slow:
        assert slow.invoke({"n": 1})["invocations"] == 1
    with (
        FunctionPool(echo_spec(timeout_seconds=1, init_seconds=3.0), max_workers=1) as slower,
        pytest.raises(FunctionError, match=r"Init phase did not finish within 1\.20 seconds"),
    ):
        slower.invoke({"n": 1})


def test_the_worker_runs_in_lambdas_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ECHO_PARENT_ONLY", "leaked")
    spec = echo_spec()
    with FunctionPool(spec, environment={"ECHO_OVERRIDE": "override"}, max_workers=1) as function_pool:
        answer = function_pool.invoke({})

    environment, context = answer["environment"], answer["context"]
    assert environment["ECHO_FROM_SPEC"] == "spec"
    assert environment["ECHO_OVERRIDE"] == "override"
    assert environment["ECHO_PARENT_ONLY"] is None  # nothing of the parent's environment leaks in
    assert environment["AWS_LAMBDA_FUNCTION_NAME"] == "EchoFunction"
    assert environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert environment["AWS_LAMBDA_FUNCTION_TIMEOUT"] == "3"
    assert environment["AWS_REGION"] == environment["AWS_DEFAULT_REGION"] == "us-east-1"
    assert environment["_HANDLER"] == "app.lambda_handler"
    assert environment["LAMBDA_TASK_ROOT"] == str(ECHO_DIR)
    assert environment["_X_AMZN_TRACE_ID"].startswith("Root=1-")
    assert answer["sys_path_head"] == [str(ECHO_DIR), str(LAYER_DIR)]
    assert answer["cwd"] == str(ECHO_DIR)
    assert answer["pytest_loaded"] is False  # the parent's __main__ (pytest) is not run in the worker
    assert context["function_name"] == "EchoFunction"
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:EchoFunction"
    assert context["memory_limit_in_mb"] == "256"
    assert context["log_group_name"] == "/aws/lambda/EchoFunction"
    assert "[$LATEST]" in context["log_stream_name"]
    assert len(context["aws_request_id"]) == 36
    assert 0 < context["remaining_ms"] <= 3000


def test_a_region_given_by_the_caller_is_kept() -> None:
    with FunctionPool(echo_spec(), environment={"AWS_REGION": "eu-west-1"}, max_workers=1) as function_pool:
        answer = function_pool.invoke({})

    assert answer["environment"]["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert answer["context"]["invoked_function_arn"].startswith("arn:aws:lambda:eu-west-1:")


def test_the_handlers_output_goes_to_the_log_file(tmp_path: Path) -> None:
    log_path = tmp_path / "echo.log"
    with FunctionPool(echo_spec(), max_workers=1, log_path=log_path) as function_pool:
        function_pool.invoke({"action": "print", "message": "hello from the handler"})
        with pytest.raises(FunctionError):
            function_pool.invoke({"action": "raise", "message": "logged failure"})

    text = log_path.read_text()
    assert "hello from the handler" in text
    assert "[ERROR] ValueError: logged failure" in text


def test_concurrent_calls_start_workers_up_to_the_maximum() -> None:
    with FunctionPool(echo_spec(), max_workers=3) as function_pool:
        answers: list[Any] = []
        lock = threading.Lock()

        def call() -> None:
            answer = function_pool.invoke({"action": "sleep", "seconds": 0.4})
            with lock:
                answers.append(answer)

        threads = [threading.Thread(target=call) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)

        assert len(answers) == 6
        assert len({answer["pid"] for answer in answers}) == 3  # never a fourth worker
        assert function_pool.cold_starts == 3
        assert len(function_pool.worker_pids) == 3
        assert sorted(answer["invocations"] for answer in answers) == [1, 1, 1, 2, 2, 2]


def test_warm_starts_idle_workers_within_the_maximum() -> None:
    with FunctionPool(echo_spec(), max_workers=2) as function_pool:
        function_pool.warm(5)

        assert function_pool.cold_starts == 2
        assert len(function_pool.worker_pids) == 2
        function_pool.invoke({})
        assert function_pool.cold_starts == 2


def test_a_timeout_kills_the_worker_and_the_next_call_starts_a_new_one() -> None:
    with FunctionPool(echo_spec(timeout_seconds=1), max_workers=1, time_scale=0.3) as function_pool:
        first = function_pool.invoke({})
        started = time.monotonic()
        with pytest.raises(FunctionError) as raised:
            function_pool.invoke({"action": "sleep", "seconds": 30})
        elapsed = time.monotonic() - started

        assert raised.value.kind == "timeout"
        assert "Task timed out after 0.30 seconds" in raised.value.message
        assert 0.25 < elapsed < 3
        assert not is_running(first["pid"])
        second = function_pool.invoke({})
        assert second["pid"] != first["pid"]
        assert second["invocations"] == 1
        assert function_pool.cold_starts == 2


def test_an_unhandled_exception_is_reported_and_the_worker_kept(pool: FunctionPool) -> None:
    first = pool.invoke({})
    with pytest.raises(FunctionError) as raised:
        pool.invoke({"action": "raise", "message": "the ledger said no"})

    assert raised.value.kind == "unhandled"
    assert raised.value.error_type == "ValueError"
    assert raised.value.message == "the ledger said no"
    assert any("lambda_handler" in line for line in raised.value.stack_trace)
    after = pool.invoke({})
    assert after["pid"] == first["pid"]
    assert after["invocations"] == 3
    assert pool.cold_starts == 1


@pytest.mark.parametrize(
    ("event", "status"),
    [({"action": "exit", "code": 1}, "exit status 1"), ({"action": "kill"}, "signal: kill")],
)
def test_a_worker_that_dies_is_a_crash_and_is_replaced(pool: FunctionPool, event: dict[str, Any], status: str) -> None:
    first = pool.invoke({})
    with pytest.raises(FunctionError) as raised:
        pool.invoke(event)

    assert raised.value.kind == "crash"
    assert raised.value.error_type == "Runtime.ExitError"
    assert status in raised.value.message
    assert not is_running(first["pid"])
    after = pool.invoke({})
    assert after["pid"] != first["pid"]
    assert pool.cold_starts == 2


def test_a_result_lambda_cannot_marshal_is_an_error(pool: FunctionPool) -> None:
    with pytest.raises(FunctionError) as raised:
        pool.invoke({"action": "unserializable"})

    assert raised.value.kind == "unhandled"
    assert raised.value.error_type == "Runtime.MarshalError"
    assert "Unable to marshal response" in raised.value.message


def test_an_import_error_is_reported_as_lambda_reports_it(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import module_that_does_not_exist\n")
    spec = FunctionSpec(
        logical_id="BrokenFunction",
        code_dir=tmp_path,
        handler="broken.handler",
        layer_dirs=(),
        runtime="python3.11",
        timeout_seconds=3,
        memory_mb=128,
        environment={},
    )
    with FunctionPool(spec, max_workers=1) as function_pool:
        with pytest.raises(FunctionError) as raised:
            function_pool.invoke({})

        assert raised.value.kind == "unhandled"
        assert raised.value.error_type == "Runtime.ImportModuleError"
        assert "Unable to import module 'broken'" in raised.value.message
        assert function_pool.worker_pids == ()


def test_a_worker_started_from_a_short_lived_thread_outlives_that_thread(pool: FunctionPool) -> None:
    # Linux sends the parent-death signal when the thread that forked the child ends, not the process.
    answers: list[Any] = []
    thread = threading.Thread(target=lambda: answers.append(pool.invoke({})))
    thread.start()
    thread.join(timeout=20)
    # Once the kernel has let the thread go, any parent-death signal has been sent: the next call would see it.
    assert wait_until(lambda: not Path(f"/proc/self/task/{thread.native_id}").exists(), seconds=5)

    assert is_running(answers[0]["pid"])
    assert pool.invoke({})["pid"] == answers[0]["pid"]
    assert pool.cold_starts == 1


def test_close_leaves_no_worker_alive() -> None:
    function_pool = FunctionPool(echo_spec(), max_workers=3)
    function_pool.warm(3)
    pids = function_pool.worker_pids
    assert len(pids) == 3
    assert all(is_running(pid) for pid in pids)

    function_pool.close()
    function_pool.close()  # idempotent

    assert not {child.pid for child in multiprocessing.active_children()} & set(pids)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # ended and reaped
    with pytest.raises(RuntimeError):
        function_pool.invoke({})


def test_close_ends_a_busy_worker_and_its_caller_gets_a_crash(tmp_path: Path) -> None:
    function_pool = FunctionPool(echo_spec(timeout_seconds=30), max_workers=1)
    function_pool.warm(1)
    (pid,) = function_pool.worker_pids
    errors: list[FunctionError] = []
    started = tmp_path / "started"

    def call() -> None:
        try:
            function_pool.invoke({"action": "sleep", "seconds": 30, "started_file": str(started)})
        except FunctionError as error:
            errors.append(error)

    thread = threading.Thread(target=call)
    thread.start()
    assert wait_until(started.exists, seconds=20), "the worker never started the handler"
    function_pool.close()
    thread.join(timeout=5)

    assert not thread.is_alive()
    assert [error.kind for error in errors] == ["crash"]
    assert not is_running(pid)


PARENT_SCRIPT = """
import json, sys, threading, time
from pathlib import Path
from acuity_sync_toolkit.stack.functions import FunctionSpec
from acuity_sync_toolkit.stack.lambda_runtime import FunctionPool

spec = FunctionSpec(
    logical_id="EchoFunction", code_dir=Path(sys.argv[1]), handler="app.lambda_handler",
    layer_dirs=(Path(sys.argv[2]),), runtime="python3.11", timeout_seconds=60, memory_mb=128, environment={},
)
pool = FunctionPool(spec, max_workers=1)
pid = pool.invoke({})["pid"]
# Busy in its handler, the worker is not reading its pipe: only the parent-death signal can end it now.
started = Path(sys.argv[3])
busy = {"action": "sleep", "seconds": 60, "started_file": str(started)}
threading.Thread(target=pool.invoke, args=(busy,), daemon=True).start()
deadline = time.monotonic() + 20
while not started.exists():
    if time.monotonic() > deadline:
        sys.exit("the worker never started its handler")
    time.sleep(0.01)
print(json.dumps({"pid": pid}), flush=True)
threading.Event().wait()  # until the test kills this process
"""


def test_workers_die_when_their_parent_is_killed(tmp_path: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT_SCRIPT, str(ECHO_DIR), str(LAYER_DIR), str(tmp_path / "started")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        worker_pid = json.loads(parent.stdout.readline())["pid"]
        assert is_running(worker_pid)

        parent.kill()
        parent.wait(timeout=5)

        assert wait_until(lambda: not is_running(worker_pid), seconds=5)
    finally:
        parent.kill()
        parent.wait(timeout=5)
