"""Each sample event in events/ gives its documented answer when the handler the template names is invoked."""

from __future__ import annotations

import json
import runpy
from collections.abc import Iterator
from types import ModuleType

import pytest

from acuity_sync_toolkit.demo.tenant import demo_profile
from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack, load_template
from tests.support.aws import PROJECT_ROOT, TEMPLATE, add_tenant, loaded_handler, queue_depths
from tests.support.http_events import FakeLambdaContext

EVENTS = PROJECT_ROOT / "events"
# Written from events/README.md, not from the handler: (status, outcome, kind, action, messages per queue)
DOCUMENTED = {
    "webhook_scheduled.json": (200, "accepted", "appointment", "scheduled", 1),
    "webhook_rescheduled.json": (200, "accepted", "appointment", "rescheduled", 1),
    "webhook_canceled.json": (200, "accepted", "appointment", "canceled", 1),
    "webhook_changed.json": (200, "accepted", "appointment", "changed", 1),
    "webhook_order_completed.json": (200, "accepted", "order", "order.completed", 1),
    "webhook_scheduled_base64.json": (200, "accepted", "appointment", "scheduled", 1),
    "webhook_forged.json": (401, "rejected_signature", None, None, 0),
}


@pytest.fixture
def stack(stack: ProvisionedStack) -> ProvisionedStack:
    """The stack (conftest.py), with the demo tenant whose key signed the sample events."""
    add_tenant(stack, demo_profile("http://127.0.0.1:9"))
    return stack


@pytest.fixture
def webhook(stack: ProvisionedStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    with loaded_handler(stack, "WebhookFunction", monkeypatch) as module:
        yield module


def test_every_event_file_is_documented() -> None:
    assert sorted(path.name for path in EVENTS.glob("webhook_*.json")) == sorted(DOCUMENTED)
    readme = (EVENTS / "README.md").read_text(encoding="utf-8")
    for name in DOCUMENTED:
        assert f"`{name}`" in readme


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_each_event_gives_its_documented_answer(stack: ProvisionedStack, webhook: ModuleType, name: str) -> None:
    status, outcome, kind, action, per_queue = DOCUMENTED[name]
    event = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    response = webhook.lambda_handler(event, FakeLambdaContext())
    answer = json.loads(response["body"])
    assert (response["statusCode"], answer["outcome"]) == (status, outcome)
    if kind is not None:
        assert (answer["kind"], answer["action"]) == (kind, action)
    for logical_id, depth in queue_depths(stack).items():
        assert depth == (0 if "DeadLetter" in logical_id else per_queue), logical_id


def test_the_event_files_are_what_the_generator_writes() -> None:
    generator = runpy.run_path(str(PROJECT_ROOT / "scripts" / "make_events.py"))
    for name, text in generator["rendered"]().items():
        assert (EVENTS / name).read_text(encoding="utf-8") == text, f"{name} is stale: run scripts/make_events.py"


def test_env_json_sets_exactly_the_variables_the_template_gives_the_function() -> None:
    template = load_template(TEMPLATE)
    function = template["Resources"]["WebhookFunction"]["Properties"]
    declared = set(function["Environment"]["Variables"])
    declared |= set(template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}))
    env_json = json.loads((EVENTS / "env.json").read_text(encoding="utf-8"))["WebhookFunction"]
    local_only = {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "POWERTOOLS_TRACE_DISABLED"}
    assert set(env_json) - local_only == declared


def test_sample_events_are_valid_json_under_8_kib() -> None:
    for path in EVENTS.glob("webhook_*.json"):
        assert len(json.loads(path.read_text(encoding="utf-8"))["body"]) < 8192
