"""What a ledger call can fail with, whatever the ledger: each adapter maps its app's faults to these, and the
engine turns each into one outcome (retried, parked, ...). `message` is said to a business owner as it is."""

from __future__ import annotations


class LedgerError(Exception):
    """A ledger call failed; `message` is said to a business owner as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RateLimited(LedgerError):
    def __init__(self, retry_after: float, message: str = "the accounting app asked us to slow down") -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Transient(LedgerError):
    """5xx, a timeout, a dropped connection: the same call may succeed later."""


class AuthExpired(LedgerError):
    """The access token is no longer accepted: refresh it and retry."""


class NeedsReauth(LedgerError):
    """The connection is refused for good (refresh refused, app disconnected): a person must reconnect."""


class Rejected(LedgerError):
    """The ledger refused the request on its merits; `code` and `message` are its own words."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
