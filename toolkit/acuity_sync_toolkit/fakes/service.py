"""What every fake shares: a server of its own, a clock tests can move, faults planned the same way everywhere;
and, for the fake ledgers, a token authority with their ledger's rules.

    with FakeXero(clock=FakeClock(frozen=True)) as xero:
        xero.plan_fault(tenant_id, 503, count=2)       # its next two API calls answer 503
        xero.plan_fault(tenant_id, 429, retry_after=5)  # then one 429 with Retry-After: 5
"""

from __future__ import annotations

import secrets
import threading
from typing import ClassVar, Self

from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.faults import FaultFormat, FaultPlan, FaultSupport, PlannedFault
from acuity_sync_toolkit.fakes.httpserver import HttpServer, Request, Response, Startable
from acuity_sync_toolkit.fakes.oauth_authority import TokenAuthority, TokenPair, TokenRules


class FakeService(Startable):
    """A fake of an outside service (Acuity, QuickBooks, Xero, FreshBooks) on an HttpServer of its own:
    `start()` / `stop()`, `url`, and use as a context manager; its `clock`; `plan_fault`. A subclass answers in
    `_handle` (taking planned faults from `self.faults` where its service would fail), says in `fault_support` what
    it can answer, and may extend `start` and `stop` (calling these)."""

    fault_support: ClassVar[FaultSupport] = FaultSupport()

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, clock: FakeClock | None = None) -> None:
        self._host, self._port = host, port
        self._server: HttpServer | None = None
        self.clock = clock or FakeClock()
        self.faults = FaultPlan()

    def _handle(self, request: Request) -> Response:
        raise NotImplementedError

    # ------------------------------------------------------------------ faults

    def plan_fault(
        self,
        company_id: str,
        status: int | None = None,
        *,
        count: int = 1,
        path_contains: str = "",
        hang_seconds: float = 0.0,
        retry_after: int | None = None,
        body_format: FaultFormat = "json",
    ) -> None:
        """The next `count` API requests of `company_id` whose path contains `path_contains` answer `status`
        without doing anything, in the service's own error shape (`body_format`), with `Retry-After: retry_after`
        where the service sends one; or, with no status, are carried out and answered `hang_seconds` late.
        ValueError when this fake cannot answer that (see its `fault_support`)."""
        fault = PlannedFault(status, hang_seconds, retry_after, body_format, path_contains)
        self.fault_support.check(fault)
        self.faults.add(company_id, fault, count)

    def pending_faults(self, company_id: str) -> int:
        """Requests of `company_id` that planned faults still wait for."""
        return self.faults.pending(company_id)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError(f"{type(self).__name__} already started")
        self._server = HttpServer(self._handle, self._host, self._port).start()
        return self

    def stop(self) -> None:
        """Safe to call twice, or before start."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} not started")
        return self._server.url


class LedgerFake(FakeService):
    """A fake accounting app: its API takes bearer tokens that its `authority` issues under `token_rules`."""

    token_rules: ClassVar[TokenRules]

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, clock: FakeClock | None = None) -> None:
        super().__init__(host, port, clock=clock)
        self.authority = TokenAuthority.following(self.clock, self.token_rules)
        # What a consent's token subject reaches (fakes/consent.py): a subject not listed is a company itself.
        self._reach: dict[str, frozenset[str]] = {}
        self._reach_lock = threading.Lock()

    def has_company(self, company_id: str) -> bool:
        raise NotImplementedError

    def issue_tokens(self, company_id: str) -> TokenPair:
        """A new grant for the company, as if its admin had connected our app; KeyError for an unknown company."""
        if not self.has_company(company_id):
            raise KeyError(f"no company {company_id}")
        return self.authority.issue(company_id)

    def grant_companies(self, companies: tuple[str, ...]) -> TokenPair:
        """A new grant reaching `companies`, as a consent that chose them makes (fakes/consent.py)."""
        subject = f"consent-{secrets.token_hex(8)}"
        with self._reach_lock:
            self._reach[subject] = frozenset(companies)
        return self.authority.issue(subject)

    def companies_of(self, subject: str) -> frozenset[str]:
        """The companies a token subject reaches: those its consent chose, or the company it is."""
        with self._reach_lock:
            return self._reach.get(subject, frozenset({subject}))

    def release(self, subject: str, company_id: str) -> None:
        """The grant no longer reaches `company_id` (Xero's DELETE /connections/{id})."""
        with self._reach_lock:
            self._reach[subject] = self._reach.get(subject, frozenset({subject})) - {company_id}
