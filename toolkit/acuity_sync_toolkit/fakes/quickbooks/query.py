"""The QBO query language, as much of it as an integration uses (quickbooks.md §1 "Query"):

    SELECT * | COUNT(*) | Field, ... FROM Entity
      [WHERE cond [AND cond ...]] [ORDERBY Field [ASC|DESC], ...] [STARTPOSITION n] [MAXRESULTS n]
    cond := Field (= | != | < | > | <= | >=) literal | Field IN (literal, ...) | Field LIKE '%text%'

Keywords and entity names ignore case; strings are single-quoted with `\\'` for a quote (get__display_name.yml);
OR is not supported (a parse error, 4000). String comparisons ignore case (community tests). A default query
leaves out inactive customers and items unless the WHERE names `Active` (all__alt_select.yml). Customers and items
come in FullyQualifiedName order (all__customers.yml), transactions in Id order. MAXRESULTS defaults to 100 and is
capped at 1000. An unknown entity or field is 4001 (error__400.yml); what does not parse is 4000.

The answer is the `QueryResponse` object: `{"Customer": [...], "startPosition", "maxResults"}`, `{}` when nothing
matches, `{"totalCount": n}` for COUNT(*).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from acuity_sync_toolkit.fakes.quickbooks import faults
from acuity_sync_toolkit.fakes.quickbooks.entities import Company
from acuity_sync_toolkit.fakes.quickbooks.jsontext import JsonObject

DEFAULT_MAX_RESULTS = 100
MAX_RESULTS_CAP = 1000
_META = {"MetaData.CreateTime", "MetaData.LastUpdatedTime"}
QUERYABLE: dict[str, frozenset[str]] = {
    "Customer": frozenset({
        "Id", "DisplayName", "GivenName", "MiddleName", "FamilyName", "Title", "Suffix", "CompanyName",
        "FullyQualifiedName", "PrintOnCheckName", "PrimaryEmailAddr", "PrimaryPhone", "Active", "Balance", "Job",
        "ParentRef", "SyncToken", *_META,
    }),
    "Item": frozenset({"Id", "Name", "FullyQualifiedName", "Sku", "Type", "Active", "SyncToken", *_META}),
    "Invoice": frozenset({
        "Id", "DocNumber", "TxnDate", "DueDate", "CustomerRef", "Balance", "TotalAmt", "EmailStatus",
        "PrintStatus", "SyncToken", *_META,
    }),
    "Payment": frozenset({"Id", "TxnDate", "CustomerRef", "TotalAmt", "PaymentRefNum", "SyncToken", *_META}),
    "CreditMemo": frozenset({
        "Id", "DocNumber", "TxnDate", "CustomerRef", "TotalAmt", "Balance", "RemainingCredit", "SyncToken", *_META,
    }),
}  # fmt: skip
# Real entities this fake does not model: a query on them finds nothing (rather than an error QBO would not give).
UNMODELLED = frozenset({
    "Account", "Attachable", "Bill", "BillPayment", "Budget", "Class", "CompanyCurrency", "Department", "Deposit",
    "Employee", "Estimate", "JournalEntry", "PaymentMethod", "Purchase", "PurchaseOrder", "RefundReceipt",
    "SalesReceipt", "TaxAgency", "TaxCode", "TaxRate", "Term", "TimeActivity", "Transfer", "Vendor", "VendorCredit",
})  # fmt: skip
SINGLETONS = ("CompanyInfo", "Preferences")
_NAME_LISTS = ("Customer", "Item")

_TOKEN = re.compile(
    r"""(?P<space>\s+)|(?P<string>'(?:\\.|[^'\\])*')|(?P<number>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][\w.]*)"""
    r"""|(?P<op><=|>=|!=|<>|=|<|>)|(?P<punct>[(),*])"""
)
_KIND = {"string": "<STRING>", "number": "<INTEGER>", "name": "<IDENTIFIER>"}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # string, number, name, op, punct, eof
    text: str
    column: int

    @property
    def word(self) -> str:
        return self.text.upper() if self.kind == "name" else ""


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    op: str  # = != < > <= >= IN LIKE
    values: tuple[object, ...]


