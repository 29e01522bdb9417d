"""bench/fuzz runs end to end, small: the real handler against moto, its zeros and its JSON line as documented."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("sqs", ["hook", "moto"])
def test_the_fuzz_bench_answers_every_request_without_a_5xx_or_an_unsigned_message(sqs: str) -> None:
    completed = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "bench" / "fuzz" / "run.py"), "--requests", "600", "--sqs", sqs],
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT_ROOT,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    assert set(figures) == {"requests", "accepted", "server_errors", "unsigned_queued"}
    assert figures["requests"] == 600
    assert figures["server_errors"] == figures["unsigned_queued"] == 0
    assert figures["accepted"] > 100
