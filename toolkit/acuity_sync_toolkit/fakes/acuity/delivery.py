"""Webhook delivery as Acuity does it: each notification POSTed form-encoded and signed with the account's API key;
the first attempt before the change that caused it is answered; a 5xx or an unreachable target retried after
`retry_delays`, on the clock, so a test can `advance` instead of sleeping. Every attempt is recorded on the
account (`/_admin/deliveries`)."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable, Iterable, Sequence

import httpx

from acuity_sync.acuity.signature import sign
from acuity_sync_toolkit.fakes.acuity.errors import JsonObject
from acuity_sync_toolkit.fakes.acuity.state import AcuityState
from acuity_sync_toolkit.fakes.acuity.webhooks import Notification
from acuity_sync_toolkit.fakes.clock import FakeClock

logger = logging.getLogger(__name__)

_MAX_RECORDED_RESPONSE = 4096  # characters of a receiver's answer kept in the delivery record


class WebhookDelivery:
    def __init__(
        self, state: AcuityState, clock: FakeClock, *, retry_delays: Sequence[float], delivery_timeout: float
    ) -> None:
        self._state = state
        self._clock = clock
        self._retry_delays = tuple(retry_delays)
        self._delivery_timeout = delivery_timeout
        self._lock = threading.Lock()
        self._open = False  # deliveries are attempted only while the fake runs
        self._http: httpx.Client | None = None
        self._retries = _RetryScheduler(clock, self._attempt)

    def start(self) -> None:
        with self._lock:
            self._open = True
        self._retries.start()

    def stop_retrying(self) -> None:
        """End the retries (those waiting are dropped); deliveries still made are recorded as failed."""
        self._retries.stop()
        with self._lock:
            self._open = False

    def close(self) -> None:
        """Close the HTTP client, once nothing delivers any more (after the server stopped)."""
        with self._lock:
            http, self._http = self._http, None
        if http is not None:
            http.close()

    def pending_retries(self) -> int:
        return self._retries.pending()

    def next_retry_in(self) -> float | None:
        """Seconds on the clock until the next retry is due; None when none waits."""
        return self._retries.next_due_in()

    def deliver(self, notifications: Iterable[Notification]) -> None:
        """First attempts, in order, before the caller gets its answer (called outside the state's lock: a receiver
        may call back into the API while handling its webhook)."""
        for notification in notifications:
            self._attempt(notification, 1)

    def _attempt(self, notification: Notification, attempt: int) -> None:
        api_key = self._state.api_key(notification.account_id)
        if api_key is None:
            return
        signature = sign(notification.body, api_key)
        at = self._clock.now()
        status_code, response_body, error = self._post(notification, signature)
        retryable = status_code is None or status_code >= 500
        will_retry = retryable and attempt <= len(self._retry_delays)
        record: JsonObject = {
            "webhook_id": notification.webhook_id,
            "event": notification.event,
            "action": notification.action,
            "target": notification.target,
            "body": notification.body.decode("ascii"),
            "signature": signature,
            "attempt": attempt,
            "status": status_code,
            "response_body": response_body,
            "error": error,
            "will_retry": will_retry,
            "at": at.isoformat(),
        }
        self._state.record_delivery(notification.account_id, record)
        if will_retry:
            self._retries.schedule(self._retry_delays[attempt - 1], notification, attempt + 1)

    def _client(self) -> httpx.Client | None:
        """The HTTP client for deliveries, made on first use (it costs ~50 ms, and most tests deliver nothing)."""
        with self._lock:
            if self._http is None and self._open:
                # trust_env=False: a proxy set in the environment must not intercept deliveries to 127.0.0.1.
                self._http = httpx.Client(timeout=self._delivery_timeout, trust_env=False, follow_redirects=False)
            return self._http

    def _post(self, notification: Notification, signature: str) -> tuple[int | None, str | None, str | None]:
        """(status code, response body, None) or (None, None, error)."""
        client = self._client()
        if client is None:
            return None, None, "FakeAcuity stopped"
        try:
            response = client.post(
                notification.target,
                content=notification.body,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Acuity-Signature": signature,
                    "User-Agent": "AcuityScheduling-Webhooks (fake)",
                },
            )
        except httpx.HTTPError as exc:
            return None, None, f"{type(exc).__name__}: {exc}"
        return response.status_code, response.text[:_MAX_RECORDED_RESPONSE], None


class _RetryScheduler:
    """Runs due delivery retries on one daemon thread; due times are on the fake clock, so `advance` wakes it."""

    def __init__(self, clock: FakeClock, run: Callable[[Notification, int], None]) -> None:
        self._clock = clock
        self._run = run
        self._condition = threading.Condition()
        self._queue: list[tuple[float, int, Notification, int]] = []
        self._sequence = itertools.count()
        self._stopping = False
        self._running_now = 0
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        self._stopping = False
        self._unsubscribe = self._clock.on_advance(self._wake)
        self._thread = threading.Thread(target=self._loop, name="fake-acuity-retries", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._condition:
            self._stopping = True
            self._queue.clear()
            self._condition.notify_all()
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def schedule(self, delay: float, notification: Notification, attempt: int) -> None:
        with self._condition:
            due = self._clock.monotonic() + delay
            heapq.heappush(self._queue, (due, next(self._sequence), notification, attempt))
            self._condition.notify_all()

    def pending(self) -> int:
        """Retries waiting or running."""
        with self._condition:
            return len(self._queue) + self._running_now

    def next_due_in(self) -> float | None:
        with self._condition:
            return self._queue[0][0] - self._clock.monotonic() if self._queue else None

    def _wake(self) -> None:
        with self._condition:
            self._condition.notify_all()

    def _next_due(self) -> tuple[Notification, int] | None:
        """Wait until a retry is due (or stop); pop and return it."""
        with self._condition:
            while not self._stopping:
                if self._queue:
                    wait = self._queue[0][0] - self._clock.monotonic()
                    if wait <= 0:
                        _, _, notification, attempt = heapq.heappop(self._queue)
                        self._running_now += 1
                        return notification, attempt
                    # A frozen clock only moves on advance(), which notifies; poll anyway as a safety net.
                    self._condition.wait(timeout=1.0 if self._clock.frozen else min(wait, 1.0))
                else:
                    self._condition.wait()
            return None

    def _loop(self) -> None:
        while (due := self._next_due()) is not None:
            try:
                self._run(*due)
            except Exception:
                logger.exception("webhook retry failed")
            finally:
                with self._condition:
                    self._running_now -= 1
