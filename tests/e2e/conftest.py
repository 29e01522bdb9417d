"""No secret in any log of the end-to-end suite (issue 9, item 9).

Every local stack the suite starts in this process is watched: when it stops, everything secret it handed out
(DevStack.secrets_in_use: every token the fake ledgers issued, our OAuth client's secrets, every Acuity API key
and every e-mail address the fake Acuity holds) is looked for in its functions' logs (the worker processes write
them under its state dir) and in everything the test process itself printed or logged so far (pytest's captured
output of every test). A stack run by the CLI in a process of its own (tests/e2e/test_dev_stack.py) is looked at
with `assert_no_secrets_in`, with what the test can know of it (dev.json, the demo's constants) and any e-mail
address at all. A leak fails the stack's fixture (an error at its teardown), naming the file and the kind of
secret, never the secret itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from acuity_sync_toolkit.stack.devstack import DevStack

# Any e-mail address (the redactor masks them all; tests use example.com): one in a log is a leak, whoever's it is.
EMAIL = re.compile(r"[\w.%+'!#$&*?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
_SHORTEST_SECRET = 8  # shorter "secrets" (none are) would match ordinary words


@dataclass
class LeakWatch:
    """What the test process has captured so far, and what the stacks it ran had handed out."""

    captured: list[tuple[str, str]] = field(default_factory=list)  # (test id and phase, text)
    stacks: int = 0
    files: int = 0

    def record(self, report: pytest.TestReport) -> None:
        text = "\n".join(content for _, content in report.sections)
        if text:
            self.captured.append((f"{report.nodeid} ({report.when})", text))


WATCH = LeakWatch()


def leaks(text: str, secrets: Iterable[str], where: str) -> list[str]:
    """Where each secret or e-mail address appears in `text`, described without the secret."""
    found = []
    for secret in secrets:
        if len(secret) >= _SHORTEST_SECRET and secret in text:
            kind = "an e-mail address" if "@" in secret else f"a secret of {len(secret)} characters"
            line = text[: text.index(secret)].count("\n") + 1
            found.append(f"{where}:{line}: {kind} starting {secret[:3]!r}")
    for match in EMAIL.finditer(text):
        line = text[: match.start()].count("\n") + 1
        found.append(f"{where}:{line}: an e-mail address at {match.group(0).split('@')[-1]!r}")
    return found


def log_files(state_dir: Path) -> list[Path]:
    return sorted((state_dir / "logs").glob("*.log"))


def assert_no_secrets_in(paths: Iterable[Path], secrets: Iterable[str], texts: Iterable[tuple[str, str]] = ()) -> None:
    """No secret nor any e-mail address in the files or texts (where, text)."""
    wanted = set(secrets)
    found: list[str] = []
    for path in paths:
        found += leaks(path.read_text(encoding="utf-8", errors="replace"), wanted, str(path))
        WATCH.files += 1
    for where, text in texts:
        found += leaks(text, wanted, where)
    assert not found, "secrets in the logs:\n" + "\n".join(found[:50])


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    WATCH.record(report)


@pytest.fixture(scope="session", autouse=True)
def _every_stack_is_watched() -> Iterator[None]:
    original_stop = DevStack.stop

    def stop(self: DevStack) -> None:
        started = self.info is not None
        secrets = self.secrets_in_use() if started else set()
        original_stop(self)
        if started:
            WATCH.stacks += 1
            assert_no_secrets_in(log_files(self.state_dir), secrets, WATCH.captured)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DevStack, "stop", stop)
        yield
