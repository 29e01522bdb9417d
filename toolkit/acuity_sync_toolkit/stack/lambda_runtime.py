"""Runs a Lambda function here the way Lambda runs it: in worker processes ("execution environments").

Each worker is a fresh `spawn` process that sets Lambda's environment, puts the function's code and layers at
the front of sys.path, imports the handler once (the cold start) and then serves one invocation at a time, so
module state, connection reuse and cold starts behave as in Lambda. The parent talks to a worker over a Pipe:
the event goes out as JSON text and the result comes back as JSON text, as Lambda's runtime API carries them.

Failures map to Lambda's: an exception in the handler is reported (errorType, errorMessage, stackTrace) and the
worker is kept; a worker that exits is a crash and is replaced by a cold one on the next invocation; an
invocation that outlives the function's timeout kills the worker, as Lambda resets a timed-out environment.
"""

from __future__ import annotations

import ctypes
import decimal
import importlib
import io
import json
import multiprocessing
import multiprocessing.spawn
import os
import secrets
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from acuity_sync_toolkit.stack.functions import FunctionSpec

ErrorKind = Literal["timeout", "crash", "unhandled"]

LOCAL_ACCOUNT_ID = "123456789012"  # moto's default account, so ARNs here match the embedded AWS
DEFAULT_REGION = "us-east-1"
# Lambda gives the init phase (the handler's import) its own 10 s, apart from the function's timeout; an init that
# does not finish in them is retried with the first invocation, under the function's timeout (a "suppressed init").
INIT_TIMEOUT_SECONDS = 10.0
# How long close() lets an idle worker leave on its own (EOF on its pipe) before killing it.
_GRACEFUL_EXIT_SECONDS = 1.0
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_WORKER_NAME_PREFIX = "lambda-"

Handler = Callable[[Any, Any], Any]


class FunctionError(Exception):
    """An invocation that failed as Lambda reports it: `kind` says how, `error_type`/`message` say what."""

    def __init__(
        self, kind: ErrorKind, message: str, *, error_type: str = "", stack_trace: tuple[str, ...] = ()
    ) -> None:
        super().__init__(f"{kind}: {error_type + ': ' if error_type else ''}{message}")
        self.kind: ErrorKind = kind
        self.message = message
        self.error_type = error_type
        self.stack_trace = stack_trace


# ---------------------------------------------------------------------------------------------------------
# The parent side: a pool of workers for one function.
# ---------------------------------------------------------------------------------------------------------


