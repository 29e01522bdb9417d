"""What a fake does with each query parameter, header and body field a client sends: it applies it, or ignores it
because the real API ignores it too (a field the API computes itself, a version number it no longer reads: each
with its reason), or refuses it with `NotSupported` ("... is not supported by this fake"). Nothing is ignored
silently: a client that relies on a filter or a field the fake does not apply finds out at once, instead of
passing a test that the real API would fail.

Each fake declares its routes once, in one table (`Routes`), and turns a refusal into its API's own error shape:

    ROUTES = Routes(
        Route("GET", "/Invoices", Query(Param("page", positive_int), Param("ContactIDs", comma_list))),
        Route("PUT", "/Invoices", body=Fields("Invoices", {"Invoices"}, nested={"Invoices": INVOICE})),
    )
    route = ROUTES.find("GET", "/Invoices")            # None: a route the table does not declare
    values = route.read(request.query, request.headers, request.body)   # {"page": 2, ...}; or it raises

`Route.read` raises `NotSupported` for a parameter, header or field the route does not apply (or a value of one
that it does not support), `Unreadable` for a value it cannot read (`page=two`), and `Unrecognized` for a body
field the real API does not know at all, where the declaration says which fields it knows (QuickBooks answers
those with its own error). A route the table does not declare takes no parameter (`Routes.read`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from acuity_sync_toolkit.fakes.httpserver import compile_pattern

NOT_SUPPORTED = "not supported by this fake"

Reader = Callable[[str], Any]  # a parameter's text to its value; ValueError (its words) when it cannot be read


class NotSupported(ValueError):
    """A parameter, header or field (or one of its values) that the real API may take but this fake does not apply:
    refused, never ignored. `name` is the parameter (a body field's dotted path); the message says what the fake
    applies instead."""

    def __init__(self, name: str, kind: str, applied: Iterable[str] = (), *, where: str = "", value: Any = None):
        self.name, self.kind, self.value = name, kind, value
        self.applied = tuple(sorted(applied))
        what = f"The {kind} {name}" if value is None else f"The value {value!r} of the {kind} {name}"
        context = f" of {where}" if where else ""
        offered = ", ".join(self.applied) if self.applied else "none"
        label = "values" if value is not None else "it applies"
        super().__init__(f"{what}{context} is {NOT_SUPPORTED} ({label}: {offered}).")


class UnsupportedValue(ValueError):
    """Raised by a reader (`supported`) for a value the real API may take but the fake does not apply; the route
    turns it into NotSupported, naming the parameter."""

    def __init__(self, value: str, choices: tuple[str, ...]) -> None:
        self.value, self.choices = value, choices
        super().__init__(f"{value!r} is {NOT_SUPPORTED}")


class Unreadable(ValueError):
    """A parameter the fake applies, given a value it cannot read (or given twice)."""

    def __init__(self, name: str, kind: str, reason: str) -> None:
        self.name, self.kind = name, kind
        super().__init__(f"The {kind} {name} {reason}.")


class Unrecognized(ValueError):
    """A body field the real API does not know (its declaration lists the fields it knows): the fake answers it as
    the API answers an unknown field. `field` is the field's own name, `path` its dotted path, `entity` the name of
    the object it was found in, `known` what that object has."""

    def __init__(self, path: str, field_name: str, entity: str, known: frozenset[str]) -> None:
        self.path, self.field, self.entity, self.known = path, field_name, entity, known
        super().__init__(f"{entity} has no field {path}.")


# ----------------------------------------------------------------------------------------------- readers


def text(value: str) -> str:
    return value


def nonempty_text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def positive_int(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise ValueError("must be a whole number from 1")
    return int(value)


def non_negative_int(value: str) -> int:
    if not value.isdigit():
        raise ValueError("must be a whole number")
    return int(value)


def integer(value: str) -> int:
    if not value.strip().lstrip("-").isdigit():
        raise ValueError("must be an integer")
    return int(value)


def boolean(value: str) -> bool:
    """`true` or `false`, in any letter case."""
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise ValueError("must be true or false")
    return lowered == "true"


def boolean_or_digit(value: str) -> bool:
    """`true`/`false` in any letter case, or `1`/`0`."""
    lowered = value.strip().lower()
    if lowered in ("1", "0"):
        return lowered == "1"
    return boolean(lowered)


def date_prefix(value: str) -> date:
    """A date, `YYYY-MM-DD` (what follows the first ten characters, such as a time, is not read)."""
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise ValueError("must be a date such as 2026-12-03") from None


def timestamp(value: str) -> datetime:
    """An ISO 8601 date-time (UTC when it names no zone) or an HTTP date (`Wed, 02 Dec 2026 10:00:00 GMT`)."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            raise ValueError("must be a date-time such as 2026-12-03T10:00:00") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def one_of(*choices: str, fold_case: bool = False) -> Reader:
    """One of `choices` (ignoring letter case when `fold_case`), answered as the choice is spelled."""

    def read(value: str) -> str:
        for choice in choices:
            if value == choice or (fold_case and value.lower() == choice.lower()):
                return choice
        raise ValueError(f"must be one of {', '.join(choices)}")

    return read


def supported(*choices: str) -> Reader:
    """One of `choices`, the values the fake applies; another is NotSupported (not unreadable: the real API may
    well take it)."""

    def read(value: str) -> str:
        if value not in choices:
            raise UnsupportedValue(value, choices)
        return value

    return read


def comma_list(item: Reader = nonempty_text) -> Reader:
    """A comma-separated list, each item read by `item` (spaces around an item are dropped)."""

    def read(value: str) -> list[Any]:
        items = [part.strip() for part in value.split(",")]
        if not value.strip() or any(not part for part in items):
            raise ValueError("must be a comma-separated list without empty items")
        return [item(part) for part in items]

    return read


def pattern(expression: str, description: str) -> Reader:
    compiled = re.compile(expression)

    def read(value: str) -> str:
        if compiled.fullmatch(value) is None:
            raise ValueError(f"must be {description}")
        return value

    return read


# ----------------------------------------------------------------------------------------------- declarations


@dataclass(frozen=True, slots=True)
class Param:
    """A query parameter (or header) a route applies, and how its value is read. A parameter given twice is
    refused unless `repeatable` (then its value is the list of what each reads to)."""

    name: str
    read: Reader = text
    repeatable: bool = False


@dataclass(frozen=True, slots=True)
class Ignored:
    """A parameter the real API takes and ignores, so the fake ignores it too: `reason` says why (with its source)."""

    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class Query:
    """A route's query parameters (`params` applied, `ignored` ignored as the real API does) and the header
    parameters of the real API that it applies (`headers`, read when present) or refuses (`refused_headers`, when
    present). Other headers are not the fake's business (clients send User-Agent, Accept...)."""

    params: tuple[Param, ...] = ()
    ignored: tuple[Ignored, ...] = ()
    headers: tuple[Param, ...] = ()
    refused_headers: tuple[str, ...] = ()

    def applied(self) -> tuple[str, ...]:
        return tuple(param.name for param in self.params)

    def read(
        self, query: Mapping[str, Sequence[str]], headers: Mapping[str, str] | None = None, *, where: str = ""
    ) -> dict[str, Any]:
        """The applied parameters' values (headers under their own names); NotSupported or Unreadable."""
        declared = {param.name: param for param in self.params}
        skipped = {item.name for item in self.ignored}
        values: dict[str, Any] = {}
        for name, given in query.items():
            param = declared.get(name)
            if param is None:
                if name in skipped:
                    continue
                raise NotSupported(name, "query parameter", declared, where=where)
            if len(given) > 1 and not param.repeatable:
                raise Unreadable(name, "query parameter", "is given more than once")
            read = [_read(param, value, "query parameter") for value in given]
            values[name] = read if param.repeatable else read[0]
        for header in self.headers:
            value = (headers or {}).get(header.name)
            if value is not None:
                values[header.name] = _read(header, value, "header")
        for name in self.refused_headers:
            if (headers or {}).get(name) is not None:
                raise NotSupported(name, "header", (header.name for header in self.headers), where=where)
        return values


def _read(param: Param, value: str, kind: str) -> Any:
    try:
        return param.read(value)
    except UnsupportedValue as unsupported:
        raise NotSupported(param.name, kind, unsupported.choices, value=unsupported.value) from None
    except ValueError as error:
        raise Unreadable(param.name, kind, str(error)) from None


class Fields:
    """The fields of one JSON object a route takes (`entity` names it in messages): those it `applied`, those it
    `ignored` as the real API ignores them (name -> why: read-only, computed by the API), the rules of the objects
    `nested` under a field (an object, or each object of a list), and `only`: for an applied field, the values the
    fake supports (another is NotSupported). With `known` (every field the real API has for this object), a field
    outside it is `Unrecognized` rather than NotSupported. `alone`: the rules of a body that is one bare item
    instead of this wrapper (Xero takes `{"Invoices": [...]}` or one invoice)."""

    __slots__ = ("alone", "applied", "entity", "ignored", "known", "nested", "only")

    def __init__(
        self,
        entity: str,
        applied: Iterable[str],
        *,
        ignored: Mapping[str, str] | None = None,
        nested: Mapping[str, Fields] | None = None,
        only: Mapping[str, tuple[Any, ...]] | None = None,
        known: Iterable[str] | None = None,
        alone: Fields | None = None,
    ) -> None:
        self.entity = entity
        self.applied = frozenset(applied)
        self.ignored: Mapping[str, str] = dict(ignored or {})
        self.nested: Mapping[str, Fields] = dict(nested or {})
        self.only: Mapping[str, tuple[Any, ...]] = dict(only or {})
        self.known = None if known is None else frozenset(known) | self.applied | frozenset(self.ignored)
        self.alone = alone

    def __repr__(self) -> str:
        return f"Fields({self.entity!r}, applied={sorted(self.applied)!r})"

    def check(self, value: Any, where: str = "") -> None:
        """NotSupported (or Unrecognized) for the first field of `value` this declaration does not take."""
        if not isinstance(value, dict):
            return  # not an object: the fake refuses the shape itself, in its own words
        if self.alone is not None and not any(name in value for name in self.applied):
            self.alone.check(value, where)
            return
        for name, item in value.items():
            path = f"{where}.{name}" if where else name
            if name in self.ignored:
                continue
            if name not in self.applied:
                if self.known is not None and name not in self.known:
                    raise Unrecognized(path, name, self.entity, self.known)
                raise NotSupported(path, "field", self.applied, where=self.entity)
            allowed = self.only.get(name)
            if allowed is not None and item not in allowed:
                raise NotSupported(path, "field", (str(choice) for choice in allowed), where=self.entity, value=item)
            rules = self.nested.get(name)
            if rules is None:
                continue
            if isinstance(item, list):
                for index, element in enumerate(item):
                    rules.check(element, f"{path}[{index}]")
            else:
                rules.check(item, path)


@dataclass(frozen=True)
class Route:
    """One route of a fake: its method, its path pattern (`{name}` matches one segment), its query parameters and
    headers, and the fields of its JSON body (None: a route without a body, or one whose body the fake checks in
    its own way)."""

    method: str
    pattern: str
    query: Query = field(default_factory=Query)
    body: Fields | None = None

    @property
    def label(self) -> str:
        return f"{self.method} {self.pattern}"

    def read(
        self, query: Mapping[str, Sequence[str]], headers: Mapping[str, str] | None = None, body: bytes = b""
    ) -> dict[str, Any]:
        """The applied parameters' values, after checking the query, the headers and the body (a body that is not
        JSON is left to the fake, which refuses it in its own words)."""
        values = self.query.read(query, headers, where=self.label)
        if self.body is not None and body.strip():
            try:
                document = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                return values
            self.body.check(document)
        return values


class Routes:
    """A fake's route table: the first route whose method and pattern match a path."""

    def __init__(self, *routes: Route) -> None:
        self.routes = routes
        self._compiled = [(route, compile_pattern(route.pattern)) for route in routes]

    def find(self, method: str, path: str) -> Route | None:
        for route, regex in self._compiled:
            if route.method == method and regex.match(path) is not None:
                return route
        return None

    def for_pattern(self, method: str, pattern: str) -> Route:
        """The route declared for exactly this method and pattern; one that takes nothing when none is declared
        (a route added to a fake without its declaration refuses every parameter rather than ignore one)."""
        for route in self.routes:
            if route.method == method and route.pattern == pattern:
                return route
        return Route(method, pattern)

    def read(
        self,
        method: str,
        path: str,
        query: Mapping[str, Sequence[str]],
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> dict[str, Any]:
        """`Route.read` of the route that matches; a route the table does not declare takes no query parameter."""
        route = self.find(method, path) or Route(method, path)
        return route.read(query, headers, body)

    def labels(self) -> set[str]:
        return {route.label for route in self.routes}
