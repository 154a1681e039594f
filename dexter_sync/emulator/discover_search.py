"""Discover's search syntax compiled to an SQL condition over the events table.

    release:1.2.* !environment:staging has:user transaction.duration:>300 "free text"
    (level:error OR level:fatal) AND user.email:*@acme.com   tags[browser]:[Chrome,Firefox]

Terms joined by spaces mean AND; `OR`, `AND` and parentheses group them (AND binds closer).
`*` in a value is a wildcard, `!` negates (a negated filter also matches events without the
key, as in Sentry), numeric and date fields compare with `>`, `>=`, `<`, `<=`; free text
matches the message or title. `project:` takes a slug and `issue:` a short id, through the
resolvers given. Unmatched parentheses or quotes, and line breaks, are Sentry's parse error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from .discover_fields import Column, InvalidQuery, column, is_function

Resolver = Callable[[str], int | None]
COMPARATORS = (">=", "<=", ">", "<")
VALUE_STOP = re.compile(r"[\s()]")


def parse_error(query: str, at: int) -> InvalidQuery:
    """Sentry's IncompleteParseError text (`at` is the column parsimonious reports)."""
    prefix, suffix = query[max(0, at - 5):at], query[at:at + 5]
    return InvalidQuery(f"Parse error at '{prefix}{suffix}' (column {at:d}). This is commonly "
                        "caused by unmatched parentheses. Enclose any text in double quotes.")


@dataclass
class Compiled:
    sql: str
    args: list[Any]
    columns: frozenset[str] = frozenset()
    """The SQL expressions of the columns the condition reads (rollup eligibility)."""


class _Parser:
    def __init__(self, query: str, *, project: Resolver, issue: Resolver) -> None:
        self.text = query
        self.pos = 0
        self.resolve_project = project
        self.resolve_issue = issue
        self.used: set[str] = set()

    # -- grammar: or := and (OR and)* ; and := term (AND? term)* ; term := ( or ) | filter --
    def parse(self) -> Compiled:
        for bad in ("\n", "\r", "\t"):
            if bad in self.text:
                raise parse_error(self.text, self.text.index(bad) + 1)
        self._skip()
        if self.pos >= len(self.text):
            return Compiled("1", [])
        result = self._or()
        self._skip()
        if self.pos < len(self.text):
            raise parse_error(self.text, self.pos)
        return replace(result, columns=frozenset(self.used))

    def _or(self) -> Compiled:
        parts = [self._and()]
        while self._keyword("OR"):
            parts.append(self._and())
        return _join(parts, "OR")

    def _and(self) -> Compiled:
        parts = [self._term()]
        while True:
            self._skip()
            if self.pos >= len(self.text) or self.text[self.pos] == ")" or \
                    self._peek_keyword("OR"):
                return _join(parts, "AND")
            self._keyword("AND")
            parts.append(self._term())

    def _term(self) -> Compiled:
        self._skip()
        if self.pos >= len(self.text):
            raise parse_error(self.text, self.pos)
        if self.text[self.pos] == "(":
            opened = self.pos
            self.pos += 1
            inner = self._or()
            self._skip()
            if self.pos >= len(self.text) or self.text[self.pos] != ")":
                raise parse_error(self.text, opened + 1)
            self.pos += 1
            return Compiled(f"({inner.sql})", inner.args)
        if self.text[self.pos] == ")":
            raise parse_error(self.text, self.pos)
        return self._filter()

    def _filter(self) -> Compiled:
        start = self.pos
        negated = self.text.startswith("!", self.pos)
        if negated:
            self.pos += 1
        if self.text.startswith('"', self.pos):
            self.used.update(("message", "title"))
            return _free_text(self._quoted(start), negated=negated)
        key_match = re.compile(r"(tags\[[^\]]*\]|[a-zA-Z0-9_.\-@\[\]]+(?:\([^()]*\))?):").match(
            self.text, self.pos)
        if key_match is None:
            word = self._bare()
            self.used.update(("message", "title"))
            return _free_text(word, negated=negated)
        key = key_match.group(1)
        self.pos = key_match.end()
        if is_function(key):
            raise InvalidQuery(f"Aggregate filters such as {key} are not supported here")
        if self.text.startswith('"', self.pos):
            value: str | list[str] = self._quoted(start)
        elif self.text.startswith("[", self.pos):
            value = self._list(start)
        else:
            value = self._bare()
        return self._condition(key, value, negated=negated)

    # -- values ---------------------------------------------------------------------------
    def _quoted(self, start: int) -> str:
        end = self.pos + 1
        out = []
        while end < len(self.text) and self.text[end] != '"':
            if self.text[end] == "\\" and end + 1 < len(self.text):
                end += 1
            out.append(self.text[end])
            end += 1
        if end >= len(self.text):
            raise parse_error(self.text, start)
        self.pos = end + 1
        return "".join(out)

    def _list(self, start: int) -> list[str]:
        end = self.text.find("]", self.pos)
        if end < 0:
            raise parse_error(self.text, start)
        items = [v.strip().strip('"') for v in self.text[self.pos + 1:end].split(",")]
        self.pos = end + 1
        return [v for v in items if v]

    def _bare(self) -> str:
        match = VALUE_STOP.search(self.text, self.pos)
        end = match.start() if match else len(self.text)
        word = self.text[self.pos:end]
        self.pos = end
        return word

    def _skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1

    def _peek_keyword(self, word: str) -> bool:
        after = self.pos + len(word)
        return self.text.startswith(word, self.pos) and (
            after >= len(self.text) or self.text[after] in " (")

    def _keyword(self, word: str) -> bool:
        self._skip()
        if self._peek_keyword(word):
            self.pos += len(word)
            return True
        return False

    # -- conditions -----------------------------------------------------------------------
    def _condition(self, key: str, value: str | list[str], *, negated: bool) -> Compiled:
        if key == "has":
            col = column(str(value))
            self.used.add(col.sql)
            sql = f"({col.sql} IS NOT NULL AND {col.sql} != '')"
            return Compiled(f"NOT {sql}" if negated else sql, [])
        col = column(key)
        self.used.add(col.sql)
        if col.special == "project":
            return _equals(col, self._ids(value, self.resolve_project), negated=negated)
        if col.special == "issue":
            return _equals(col, self._ids(value, self.resolve_issue), negated=negated)
        if isinstance(value, str) and col.type in ("integer", "number", "duration", "date"):
            for op in COMPARATORS:
                if value.startswith(op):
                    sql = f"{col.sql} {op} ?"
                    arg = _number(col, value[len(op):])
                    return Compiled(f"NOT ({sql})" if negated else sql, [arg])
            if col.type != "date":
                return _equals(col, [_number(col, value)], negated=negated)
        values = value if isinstance(value, list) else [value]
        if any("*" in v for v in values):
            return _like(col, values, negated=negated)
        return _equals(col, values, negated=negated)

    def _ids(self, value: str | list[str], resolve: Resolver) -> list[Any]:
        values = value if isinstance(value, list) else [value]
        return [-1 if (found := resolve(v)) is None else found for v in values]