class FunctionPool:
    """The execution environments of one function: up to `max_workers` workers, each serving one call at a time.

    Thread-safe. A call takes an idle worker, or starts a new one (a cold start) while fewer than `max_workers`
    exist, or waits for one to come free, as Lambda does under its concurrency limit (without throttling).
    `time_scale` shortens the function's timeout in tests.
    """

    def __init__(
        self,
        spec: FunctionSpec,
        *,
        environment: Mapping[str, str] | None = None,
        max_workers: int = 4,
        log_path: Path | None = None,
        time_scale: float = 1.0,
    ) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.spec = spec
        self.max_workers = max_workers
        self.log_path = log_path
        self.time_scale = time_scale
        self._environment = lambda_environment(spec, environment or {})
        self._lock = threading.Condition()
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._starting = 0  # workers being started: counted against max_workers before they exist
        self._cold_starts = 0
        self._closed = False
        # Linux sends PR_SET_PDEATHSIG when the *thread* that forked the child ends, so every worker is forked
        # from this one long-lived thread, never from a caller's (a gateway request thread ends at once).
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"spawn-{spec.logical_id}")

    @property
    def timeout_seconds(self) -> float:
        return self.spec.timeout_seconds * self.time_scale

    @property
    def cold_starts(self) -> int:
        """How many workers have run their init phase (imported the handler) so far."""
        with self._lock:
            return self._cold_starts

    @property
    def worker_pids(self) -> tuple[int, ...]:
        """The process ids of the workers alive now, idle or busy."""
        with self._lock:
            workers = [*self._idle, *self._busy]
        return tuple(worker.pid for worker in workers if worker.is_alive())

    def invoke(self, event: dict[str, Any]) -> Any:
        """Invoke the function synchronously (RequestResponse): its return value, or FunctionError."""
        payload = json.dumps(event)
        worker = self._checkout()
        try:
            return worker.invoke(payload, self.timeout_seconds)
        finally:
            self._checkin(worker)

    def warm(self, count: int = 1) -> None:
        """Start up to `count` more idle workers now (as provisioned concurrency would), within max_workers."""
        started: list[_Worker] = []
        try:
            for _ in range(count):
                if not self._reserve_slot():
                    break
                started.append(self._start_reserved())
        finally:
            for worker in started:
                self._checkin(worker)

    def close(self) -> None:
        """Stop every worker and wait for it to end. Idempotent; calls waiting for a worker get RuntimeError."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            idle, busy = list(self._idle), list(self._busy)
            self._idle.clear()
            self._lock.notify_all()
        for worker in busy:
            worker.kill()  # its caller sees the pipe close and reports a crash
        for worker in idle:
            worker.stop()
        self._spawner.shutdown(wait=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _checkout(self) -> _Worker:
        with self._lock:
            worker = self._take_idle_or_reserve()
            if worker is not None:
                return worker
        # A slot was reserved: start the worker outside the lock, so other calls go on meanwhile.
        return self._start_reserved()

    def _take_idle_or_reserve(self) -> _Worker | None:
        """Under the lock: an idle live worker (marked busy), or None after reserving a slot for a new one."""
        while True:
            if self._closed:
                raise RuntimeError(f"the pool of {self.spec.logical_id} is closed")
            while self._idle:
                worker = self._idle.pop()  # the most recently used: the warmest, as Lambda tends to pick
                if worker.is_alive():
                    self._busy.add(worker)
                    return worker
                worker.stop()
            if self._worker_count() < self.max_workers:
                self._starting += 1
                return None
            self._lock.wait()

    def _reserve_slot(self) -> bool:
        with self._lock:
            if self._closed or self._worker_count() >= self.max_workers:
                return False
            self._starting += 1
            return True

    def _worker_count(self) -> int:
        return len(self._idle) + len(self._busy) + self._starting

    def _start_reserved(self) -> _Worker:
        """Start a worker in a reserved slot and wait for its init; the slot is freed if that fails."""
        try:
            worker = _Worker.start(self.spec, self._environment, self.log_path, self._spawner)
        except BaseException:
            with self._lock:
                self._starting -= 1
                self._lock.notify()
            raise
        with self._lock:
            self._starting -= 1
            self._cold_starts += 1
            if self._closed:
                self._lock.notify()
                closed = True
            else:
                self._busy.add(worker)
                closed = False
        if closed:
            worker.stop()
            raise RuntimeError(f"the pool of {self.spec.logical_id} is closed")
        try:
            # The 10 s and then the invocation's timeout, as Lambda's retried init has (the import is not restarted
            # here: on a machine busy enough to need it, restarting would only make it slower).
            worker.wait_ready(INIT_TIMEOUT_SECONDS + self.timeout_seconds)
        except BaseException:
            self._discard(worker)
            raise
        return worker

    def _checkin(self, worker: _Worker) -> None:
        with self._lock:
            self._busy.discard(worker)
            keep = not self._closed and worker.is_alive()
            if keep:
                self._idle.append(worker)
            self._lock.notify()
        if not keep:
            worker.stop()

    def _discard(self, worker: _Worker) -> None:
        with self._lock:
            self._busy.discard(worker)
            self._lock.notify()
        worker.stop()


class _Worker:
    """One execution environment: a spawned process and the parent's end of its pipe."""

    def __init__(self, process: BaseProcess, conn: Connection) -> None:
        self._process = process
        self._conn = conn
        self.pid: int = process.pid or 0

    @classmethod
    def start(
        cls, spec: FunctionSpec, environment: dict[str, str], log_path: Path | None, spawner: ThreadPoolExecutor
    ) -> _Worker:
        _skip_main_module_in_workers()
        context = multiprocessing.get_context("spawn")
        parent_conn, child_conn = context.Pipe(duplex=True)
        process = context.Process(
            target=_worker_main,
            args=(spec, environment, log_path, os.getpid(), child_conn),
            name=f"{_WORKER_NAME_PREFIX}{spec.logical_id}",
            daemon=True,  # multiprocessing also ends it when this interpreter exits normally
        )
        try:
            spawner.submit(process.start).result()
        finally:
            # Only the child may hold its end open, or a dead child would never show as EOF here.
            child_conn.close()
        return cls(process, parent_conn)

    def is_alive(self) -> bool:
        return self._process.is_alive()

    def wait_ready(self, timeout: float) -> None:
        """Wait for the init phase: the handler imported, or FunctionError as Lambda reports an init failure."""
        reply = self._receive(timeout, on_timeout=f"Init phase did not finish within {timeout:.2f} seconds")
        if reply[0] == "init_error":
            _, error_type, message, stack = reply
            raise FunctionError("unhandled", message, error_type=error_type, stack_trace=tuple(stack))

    def invoke(self, payload: str, timeout: float) -> Any:
        request_id = str(uuid.uuid4())
        deadline_ms = int(time.time() * 1000 + timeout * 1000)
        try:
            self._conn.send(("invoke", payload, request_id, deadline_ms, _trace_header()))
        except OSError:
            raise self._crashed() from None
        reply = self._receive(timeout, on_timeout=f"Task timed out after {timeout:.2f} seconds")
        return _result_of(reply)

    def _receive(self, timeout: float, *, on_timeout: str) -> tuple[Any, ...]:
        try:
            ready = self._conn.poll(timeout)
            if not ready:
                self.kill()
                raise FunctionError("timeout", on_timeout, error_type="Sandbox.Timedout")
            reply: tuple[Any, ...] = self._conn.recv()
        except (EOFError, ConnectionResetError, OSError):
            raise self._crashed() from None
        return reply

    def _crashed(self) -> FunctionError:
        self._process.join(timeout=_GRACEFUL_EXIT_SECONDS)
        self.kill()  # a worker whose pipe broke is no use even if it still runs
        return FunctionError(
            "crash",
            f"Runtime exited with error: {_exit_status(self._process.exitcode)}",
            error_type="Runtime.ExitError",
        )

    def kill(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join()

    def stop(self) -> None:
        """End the worker: EOF on its pipe asks it to leave; kill it if it does not, then reap it."""
        self._conn.close()
        self._process.join(timeout=_GRACEFUL_EXIT_SECONDS)
        self.kill()


_original_preparation_data = multiprocessing.spawn.get_preparation_data
_patch_lock = threading.Lock()


def _skip_main_module_in_workers() -> None:
    """Keep spawn from running this process's __main__ (pytest, the CLI, a script) in our workers.

    A spawned child normally re-imports the parent's main module before its target runs: in a worker that
    would load modules Lambda never has (and fail outright when main is <stdin>). multiprocessing has no
    option for this, so its preparation step is wrapped, for processes named as our workers only.
    """
    with _patch_lock:
        if multiprocessing.spawn.get_preparation_data is not _original_preparation_data:
            return

        def preparation_data(name: str) -> dict[str, Any]:
            data: dict[str, Any] = _original_preparation_data(name)
            if name.startswith(_WORKER_NAME_PREFIX):
                data.pop("init_main_from_path", None)
                data.pop("init_main_from_name", None)
            return data

        multiprocessing.spawn.get_preparation_data = preparation_data


def _result_of(reply: tuple[Any, ...]) -> Any:
    status = reply[0]
    if status == "result":
        return json.loads(reply[1])
    if status == "bytes":
        return reply[1]
    _, error_type, message, stack = reply
    raise FunctionError("unhandled", message, error_type=error_type, stack_trace=tuple(stack))


def _exit_status(exitcode: int | None) -> str:
    if exitcode is None:
        return "unknown"
    if exitcode < 0:
        return f"signal: {signal.Signals(-exitcode).name.removeprefix('SIG').lower()}"
    return f"exit status {exitcode}"


def _trace_header() -> str:
    """An X-Ray trace header, unsampled: Lambda sets one per invocation; unsampled, nothing is sent anywhere."""
    root = f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"
    return f"Root={root};Parent={secrets.token_hex(8)};Sampled=0;Lineage=1:{secrets.token_hex(4)}:0"


def lambda_environment(spec: FunctionSpec, overrides: Mapping[str, str]) -> dict[str, str]:
    """The whole environment of a worker: nothing of this process's leaks in, as nothing of yours is in Lambda."""
    environment = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"), "LANG": "en_US.UTF-8", "TZ": ":UTC"}
    environment.update(spec.environment)
    environment.update(overrides)
    region = environment.get("AWS_REGION") or environment.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    environment.setdefault("AWS_REGION", region)
    environment.setdefault("AWS_DEFAULT_REGION", region)
    name = spec.logical_id
    # Lambda's reserved variables: a function cannot set these, so they come last.
    environment.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(spec.timeout_seconds),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "_HANDLER": spec.handler,
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
        }
    )
    return environment


