"""The built core layer's figures, and what its .pyc files buy at a cold start.

    PYENV_VERSION=3.11.7:3.13.0 .venv/bin/python scripts/layer_report.py [--build-dir .aws-sam/build] [--runs 15]

Prints the layer's size (on disk, as files, and zipped as `sam deploy` uploads it) and its .py and .pyc counts;
then times, in fresh `python3.13 -I -B` processes with the layer's python/ first on sys.path (as Lambda puts
/opt/python), two cold imports: boto3 + an SQS client + Powertools' event handler, and the webhook function's
whole module (functions/webhook/app.py as built). Each runs against the layer as built (compiled) and against a
copy without any __pycache__ (what `sam build` shipped before), alternately. -B: Lambda's /opt is read-only, so
a module without a usable .pyc is compiled again at every cold start, as here.

pydantic-core in the layer is built for arm64: on another machine nothing that imports pydantic can load, so only
these imports (neither needs pydantic) are timed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import zipfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

CLIENT_AND_EVENT_HANDLER = """
import boto3
boto3.client("sqs", region_name="us-east-1")
import aws_lambda_powertools.event_handler
"""
WEBHOOK_FUNCTION = """
import os, sys
os.environ.update(AWS_DEFAULT_REGION="us-east-1", TABLE_NAME="table", KMS_KEY_ID="key", POWERTOOLS_TRACE_DISABLED="1")
sys.path.insert(1, FUNCTION)
import app
"""
TIMER = """
import sys, time
LAYER, FUNCTION = sys.argv[1], sys.argv[2]
sys.path.insert(0, LAYER)
started = time.perf_counter()
exec(compile(WORKLOAD, "<workload>", "exec"))
print(time.perf_counter() - started)
"""


def layer_figures(layer: Path) -> dict[str, float]:
    files = [path for path in layer.rglob("*") if path.is_file()]
    with tempfile.TemporaryFile() as archive:
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for path in files:
                zipped.write(path, Path("python") / path.relative_to(layer))
        zipped_bytes = archive.tell()
    return {
        "disk_mb": sum(path.stat().st_blocks * 512 for path in files) / 2**20,
        "files_mb": sum(path.stat().st_size for path in files) / 2**20,
        "zipped_mb": zipped_bytes / 2**20,
        "py": sum(1 for path in files if path.suffix == ".py"),
        "pyc": sum(1 for path in files if path.suffix == ".pyc"),
    }


def time_once(python: str, layer: Path, function: Path, workload: str) -> float:
    code = f"WORKLOAD = {workload!r}\n{TIMER}"
    result = subprocess.run(  # noqa: S603 (the interpreter the user named, running our own code)
        [python, "-I", "-B", "-c", code, str(layer), str(function)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
    )
    if result.returncode != 0:
        raise SystemExit(f"the workload failed to import:\n{result.stderr[-2000:]}")
    return float(result.stdout.strip().splitlines()[-1])


def summary(seconds: list[float]) -> str:
    return f"median {statistics.median(seconds):.3f} s (min {min(seconds):.3f}, max {max(seconds):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", type=Path, default=PROJECT_ROOT / ".aws-sam" / "build")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--python", default="python3.13")
    options = parser.parse_args()
    layer = (options.build_dir / "CoreLayer" / "python").resolve()
    function = (options.build_dir / "WebhookFunction").resolve()
    if not (layer / "acuity_sync").is_dir():
        raise SystemExit(f"no built layer in {layer}: run `make sam-build`")

    figures = layer_figures(layer)
    print(
        f"layer: {figures['disk_mb']:.0f} MB on disk ({figures['files_mb']:.1f} MB of files, "
        f"{figures['zipped_mb']:.1f} MB zipped), {figures['py']:.0f} .py, {figures['pyc']:.0f} .pyc"
    )
    with tempfile.TemporaryDirectory() as scratch:
        source_only = Path(scratch) / "python"
        shutil.copytree(layer, source_only, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        workloads = {
            "boto3 + SQS client + Powertools event handler": CLIENT_AND_EVENT_HANDLER,
            "the webhook function's module": WEBHOOK_FUNCTION,
        }
        results: dict[str, dict[str, list[float]]] = {}
        for name, workload in workloads.items():
            times: dict[str, list[float]] = {"compiled": [], "source only": []}
            for _ in range(options.runs):
                times["compiled"].append(time_once(options.python, layer, function, workload))
                times["source only"].append(time_once(options.python, source_only, function, workload))
            results[name] = times
            print(f"{name} ({options.runs} cold imports each, {options.python} -I -B):")
            for variant, seconds in times.items():
                print(f"  {variant:12} {summary(seconds)}")
            saved = statistics.median(times["source only"]) - statistics.median(times["compiled"])
            print(f"  saved        {saved:.3f} s at the median")
    print(json.dumps({"figures": figures, "seconds": results}))


if __name__ == "__main__":
    main()
