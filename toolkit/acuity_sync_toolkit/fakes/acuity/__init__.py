"""A fake Acuity Scheduling: its API (base path /api/v1) with state, its errors and limits, its signed webhooks.

Faithful to what ../shared/reference/acuity/ and ../shared/research/acuity.md record of the real service:

- HTTP Basic auth (numeric user id, API key); every account sees only its own data (api.py).
- Shapes as Acuity's: money as strings with two decimals, `paid` "yes"/"no", `datetime` with a colon-less
  offset in the calendar's time zone, display strings for `date`/`time`/`endTime`/`dateCreated` (formats.py,
  entities.py).
- Error bodies `{"status_code", "error", "message"}` (errors.py); 10 requests a second (a sliding window on the
  clock) and 20 concurrent ones per client IP, for all accounts together (server.py).
- Webhooks (at most 25 per account, webhooks.py) delivered form-encoded and signed with the account's API key; the
  first attempt is made before the admin call that caused it answers; a 5xx or an unreachable target is retried
  after `retry_delays` (on the clock, so a test can `advance` instead of sleeping) (delivery.py).

A business drives it through `/_admin/...` (admin.py; see `AcuityAdmin`) or the same methods in-process
(state.py); those are not rate limited.
"""

from acuity_sync_toolkit.fakes.acuity.api import API_PREFIX
from acuity_sync_toolkit.fakes.acuity.errors import FakeAcuityError
from acuity_sync_toolkit.fakes.acuity.server import FakeAcuity
from acuity_sync_toolkit.fakes.acuity.webhooks import MAX_WEBHOOKS_PER_ACCOUNT, WEBHOOK_EVENTS

__all__ = ["API_PREFIX", "MAX_WEBHOOKS_PER_ACCOUNT", "WEBHOOK_EVENTS", "FakeAcuity", "FakeAcuityError"]
