"""The local stack's AWS: moto's server in a process of its own.

Every DynamoDB, SQS and KMS request of every function goes to it. In the stack's own process it shared one GIL with
the fakes, the gateway and the pollers (the soak found that process at 87% of a core while a third of the machine
was idle); here it has its own, and its own state. The process applies the stack's two changes to moto
(atomic_dynamodb.py, moto_at_scale.py) before it serves, and ends by itself when the process that started it does
(its end of a pipe closes)."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

START_TIMEOUT = 60.0  # seconds for the child to import moto and answer on its port


def _serve(port: int, parent: Connection) -> None:
    """The child: serve until the parent says stop or goes away."""
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer  # the child's imports

    from acuity_sync_toolkit.stack.atomic_dynamodb import make_dynamodb_atomic
    from acuity_sync_toolkit.stack.moto_at_scale import make_moto_scale

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request otherwise
    make_dynamodb_atomic()  # the functions race as Lambda's do: each DynamoDB operation atomic, as DynamoDB's
    make_moto_scale()  # a transaction or a receive costs the same beside 100 items or 100,000
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    parent.send(server.get_host_and_port())
    try:
        parent.recv()  # "stop", or EOFError when the parent has died
    except EOFError:
        pass
    finally:
        server.stop()


class AwsProcess:
    """moto's server in a child process; `url` once started."""

    def __init__(self, port: int = 0) -> None:
        self._port = port
        self._process: BaseProcess | None = None
        self._pipe: Connection | None = None
        self.url = ""

    def start(self) -> str:
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(target=_serve, args=(self._port, theirs), name="local-aws", daemon=True)
        process.start()
        theirs.close()
        self._process, self._pipe = process, ours
        if not ours.poll(START_TIMEOUT):
            self.stop()
            raise RuntimeError(f"moto's server did not start within {START_TIMEOUT:g} s")
        host, port = ours.recv()
        self.url = f"http://{host}:{port}"
        return self.url

    def stop(self) -> None:
        process, pipe = self._process, self._pipe
        self._process, self._pipe = None, None
        if pipe is not None:
            with contextlib.suppress(BrokenPipeError, OSError):  # it has ended already
                pipe.send("stop")
            pipe.close()
        if process is not None:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
