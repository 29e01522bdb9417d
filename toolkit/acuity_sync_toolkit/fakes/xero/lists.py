"""What every GET list of the fake Xero does after its own filters (accepted.py declares which list takes what):
`If-Modified-Since` keeps what was updated at or after that time, `order` sorts, `page`/`pageSize` cut a page
and add Xero's `pagination` object.

Contacts always come a page at a time ("page=1 - Up to 100 contacts will be returned in a single API call": the
first page when none is asked for); the other lists are paged only when `page` or `pageSize` is given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from acuity_sync_toolkit.fakes.xero.values import JsonObject

PAGE_SIZE = 100  # "Up to 100 invoices will be returned in a single API call"
MAX_PAGE_SIZE = 1000
ALWAYS_PAGED = frozenset({"Contacts"})
_MS_DATE = re.compile(r"^/Date\((-?\d+)")


def ms_of(value: Any) -> int | None:
    """Milliseconds of a Xero `/Date(1765324800000+0000)/`; None for anything else."""
    match = _MS_DATE.match(value) if isinstance(value, str) else None
    return int(match.group(1)) if match else None


def finish(key: str, items: Sequence[JsonObject], query: Mapping[str, Any]) -> JsonObject:
    """The list answer `{key: [...], "pagination"?}` for `items` (already filtered by the route's own filters)."""
    found = list(items)
    since: datetime | None = query.get("If-Modified-Since")
    if since is not None:
        floor = int(since.timestamp() * 1000)
        found = [item for item in found if (ms_of(item.get("UpdatedDateUTC")) or 0) >= floor]
    for name, descending in reversed(query.get("order") or []):
        present = [item for item in found if _present(item, name)]
        absent = [item for item in found if not _present(item, name)]
        found = sorted(present, key=_key_on(name), reverse=descending) + absent
    if key not in ALWAYS_PAGED and "page" not in query and "pageSize" not in query:
        return {key: found}
    page: int = query.get("page", 1)
    size = min(int(query.get("pageSize", PAGE_SIZE)), MAX_PAGE_SIZE)
    pagination = {"page": page, "pageSize": size, "pageCount": -(-len(found) // size), "itemCount": len(found)}
    return {"pagination": pagination, key: found[(page - 1) * size : page * size]}


def _key_on(name: str) -> Callable[[Mapping[str, Any]], tuple[int, Any]]:
    return lambda item: _sort_key(item, name)


def _value(item: Mapping[str, Any], name: str) -> Any:
    value: Any = item
    for part in name.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _present(item: Mapping[str, Any], name: str) -> bool:
    return _value(item, name) not in (None, "")


def _sort_key(item: Mapping[str, Any], name: str) -> tuple[int, Any]:
    """Dates by their time, numbers by value, text ignoring letter case."""
    value = _value(item, name)
    stamp = ms_of(value)
    if stamp is not None:
        return (0, Decimal(stamp))
    if isinstance(value, bool):
        return (1, str(value))
    if isinstance(value, int | float | Decimal):
        try:
            return (0, Decimal(str(value)))
        except InvalidOperation:
            pass
    return (1, str(value).casefold())
