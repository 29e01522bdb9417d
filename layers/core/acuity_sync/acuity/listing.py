"""Reading many appointments or orders from Acuity, one request ("page") at a time, so that the caller can spend its
request budget page by page and stop when its time is up.

Acuity cannot list what changed since a time, and its lists have no offset: `GET /appointments` takes a date
window (`minDate`, `maxDate`, the calendar's local dates), `canceled` (canceled ones only, or none of them),
`max` (default 100) and `direction`; `GET /orders` takes `max` alone, most recent first
(../shared/research/acuity.md §3.3, §4.2). So a window is paged by date: ask for it oldest first; a page that came
back full may have been cut short, so ask again from the last date it reached (that date's appointments come
again, and are recognised by id). A page that is one date only and full cannot move on by date: it is asked again
with twice the `max`, up to MAX_PAGE_SIZE; past that, the rest of that date is left out and said so in a warning
(no business books more than a thousand appointments on one calendar date).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from acuity_sync.acuity.client import AcuityClient
from acuity_sync.acuity.models import Appointment, Order
from acuity_sync.observability import logger

PAGE_SIZE = 100  # Acuity's own default `max`
MAX_PAGE_SIZE = 1000


@dataclass(slots=True)
class AppointmentPages:
    """The appointments of [first, last] (canceled ones only when `canceled`), one Acuity request per `next()`:
    each page holds the appointments not seen on an earlier page. `pages` counts the requests made."""

    client: AcuityClient
    first: date
    last: date
    canceled: bool
    page_size: int = PAGE_SIZE
    pages: int = 0
    unreadable: int = 0  # appointments Acuity listed that cannot be read (their own webhook parks each, in words)
    truncated_dates: list[date] = field(default_factory=list)
    _start: date | None = None
    _seen: set[int] = field(default_factory=set)
    _done: bool = False

    def __post_init__(self) -> None:
        if self.first > self.last:
            raise ValueError("the window ends before it starts")
        self._start = self.first

    @property
    def exhausted(self) -> bool:
        """No request is left to make (so a caller paying per request pays only for real ones)."""
        return self._done

    def __iter__(self) -> Iterator[list[Appointment]]:
        return self

    def __next__(self) -> list[Appointment]:
        if self._done or self._start is None:
            raise StopIteration
        start, size = self._start, self.page_size
        page, sent = self.client.appointment_page(start, self.last, canceled=self.canceled, max=size)
        self.pages += 1
        self.unreadable += sent - len(page)
        fresh = [appointment for appointment in page if appointment.id not in self._seen]
        self._seen.update(appointment.id for appointment in page)
        if sent < size:
            self._done = True
        else:
            reached = max((appointment.local_date for appointment in page), default=start)
            if reached > start:
                self._start = reached  # that date again: its appointments past the cut come with it
            elif size < MAX_PAGE_SIZE:
                self.page_size = min(size * 2, MAX_PAGE_SIZE)
            else:
                logger.warning(
                    "more appointments on one date than one Acuity page holds; the rest of that date is left out",
                    extra={"date": start.isoformat(), "page_size": size},
                )
                self.truncated_dates.append(start)
                self._start = start + timedelta(days=1)
                self._done = self._start > self.last
        return fresh


def latest_orders(client: AcuityClient, count: int) -> list[Order]:
    """The `count` most recent orders: one request."""
    return client.orders(max=count)


@dataclass(slots=True)
class OrdersSince:
    """The orders placed on or after `since` (their local date), most recent first. Acuity's order list has no date
    filter: each `next()` asks for a longer list of the latest orders (one request each, `max` doubling up to
    MAX_ORDERS) until the oldest one returned is older than `since` or the list is all there is."""

    client: AcuityClient
    since: date
    pages: int = 0
    truncated: bool = False
    _size: int = PAGE_SIZE
    _done: bool = False

    MAX_ORDERS = 4000

    @property
    def exhausted(self) -> bool:
        return self._done

    def __iter__(self) -> Iterator[list[Order]]:
        return self

    def __next__(self) -> list[Order]:
        """All the orders since `since` that this longer list holds (each call returns the whole list so far)."""
        if self._done:
            raise StopIteration
        orders = self.client.orders(max=self._size)
        self.pages += 1
        complete = len(orders) < self._size or (bool(orders) and orders[-1].local_date < self.since)
        if complete:
            self._done = True
        elif self._size >= self.MAX_ORDERS:
            self._done = self.truncated = True
            logger.warning("more orders since the date than one Acuity list holds; the oldest are left out")
        else:
            self._size = min(self._size * 2, self.MAX_ORDERS)
        return [order for order in orders if order.local_date >= self.since]