def _join(parts: list[Compiled], op: str) -> Compiled:
    if len(parts) == 1:
        return parts[0]
    return Compiled(f" {op} ".join(f"({p.sql})" for p in parts),
                    [a for p in parts for a in p.args])


def _equals(col: Column, values: list[Any], *, negated: bool) -> Compiled:
    if values == [""]:
        sql = f"({col.sql} IS NULL OR {col.sql} = '')"
        return Compiled(f"NOT {sql}" if negated else sql, [])
    marks = ", ".join("?" * len(values))
    if negated:
        return Compiled(f"({col.sql} IS NULL OR {col.sql} NOT IN ({marks}))", list(values))
    return Compiled(f"{col.sql} IN ({marks})", list(values))


def _like(col: Column, values: list[str], *, negated: bool) -> Compiled:
    patterns = [v.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                .replace("*", "%") for v in values]
    sql = " OR ".join(f"{col.sql} LIKE ? ESCAPE '\\'" for _ in patterns)
    if negated:
        return Compiled(f"({col.sql} IS NULL OR NOT ({sql}))", patterns)
    return Compiled(f"({sql})", patterns)


def _free_text(text: str, *, negated: bool) -> Compiled:
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") \
        .replace("*", "%") + "%"
    sql = "(message LIKE ? ESCAPE '\\' OR title LIKE ? ESCAPE '\\')"
    return Compiled(f"NOT {sql}" if negated else sql, [pattern, pattern])


def _number(col: Column, text: str) -> float | int:
    if col.type == "date":
        return parse_instant_ms(text)
    multiplier = 1.0
    for suffix, factor in (("ms", 1.0), ("s", 1000.0), ("m", 60_000.0), ("h", 3_600_000.0)):
        if col.type == "duration" and text.endswith(suffix) and text[:-len(suffix)]:
            text, multiplier = text[:-len(suffix)], factor
            break
    try:
        number = float(text) * multiplier
    except ValueError:
        raise InvalidQuery(f"Invalid number: {text}") from None  # unverified text
    return int(number) if col.type == "integer" else number


def parse_instant_ms(text: str) -> int:
    """An ISO-8601 instant (naive means UTC) as epoch milliseconds."""
    try:
        value = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise InvalidQuery(f"{text} is not a valid ISO8601 date query") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)


def compile_query(query: str, *, project: Resolver, issue: Resolver) -> Compiled:
    """The SQL condition (with arguments) of a Discover search query."""
    return _Parser(query, project=project, issue=issue).parse()