@dataclass(slots=True)
class Query:
    entity: str = ""
    count: bool = False
    fields: tuple[str, ...] = ()  # empty: every field
    where: list[Condition] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    start: int = 1
    max_results: int = DEFAULT_MAX_RESULTS


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise faults.query_parse_error(
                f'Lexical error at line 1, column {position + 1}.  Encountered: "{text[position]}"'
            )
        kind = match.lastgroup or "punct"
        if kind != "space":
            tokens.append(Token(kind, match.group(), position + 1))
        position = match.end()
    tokens.append(Token("eof", "", len(text) + 1))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0

    def peek(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += min(1, len(self.tokens) - 1 - self.index)
        return token

    def fail(self, token: Token) -> faults.QboFault:
        if token.kind == "eof":
            return faults.query_parse_error(f'Encountered "<EOF>" at line 1, column {token.column}.')
        kind = _KIND.get(token.kind, f'"{token.text}"')
        return faults.query_parse_error(f'Encountered " {kind} "{token.text} "" at line 1, column {token.column}.')

    def keyword(self, *words: str) -> str:
        token = self.take()
        if token.word not in words:
            raise self.fail(token)
        return token.word

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            raise self.fail(token)

    def name(self) -> str:
        token = self.take()
        if token.kind != "name":
            raise self.fail(token)
        return token.text

    def integer(self) -> int:
        token = self.take()
        if token.kind != "number" or not token.text.isdigit():
            raise self.fail(token)
        return int(token.text)

    def literal(self) -> object:
        token = self.take()
        if token.kind == "string":
            return re.sub(r"\\(.)", r"\1", token.text[1:-1])
        if token.kind == "number":
            return Decimal(token.text)
        if token.word in ("TRUE", "FALSE"):
            return token.word == "TRUE"
        raise self.fail(token)

    def parse(self) -> Query:
        query = Query()
        self.keyword("SELECT")
        if self.peek().text == "*":
            self.take()
        elif self.peek().word == "COUNT":
            self.take()
            for text in "(*)":
                self.expect(text)
            query.count = True
        else:
            names = [self.name()]
            while self.peek().text == ",":
                self.take()
                names.append(self.name())
            query.fields = tuple(names)
        self.keyword("FROM")
        query.entity = self.name()
        if self.peek().word == "WHERE":
            self.take()
            query.where.append(self.condition())
            while self.peek().word == "AND":
                self.take()
                query.where.append(self.condition())
        self.clauses(query)
        if self.peek().kind != "eof":
            raise self.fail(self.peek())
        return query

    def condition(self) -> Condition:
        name = self.name()
        token = self.take()
        if token.kind == "op":
            return Condition(name, "!=" if token.text == "<>" else token.text, (self.literal(),))
        if token.word == "LIKE":
            value = self.literal()
            if not isinstance(value, str):
                raise self.fail(self.tokens[self.index - 1])
            return Condition(name, "LIKE", (value,))
        if token.word == "IN":
            self.expect("(")
            values = [self.literal()]
            while self.peek().text == ",":
                self.take()
                values.append(self.literal())
            self.expect(")")
            return Condition(name, "IN", tuple(values))
        raise self.fail(token)

    def clauses(self, query: Query) -> None:
        while self.peek().word in ("ORDERBY", "ORDER", "STARTPOSITION", "MAXRESULTS"):
            word = self.take().word
            if word == "STARTPOSITION":
                query.start = max(1, self.integer())
            elif word == "MAXRESULTS":
                query.max_results = min(MAX_RESULTS_CAP, self.integer())
            else:
                if word == "ORDER":
                    self.keyword("BY")
                query.order.append(self.order_item())
                while self.peek().text == ",":
                    self.take()
                    query.order.append(self.order_item())

    def order_item(self) -> tuple[str, bool]:
        name = self.name()
        if self.peek().word in ("ASC", "DESC"):
            return name, self.take().word == "DESC"
        return name, False


def parse(text: str) -> Query:
    return _Parser(text).parse()


# ------------------------------------------------------------------------------------------ evaluation


def field_value(document: JsonObject, name: str) -> object:
    """A document's value for a queryable field: a ref's `value`, an e-mail's `Address`, a phone's number."""
    value: object = document
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, dict):
        for key in ("value", "Address", "FreeFormNumber", "URI"):
            if key in value:
                return value[key]
        return None
    return value


