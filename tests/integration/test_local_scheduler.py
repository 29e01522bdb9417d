"""The local stack's EventBridge schedules (stack/scheduler.py): a scheduled function runs every rate x time scale,
one run at a time, with the Scheduled Event EventBridge sends; an advance of the clock fires it at once, stamped
with the advanced time; a disabled rule does not fire."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.stack.functions import FunctionSpec, ScheduleSource
from acuity_sync_toolkit.stack.lambda_runtime import FunctionPool
from acuity_sync_toolkit.stack.scheduler import ScheduleRunner

ROOT = Path(__file__).resolve().parents[2]
SCHEDULE = ScheduleSource("EveryMinute", "rate(1 minute)", 60)
TIME_SCALE = 0.02  # a run every 1.2 s


@pytest.fixture(scope="module")
def pool() -> Iterator[FunctionPool]:
    spec = FunctionSpec(
        logical_id="EchoFunction",
        code_dir=ROOT / "tests" / "fixtures" / "functions" / "echo",
        handler="app.lambda_handler",
        layer_dirs=(ROOT / "layers" / "core",),
        runtime="python3.11",
        timeout_seconds=60,
        memory_mb=128,
        environment={},
        schedules=(SCHEDULE,),
    )
    with FunctionPool(spec, max_workers=1) as functions:
        functions.warm(1)
        yield functions


def test_a_schedule_runs_on_its_rate_with_eventbridges_event(pool: FunctionPool) -> None:
    clock = FakeClock()
    with ScheduleRunner(pool, SCHEDULE, clock=clock, time_scale=TIME_SCALE, region="us-east-1") as runner:
        started = time.monotonic()
        first = runner.wait_for_run(0, timeout=10)
        second = runner.wait_for_run(1, timeout=10)
        elapsed = time.monotonic() - started
    assert runner.period_seconds == pytest.approx(1.2)
    assert elapsed >= 2 * 1.2 - 0.1, "EventBridge fires a period after the rule is made, then every period"
    for run in (first, second):
        assert run.error is None
        event = EventBridgeModel.model_validate(run.result["event"])  # Powertools reads it as EventBridge's
        assert (event.detail_type, event.source, event.detail) == ("Scheduled Event", "aws.events", {})
        assert event.resources == ["arn:aws:events:us-east-1:123456789012:rule/EchoFunctionEveryMinute"]
        assert run.result["event"]["time"] == run.at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert second.at - first.at >= timedelta(seconds=1)


def test_an_advance_fires_at_once_with_the_advanced_time_and_a_disabled_rule_waits(pool: FunctionPool) -> None:
    clock = FakeClock()
    runner = ScheduleRunner(pool, SCHEDULE, clock=clock, time_scale=100.0, region="us-east-1").start()  # 100 min
    try:
        clock.advance(86_400)
        run = runner.wait_for_run(0, timeout=10)
        assert run.at - clock.now() > timedelta(seconds=-5)  # a day ahead of real time, as the clock says
        assert run.at.date() > (clock.now() - timedelta(days=1, seconds=10)).date()
        runner.disable()
        clock.advance(3600)
        with pytest.raises(TimeoutError):
            runner.wait_for_run(1, timeout=1.0)
        runner.enable()
        clock.advance(60)
        assert runner.wait_for_run(1, timeout=10).number == 2
    finally:
        runner.stop()
