"""Cold start of what is deployed: the webhook function on the layer `sam build` made, against its floor.

    PYENV_VERSION=3.11.7:3.13.0 .venv/bin/python bench/coldstart/run.py [--runs 15] [--layer x86_64|built]
        [--compare-ref REF]

bench/webhook measures the source tree with .venv's packages (Python 3.11, tracing off). This measures the
artifact: the core layer in .aws-sam/build (`make sam-build`: requirements as CPython 3.13 wheels for arm64, every
module compiled to an unchecked-hash .pyc) and the function's code as built, run as Lambda runs them:

- Python 3.13 (`python3.13 -I -B`): the layer's python/ and the function's directory first on sys.path (Lambda's
  /opt/python and /var/task), nothing of this machine's site-packages, no .pyc written (Lambda's code and layers
  are read-only), the environment the template gives the function plus Lambda's reserved variables.
- Tracing as deployed (template: Tracing: Active): LAMBDA_TASK_ROOT is set and POWERTOOLS_TRACE_DISABLED is not,
  so a Powertools Tracer is live; each cold start gets a sampled _X_AMZN_TRACE_ID and AWS_XRAY_DAEMON_ADDRESS
  points at a UDP socket of this bench, which counts the segment documents it receives.
- Native code: the layer's wheels are for arm64. The webhook imports none of them (each run reports the extension
  modules it loaded from the layer). By default (`--layer x86_64`) the runs use a variant of the same layer built
  for this machine: layers/core/Makefile run as `sam build` runs it, with PLATFORMS set to x86_64's manylinux
  tags, cached in .aws-sam/coldstart/; the bench checks that it differs from the built layer only in native
  files and wheel metadata, and lists those. `--layer built` runs the arm64 layer itself.

Sides, alternated run by run after one untimed run of each (file cache), each a fresh process timed from spawn
to exit (it leaves with os._exit after answering, as a frozen Lambda environment is never finalised):
- floor: bench/webhook/cold_floor.py (plain boto3 from the layer: GetItem, Decrypt, one SendMessage per ledger);
- handler: bench/webhook/cold_handler.py, importing the built function's app and serving one signed webhook;
- before (with --compare-ref): the same, with functions/webhook/app.py and acuity_sync/observability.py as they
  are at REF (e.g. the commit before the event handler and the Tracer left the webhook), compiled into a copy.

Figures: the median wall time of each, and the median CPU time (user + system, from wait4), which a busy shared
machine disturbs less; ratios against the floor. AWS calls are counted in each process (botocore `before-call`)
and must equal bench/webhook's expected cold calls. moto runs in server mode in this process.
Prints a table, writes bench/results/coldstart.json and, last, one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import botocore
import moto
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT))  # bench.webhook, as when run from the project root

from bench.webhook.run import (  # noqa: E402
    ACTION,
    EXPECTED_COLD_CALLS,
    FAKE_CREDENTIALS,
    OBJECT_ID,
    TENANT_ID,
    Bench,
    check_floor_config,
    purge_queues,
    received_at,
    set_up,
    with_request_id,
)

WEBHOOK_BENCH = PROJECT_ROOT / "bench" / "webhook"
BUILD_DIR = PROJECT_ROOT / ".aws-sam" / "build"
LAYER_SOURCE = PROJECT_ROOT / "layers" / "core"
RESULTS_DIR = PROJECT_ROOT / "bench" / "results"
RESULTS = RESULTS_DIR / "coldstart.json"
VARIANT_DIR = PROJECT_ROOT / ".aws-sam" / "coldstart"  # beside the build, which it mirrors; outside any checked tree
X86_64_PLATFORMS = "manylinux2014_x86_64 manylinux_2_28_x86_64"
CALLS_MARKER = "BENCH-RESULT "
EXTRA_MARKER = "COLDSTART-EXTRA "
CHILD_TIMEOUT_SECONDS = 120.0
COLD_AIM = 1.2

# Run in the child before anything else: the layer (and the function's code) first on sys.path, then the side's
# script from bench/webhook, imported from the end of sys.path so that nothing there shadows the layer.
BOOTSTRAP = """
import json, os, sys
code_dir, layer, bench_dir, script, argument = sys.argv[1:6]
sys.path[:0] = [code_dir, layer] if code_dir else [layer]
sys.path.append(bench_dir)
module = __import__(script)
status = module.main([script, argument])
native = sorted(
    name for name, loaded in list(sys.modules.items())
    if (getattr(loaded, "__file__", None) or "").startswith(layer) and (loaded.__file__ or "").endswith(".so")
)
sys.stderr.write("COLDSTART-EXTRA " + json.dumps({"native": native, "xray": "aws_xray_sdk" in sys.modules}) + "\\n")
sys.stdout.flush()
sys.stderr.flush()
os._exit(status)
"""


class BenchError(RuntimeError):
    pass


@dataclass(slots=True)
class Side:
    name: str
    code_dir: Path | None
    layer: Path
    script: str  # cold_handler or cold_floor
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    calls: list[dict[str, int]] = field(default_factory=list)
    native: set[str] = field(default_factory=set)
    xray: set[bool] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        return {
            "code_dir": str(self.code_dir.relative_to(PROJECT_ROOT)) if self.code_dir else None,
            "layer": str(self.layer.relative_to(PROJECT_ROOT)),
            "wall_seconds": self.wall,
            "cpu_seconds": self.cpu,
            "median_wall_seconds": statistics.median(self.wall),
            "median_cpu_seconds": statistics.median(self.cpu),
            "calls": self.calls,
            "native_modules_loaded_from_the_layer": sorted(self.native),
            "x_ray_sdk_imported": sorted(self.xray),
        }


# ----------------------------------------------------------------------------------------------- the layers


def program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BenchError(f"{name} is not on PATH")
    return found


def tree_digest(*roots: Path) -> str:
    digest = hashlib.sha256()
    for root in roots:
        paths = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in paths:
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                digest.update(str(path.relative_to(root.parent)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def built_layer() -> Path:
    layer = BUILD_DIR / "CoreLayer" / "python"
    if not (layer / "acuity_sync").is_dir():
        raise BenchError(f"no built layer in {layer}: run `make sam-build`")
    for shipped, source in ((layer / "acuity_sync", LAYER_SOURCE / "acuity_sync"),):
        if tree_digest(shipped) != tree_digest(source):
            raise BenchError("the built layer is stale (acuity_sync differs from layers/core): run `make sam-build`")
    function = BUILD_DIR / "WebhookFunction" / "app.py"
    if function.read_bytes() != (PROJECT_ROOT / "functions" / "webhook" / "app.py").read_bytes():
        raise BenchError("the built webhook function is stale: run `make sam-build`")
    return layer


def x86_64_layer(python: str) -> Path:
    """layers/core/Makefile's build, as `sam build` runs it (a copy of the folder, ARTIFACTS_DIR), for x86_64."""
    stamp_value = tree_digest(
        LAYER_SOURCE / "Makefile", LAYER_SOURCE / "requirements.txt", LAYER_SOURCE / "acuity_sync"
    )
    artifacts = VARIANT_DIR / "CoreLayer-x86_64"
    stamp = artifacts / "source.sha256"
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == stamp_value:
        return artifacts / "python"
    progress("building the x86_64 variant of the core layer (layers/core/Makefile, PLATFORMS for x86_64)")
    shutil.rmtree(artifacts, ignore_errors=True)
    artifacts.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "core"
        shutil.copytree(LAYER_SOURCE, source, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        subprocess.run(
            [
                program("make"),
                "--no-print-directory",
                "build-CoreLayer",
                f"ARTIFACTS_DIR={artifacts}",
                f"PLATFORMS={X86_64_PLATFORMS}",
                f"PYTHON={python}",
            ],
            cwd=source,
            check=True,
        )
    stamp.write_text(stamp_value, encoding="utf-8")
    return artifacts / "python"


def layer_differences(built: Path, variant: Path) -> dict[str, list[str]]:
    """What differs between the built layer and the variant: files only in one, and common files whose bytes
    differ. Only native code and wheel metadata may."""

    def files(root: Path) -> dict[str, Path]:
        return {str(path.relative_to(root)): path for path in root.rglob("*") if path.is_file()}

    ours, theirs = files(built), files(variant)
    differing = sorted(
        name for name in ours.keys() & theirs.keys() if ours[name].read_bytes() != theirs[name].read_bytes()
    )
    return {
        "only_in_built": sorted(ours.keys() - theirs.keys()),
        "only_in_variant": sorted(theirs.keys() - ours.keys()),
        "differing": differing,
    }


def allowed_difference(name: str) -> bool:
    return name.endswith(".so") or ".dist-info/" in name


def choose_layer(kind: str, python: str) -> tuple[Path, dict[str, Any]]:
    """The layer the runs use (the built one, or its x86_64 variant checked against it) and what to say of it."""
    built = built_layer()
    layers: dict[str, Any] = {"built": str(built.relative_to(PROJECT_ROOT))}
    layer = built
    if kind == "x86_64":
        layer = x86_64_layer(python)
        differences = layer_differences(built, layer)
        unexpected = [name for names in differences.values() for name in names if not allowed_difference(name)]
        if unexpected:
            raise BenchError(f"the x86_64 variant differs from the built layer beyond native code: {unexpected[:20]}")
        layers["differences"] = differences
    layers["path"] = str(layer.relative_to(PROJECT_ROOT))
    return layer, layers


def before_variant(ref: str, layer: Path, function_dir: Path, python: str) -> tuple[Path, Path]:
    """A copy of the layer and the function with app.py and observability.py as they are at `ref`."""
    target = VARIANT_DIR / f"before-{ref}"
    shutil.rmtree(target, ignore_errors=True)
    layer_copy, code_copy = target / "python", target / "WebhookFunction"
    shutil.copytree(layer, layer_copy, symlinks=True)
    shutil.copytree(function_dir, code_copy)
    for path, destination in (
        ("functions/webhook/app.py", code_copy / "app.py"),
        ("layers/core/acuity_sync/observability.py", layer_copy / "acuity_sync" / "observability.py"),
    ):
        shown = subprocess.run(
            [program("git"), "show", f"{ref}:{path}"], cwd=PROJECT_ROOT, capture_output=True, check=True
        )
        destination.write_bytes(shown.stdout)
    compiled = layer_copy / "acuity_sync" / "__pycache__" / "observability.cpython-313.pyc"
    subprocess.run(
        [
            python,
            "-c",
            "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], dfile=sys.argv[3], "
            "doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)",
            str(layer_copy / "acuity_sync" / "observability.py"),
            str(compiled),
            "/opt/python/acuity_sync/observability.py",
        ],
        check=True,
    )
    return layer_copy, code_copy


# ----------------------------------------------------------------------------------------------- X-Ray


class SegmentSink:
    """A UDP socket standing for the X-Ray daemon: counts the segment documents the traced processes send."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.address = "{}:{}".format(*self._socket.getsockname())
        self.received = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, name="xray-sink", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while not self._stop.is_set():
            try:
                self._socket.recv(65536)
            except TimeoutError:
                continue
            self.received += 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.setblocking(False)
        while True:  # what arrived since the thread's last read
            try:
                self._socket.recv(65536)
            except BlockingIOError:
                break
            self.received += 1
        self._socket.close()


def trace_header() -> str:
    root = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    return f"Root={root};Parent={uuid.uuid4().hex[:16]};Sampled=1"


# ----------------------------------------------------------------------------------------------- runs


def run_side(side: Side, bench: Bench, environment: dict[str, str], python: str, label: str) -> None:
    if side.script == "cold_handler":
        code_dir = side.code_dir
        assert code_dir is not None
        argument: dict[str, Any] = {
            "code_dir": str(code_dir),
            "layer_dirs": [str(side.layer)],
            "handler": bench.spec.handler,
            "event": with_request_id(bench.event, f"cold-{side.name}-{label}-{uuid.uuid4().hex}"),
        }
    else:
        argument = {
            "tenant_id": TENANT_ID,
            "object_id": OBJECT_ID,
            "action": ACTION,
            "received_at": received_at(),
            "request_id": f"cold-{side.name}-{label}-{uuid.uuid4().hex}",
        }
    command = [
        python,
        "-I",
        "-B",
        "-c",
        BOOTSTRAP,
        str(side.code_dir or ""),
        str(side.layer),
        str(WEBHOOK_BENCH),
        side.script,
        json.dumps(argument),
    ]
    child_environment = {**environment, "_X_AMZN_TRACE_ID": trace_header()}
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=child_environment, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert process.stderr is not None
    stderr = process.stderr.read().decode("utf-8", "replace")
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    results = [line.removeprefix(CALLS_MARKER) for line in stderr.splitlines() if line.startswith(CALLS_MARKER)]
    extras = [line.removeprefix(EXTRA_MARKER) for line in stderr.splitlines() if line.startswith(EXTRA_MARKER)]
    if process.returncode != 0 or len(results) != 1 or len(extras) != 1:
        raise BenchError(f"{side.name} exited {process.returncode}:\n{stderr[-3000:]}")
    result, extra = json.loads(results[0]), json.loads(extras[0])
    if side.script == "cold_handler" and result.get("status") != 200:
        raise BenchError(f"{side.name} answered {result.get('status')}, not 200:\n{stderr[-3000:]}")
    if label == "warmup":
        return
    side.wall.append(elapsed)
    side.cpu.append(usage.ru_utime + usage.ru_stime)
    side.calls.append(result["calls"])
    side.native.update(extra["native"])
    side.xray.add(bool(extra["xray"]))


def measure(sides: list[Side], bench: Bench, environment: dict[str, str], python: str, runs: int) -> None:
    for side in sides:
        purge_queues(bench)
        run_side(side, bench, environment, python, "warmup")
    for number in range(runs):
        for side in sides:
            purge_queues(bench)
            run_side(side, bench, environment, python, str(number))
        progress(
            f"cold {number + 1}/{runs}: "
            + ", ".join(
                f"{side.name} {side.wall[-1] * 1000:.0f} ms ({side.cpu[-1] * 1000:.0f} ms CPU)" for side in sides
            )
        )


# ----------------------------------------------------------------------------------------------- report


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def report(sides: list[Side], settings: dict[str, Any], layers: dict[str, Any], segments: int) -> dict[str, Any]:
    floor = next(side for side in sides if side.name == "floor")
    floor_wall, floor_cpu = statistics.median(floor.wall), statistics.median(floor.cpu)
    print()
    print(f"{'':10} {'wall (median)':>14} {'ratio':>7} {'CPU (median)':>13} {'ratio':>7}  AWS calls")
    figures: dict[str, Any] = {}
    for side in sides:
        wall, cpu = statistics.median(side.wall), statistics.median(side.cpu)
        calls = ", ".join(f"{name} {count}" for name, count in sorted(side.calls[0].items()))
        print(
            f"{side.name:10} {wall * 1000:>11.0f} ms {wall / floor_wall:>6.2f}x {cpu * 1000:>10.0f} ms "
            f"{cpu / floor_cpu:>6.2f}x  {calls}"
        )
        figures[side.name] = {
            "wall_ms": round(wall * 1000),
            "cpu_ms": round(cpu * 1000),
            "wall_ratio": round(wall / floor_wall, 3),
            "cpu_ratio": round(cpu / floor_cpu, 3),
        }
    problems = [
        f"{side.name} run {number}: {calls}, expected {EXPECTED_COLD_CALLS}"
        for side in sides
        for number, calls in enumerate(side.calls)
        if calls != EXPECTED_COLD_CALLS
    ]
    print()
    print(f"runs: {settings['runs']} of each, alternated; layer: {settings['layer']} ({layers['path']})")
    for side in sides:
        native = ", ".join(sorted(side.native)) or "none"
        print(f"{side.name}: native modules loaded from the layer: {native}; X-Ray SDK imported: {sorted(side.xray)}")
    print(f"segment documents received by the X-Ray sink: {segments}")
    if layers.get("differences") is not None:
        differing = [*layers["differences"]["only_in_built"], *layers["differences"]["differing"]]
        print(f"the variant differs from the built layer in {len(differing)} files, all native code or wheel metadata:")
        for name in differing:
            print(f"  {name}")
    print("same AWS calls: " + ("yes" if not problems else "NO"))
    for problem in problems:
        print(f"  {problem}")
    handler = figures["handler"]
    print(
        f"\ncold start on the built layer: {handler['wall_ratio']:.2f}x the floor in wall time, "
        f"{handler['cpu_ratio']:.2f}x in CPU time (aim <= {COLD_AIM}x)"
    )
    document = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load_average": os.getloadavg()},
        "bench_python": platform.python_version(),
        "versions": {"boto3": boto3.__version__, "botocore": botocore.__version__, "moto": moto.__version__},
        "settings": settings,
        "layers": layers,
        "x_ray_segments_received": segments,
        "sides": {side.name: side.to_json() for side in sides},
        "figures": figures,
        "aim": COLD_AIM,
        "call_problems": problems,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"raw numbers: {RESULTS.relative_to(PROJECT_ROOT)}")
    return document


# ----------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="cold starts of each side (default 15)")
    parser.add_argument("--layer", choices=["x86_64", "built"], default="x86_64")
    parser.add_argument("--compare-ref", help="also run the webhook's app.py and observability.py of this git ref")
    parser.add_argument("--python", default="python3.13")
    arguments = parser.parse_args(argv)
    if arguments.runs < 1:
        parser.error("--runs must be at least 1")
    if shutil.which(arguments.python) is None:
        parser.error(f"{arguments.python} is not on PATH (with pyenv: PYENV_VERSION=3.11.7:3.13.0)")
    # The interpreter itself, not a shim in front of it (pyenv's is a shell script that would be timed too).
    python = subprocess.run(
        [arguments.python, "-c", "import sys; print(sys.executable)"], capture_output=True, text=True, check=True
    ).stdout.strip()
    check_floor_config()
    function_dir = BUILD_DIR / "WebhookFunction"
    layer, layers = choose_layer(arguments.layer, python)
    sides = [
        Side("floor", None, layer, "cold_floor"),
        Side("handler", function_dir, layer, "cold_handler"),
    ]
    if arguments.compare_ref:
        before_layer, before_code = before_variant(arguments.compare_ref, layer, function_dir, python)
        sides.append(Side("before", before_code, before_layer, "cold_handler"))

    for name, value in FAKE_CREDENTIALS.items():
        os.environ[name] = value
    os.environ["MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR"] = "false"
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    sink = SegmentSink()
    settings = {"runs": arguments.runs, "layer": arguments.layer, "compare_ref": arguments.compare_ref}
    try:
        host, port = server.get_host_and_port()
        bench = set_up(f"http://{host}:{port}")
        environment = {key: value for key, value in bench.environment.items() if key != "POWERTOOLS_TRACE_DISABLED"}
        environment |= {"LAMBDA_TASK_ROOT": str(function_dir), "AWS_XRAY_DAEMON_ADDRESS": sink.address}
        progress(f"moto on http://{host}:{port}; {settings}")
        measure(sides, bench, environment, python, arguments.runs)
    finally:
        server.stop()
        sink.close()
    document = report(sides, settings, layers, sink.received)
    handler = document["figures"]["handler"]
    summary = {
        "layer": arguments.layer,
        "runs": arguments.runs,
        "cold_ratio": handler["wall_ratio"],
        "cold_cpu_ratio": handler["cpu_ratio"],
        "figures": document["figures"],
    }
    print(json.dumps(summary))
    return 1 if document["call_problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
