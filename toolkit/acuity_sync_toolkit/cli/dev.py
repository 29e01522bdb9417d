"""`acuity-sync dev` (the local stack until Ctrl-C) and `acuity-sync demo`. The local stack is imported by these
commands only: the others start fast and need none of it."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from typing import Any

from acuity_sync_toolkit.cli.admin import local_admin_link
from acuity_sync_toolkit.cli.location import DEV_STATE


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    dev = commands.add_parser("dev", help="run the local stack until Ctrl-C")
    dev.add_argument("--port", type=int, default=8787, help="the local gateway's port (0: any free port)")
    dev.add_argument("--aws-port", type=int, default=0, help="embedded AWS's port (default: any free port)")
    dev.add_argument("--acuity-port", type=int, default=0, help="the fake Acuity's port (default: any free port)")
    dev.add_argument("--state-dir", type=Path, default=DEV_STATE.parent, help="where dev.json and logs go")
    dev.set_defaults(run=_run_dev)

    demo = commands.add_parser("demo", help="start the local stack, book appointments, show what happened")
    demo.add_argument("--state-dir", type=Path, default=DEV_STATE.parent)
    demo.set_defaults(run=_run_demo)


def _run_dev(arguments: argparse.Namespace) -> int:
    from acuity_sync_toolkit.stack.devstack import DevStack

    stop = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stop.set())
    stack = DevStack(
        state_dir=arguments.state_dir,
        gateway_port=arguments.port,
        aws_port=arguments.aws_port,
        acuity_port=arguments.acuity_port,
    )
    try:
        info = stack.start()
        print(
            f"ready gateway={info.gateway_url} aws={info.aws_endpoint_url} acuity={info.acuity_url} "
            f"state={arguments.state_dir / 'dev.json'}",
            flush=True,
        )
        print(f"demo tenant webhook: {info.demo_tenant['webhook_url']}", flush=True)
        link = local_admin_link(
            info.aws_endpoint_url,
            info.region,
            info.table_name,
            info.signing_secret_name,
            info.demo_tenant["id"],
            info.pages_url,
        )
        print(
            f"demo tenant settings (opens once, within 15 minutes; `acuity-sync admin-link` makes more): {link}",
            flush=True,
        )
        stop.wait()
    finally:
        stack.stop()
        print("stopped", flush=True)
    return 0


def _run_demo(arguments: argparse.Namespace) -> int:
    from acuity_sync_toolkit.demo.run import run_demo

    return run_demo(arguments.state_dir)