def _comparable(value: object, literal: object, name: str) -> tuple[Any, Any] | None:
    """Both sides in one type: booleans, numbers (Id too), or case-folded strings; None when they cannot be."""
    if value is None:
        return None
    if isinstance(value, bool) or isinstance(literal, bool):
        if isinstance(literal, str) and literal.lower() in ("true", "false"):
            literal = literal.lower() == "true"
        return (value, literal) if isinstance(value, bool) and isinstance(literal, bool) else None
    if name == "Id" or isinstance(value, int | Decimal):
        try:
            return Decimal(str(value)), Decimal(str(literal))
        except InvalidOperation:
            return None
    return str(value).casefold(), str(literal).casefold()


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: bool(a == b),
    "!=": lambda a, b: bool(a != b),
    "<": lambda a, b: bool(a < b),
    ">": lambda a, b: bool(a > b),
    "<=": lambda a, b: bool(a <= b),
    ">=": lambda a, b: bool(a >= b),
}


def matches(document: JsonObject, condition: Condition) -> bool:
    value = field_value(document, condition.field)
    if condition.op == "LIKE":
        pattern = ".*".join(re.escape(part) for part in str(condition.values[0]).split("%"))
        return value is not None and re.fullmatch(pattern, str(value), re.IGNORECASE | re.DOTALL) is not None
    if condition.op == "IN":
        return any(matches(document, Condition(condition.field, "=", (item,))) for item in condition.values)
    pair = _comparable(value, condition.values[0], condition.field)
    if pair is None:
        return False
    try:
        return _OPERATORS[condition.op](*pair)
    except TypeError:
        return False


def _sort_key(document: JsonObject, name: str) -> tuple[int, Any]:
    value = field_value(document, name)
    if value is None:
        return (2, "")
    if name == "Id" or (isinstance(value, int | Decimal) and not isinstance(value, bool)):
        try:
            return (0, Decimal(str(value)))
        except InvalidOperation:
            pass
    return (1, str(value).casefold())


def _key_for(name: str) -> Callable[[JsonObject], tuple[int, Any]]:
    return lambda document: _sort_key(document, name)


def _canonical(entity: str) -> str:
    for known in (*QUERYABLE, *UNMODELLED, *SINGLETONS):
        if known.lower() == entity.lower():
            return known
    raise faults.invalid_query(f"invalid context declaration: {entity}")


def _documents(company: Company, entity: str) -> list[JsonObject]:
    if entity == "CompanyInfo":
        return [company.company_info()]
    if entity == "Preferences":
        return [company.preferences()]
    return list(company.entities.get(entity, {}).values())


def run(company: Company, text: str) -> JsonObject:
    """The QueryResponse for `text` against `company`; raises QboFault (4000/4001)."""
    query = parse(text)
    entity = _canonical(query.entity)
    allowed = QUERYABLE.get(entity)
    for name in (*query.fields, *(c.field for c in query.where), *(name for name, _ in query.order)):
        if allowed is not None and name not in allowed and not (name in query.fields and name.isidentifier()):
            raise faults.invalid_query(f"property '{name}' is not queryable")
    found = [doc for doc in _documents(company, entity) if all(matches(doc, cond) for cond in query.where)]
    if entity in _NAME_LISTS and not any(cond.field == "Active" for cond in query.where):
        found = [doc for doc in found if doc.get("Active") is not False]
    if query.count:
        return {"totalCount": len(found)}
    found.sort(key=lambda doc: (_sort_key(doc, "FullyQualifiedName"), _sort_key(doc, "Id")))
    if entity not in _NAME_LISTS:
        found.sort(key=lambda doc: _sort_key(doc, "Id"))
    for name, descending in reversed(query.order):
        found.sort(key=_key_for(name), reverse=descending)
    page = found[query.start - 1 : query.start - 1 + query.max_results]
    if not page:
        return {}
    if query.fields:
        keep = {"domain", "sparse", "Id", "SyncToken", *query.fields}
        page = [{key: value for key, value in doc.items() if key in keep} | {"sparse": True} for doc in page]
    return {entity: copy.deepcopy(page), "startPosition": query.start, "maxResults": len(page)}