# ---------------------------------------------------------------------------------------------------------
# The worker side: runs in the spawned process.
# ---------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class LambdaContext:
    """The context object as the Python runtime builds it (awslambdaric): memory_limit_in_mb is a string there."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: str
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline_ms: int
    client_context: None = None
    identity: None = None

    def get_remaining_time_in_millis(self) -> int:
        return max(self.deadline_ms - int(time.time() * 1000), 0)


def _worker_main(
    spec: FunctionSpec, environment: dict[str, str], log_path: Path | None, parent_pid: int, conn: Connection
) -> None:
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it then closes us
    _redirect_output(log_path)
    _enter_lambda_environment(spec, environment)
    try:
        handler = _load_handler(spec.handler)
    except _InitError as error:
        conn.send(("init_error", error.error_type, error.message, error.stack))
        return
    conn.send(("ready",))
    _serve(handler, conn)


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this worker when its parent dies, so that no worker outlives the stack."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)


def _redirect_output(log_path: Path | None) -> None:
    """Point fds 1 and 2 (so C code and subprocesses too) at the log, unbuffered as Lambda's runtime does."""
    target = os.open(log_path or os.devnull, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os.dup2(target, 1)
    os.dup2(target, 2)
    os.close(target)
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(line_buffering=True, write_through=True)


def _enter_lambda_environment(spec: FunctionSpec, environment: dict[str, str]) -> None:
    log_stream = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{secrets.token_hex(16)}"
    os.environ.clear()
    os.environ.update(environment)
    os.environ["AWS_LAMBDA_LOG_STREAM_NAME"] = log_stream
    time.tzset()  # TZ=:UTC, as in Lambda
    # Lambda puts the code (/var/task) first, then the layers (/opt/python); the working directory is the code.
    sys.path[:0] = [str(spec.code_dir), *(str(layer) for layer in spec.layer_dirs)]
    os.chdir(spec.code_dir)


class _InitError(Exception):
    def __init__(self, error_type: str, message: str, stack: list[str]) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.stack = stack


def _load_handler(handler: str) -> Handler:
    """Import the handler as the Python runtime does, with its error types for each way that can fail."""
    module_name, _, function_name = handler.rpartition(".")
    if not module_name:
        raise _InitError("Runtime.MalformedHandlerName", f"Bad handler '{handler}': not enough values to unpack", [])
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as error:
        message = f"Unable to import module '{module_name}': {error}"
        raise _InitError("Runtime.ImportModuleError", message, []) from None
    except SyntaxError as error:
        message = f"Syntax error in module '{module_name}': {error}"
        raise _InitError("Runtime.UserCodeSyntaxError", message, []) from None
    except Exception as error:
        raise _InitError(type(error).__name__, str(error), _stack_of(error)) from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise _InitError("Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'", [])
    return function  # type: ignore[no-any-return]


def _serve(handler: Handler, conn: Connection) -> None:
    """Serve invocations until the parent closes the pipe. SystemExit is not caught: it ends the worker."""
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        _, payload, request_id, deadline_ms, trace_header = message
        os.environ["_X_AMZN_TRACE_ID"] = trace_header
        reply = _invoke_handler(handler, json.loads(payload), _context(request_id, deadline_ms))
        sys.stdout.flush()
        sys.stderr.flush()
        conn.send(reply)


def _invoke_handler(handler: Handler, event: Any, context: LambdaContext) -> tuple[Any, ...]:
    try:
        result = handler(event, context)
    except Exception as error:
        _log_error(error)
        return ("error", type(error).__name__, str(error), _stack_of(error))
    if isinstance(result, bytes):
        return ("bytes", result)
    try:
        return ("result", json.dumps(result, default=_json_default))
    except (TypeError, ValueError) as error:
        return ("error", "Runtime.MarshalError", f"Unable to marshal response: {error}", [])


def _json_default(value: object) -> Any:
    # Lambda's marshaller writes a Decimal as the number it spells.
    if isinstance(value, decimal.Decimal):
        return json.loads(str(value))
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _log_error(error: Exception) -> None:
    # The runtime logs an unhandled error to the function's log as "[ERROR] Type: message" and its traceback.
    print(f"[ERROR] {type(error).__name__}: {error}", "".join(_stack_of(error)), sep="\n", file=sys.stdout)


def _stack_of(error: BaseException) -> list[str]:
    return traceback.format_list(traceback.extract_tb(error.__traceback__))


def _context(request_id: str, deadline_ms: int) -> LambdaContext:
    environ = os.environ
    name = environ["AWS_LAMBDA_FUNCTION_NAME"]
    return LambdaContext(
        function_name=name,
        function_version=environ["AWS_LAMBDA_FUNCTION_VERSION"],
        invoked_function_arn=f"arn:aws:lambda:{environ['AWS_REGION']}:{LOCAL_ACCOUNT_ID}:function:{name}",
        memory_limit_in_mb=environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"],
        aws_request_id=request_id,
        log_group_name=environ["AWS_LAMBDA_LOG_GROUP_NAME"],
        log_stream_name=environ["AWS_LAMBDA_LOG_STREAM_NAME"],
        deadline_ms=deadline_ms,
    )
