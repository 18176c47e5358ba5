"""Hot statements compiled once for SQLite's driver (D103).

SQLAlchemy's execution of an already compiled statement still costs tens of microseconds (execution
context, events, result metadata): more than SQLite's own work for a row read by its key. A `Prepared`
statement keeps the SQLite text, the order of its parameters, and the type processors of its
parameters and columns, taken from SQLAlchemy once; on a SQLite connection it runs on the driver
directly (the driver keeps the statement prepared), elsewhere SQLAlchemy runs the statement as usual.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import Executable, String
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import NullType

from kana_server.domain.errors import InvalidInput

NUL_MESSAGE = "Text must not contain the NUL character (U+0000)"


_ATOMS = frozenset((int, float, bool, bytes, type(None)))
"""Parameter types that cannot hold text."""


def contains_nul(value: Any) -> bool:
    """Whether a parameter (or a dict, list or tuple of them) holds U+0000."""
    if type(value) in _ATOMS:
        return False
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(map(contains_nul, value.values()))
    if isinstance(value, list | tuple):
        return any(map(contains_nul, value))
    return False


def refuse_nul(parameters: Any) -> None:
    """D65: U+0000 is refused in every parameter of every statement (BAD_USER_INPUT)."""
    if contains_nul(parameters):
        raise InvalidInput(NUL_MESSAGE)


SQLITE = sqlite.dialect()
Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class Prepared:
    """One statement: SQLAlchemy's, and its SQLite text with what it takes to run it on the driver."""

    statement: Executable
    sql: str
    names: tuple[str, ...]
    bind_processors: tuple[Processor, ...]
    result_processors: tuple[Processor, ...]
    row: Callable[..., tuple[Any, ...]]
    text_positions: tuple[int, ...]
    """The parameters bound to text (D65 looks for U+0000 there: every other type binds a number, a
    date or JSON, whose text escapes it)."""

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The driver's parameters, in order, converted as SQLAlchemy would."""
        out = []
        for name, process in zip(self.names, self.bind_processors, strict=True):
            value = values[name]
            out.append(value if process is None or value is None else process(value))
        return tuple(out)

    def refuse_nul(self, parameters: Sequence[Any]) -> None:
        """D65 on the driver's parameters of one execution."""
        for position in self.text_positions:
            value = parameters[position]
            if type(value) is str and "\x00" in value:
                raise InvalidInput(NUL_MESSAGE)

    def binder(
        self, names: Sequence[str], fixed: Mapping[str, Any]
    ) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
        """A function from a row of values in `names`' order to the driver's parameters, converted as
        SQLAlchemy would, with `fixed` giving the same value to the other parameters of every row (bulk
        writes build tuples, not a dict per row)."""
        columns = (*names, *fixed)
        tail = tuple(fixed.values())
        positions = [columns.index(name) for name in self.names]
        # itemgetter of several positions returns a tuple, of one position the bare value
        pick = itemgetter(*positions) if len(positions) > 1 else lambda row: (row[positions[0]],)
        converted = [(i, p) for i, p in enumerate(self.bind_processors) if p is not None]

        def bind(row: tuple[Any, ...]) -> tuple[Any, ...]:
            values: tuple[Any, ...] = pick(row + tail)
            if not converted:
                return values
            out = list(values)
            for position, process in converted:
                value = out[position]
                if value is not None:
                    out[position] = process(value)
            return tuple(out)

        return bind

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """The driver's rows as named tuples with SQLAlchemy's column conversions."""
        make = self.row
        processors = self.result_processors
        return [
            make(*(v if p is None else p(v) for v, p in zip(values, processors, strict=True)))
            for values in raw
        ]


def _binds_text(type_: Any) -> bool:
    """Whether a parameter of this type reaches the driver as text (a decorated type: its own type's)."""
    return isinstance(getattr(type_, "impl_instance", type_), String | NullType)


def prepare(statement: Any) -> Prepared:
    """Compile a statement with bind parameters for SQLite, once."""
    compiled = statement.compile(dialect=SQLITE)
    names = tuple(compiled.positiontup or ())
    binds = compiled.binds
    bind_processors = tuple(binds[n].type.dialect_impl(SQLITE).bind_processor(SQLITE) for n in names)
    columns = list(getattr(statement, "selected_columns", None) or getattr(statement, "_returning", ()) or ())
    keys = [
        str(getattr(c, "key", None) or getattr(c, "name", None) or f"c{i}") for i, c in enumerate(columns)
    ]
    result_processors = tuple(c.type.dialect_impl(SQLITE).result_processor(SQLITE, None) for c in columns)
    row = namedtuple("Row", keys or ["_"], rename=True)  # type: ignore[misc]
    text = tuple(i for i, name in enumerate(names) if _binds_text(binds[name].type))
    return Prepared(statement, compiled.string, names, bind_processors, result_processors, row, text)


class PreparedResult:
    """The part of SQLAlchemy's `Result` that the store uses, over rows read at once."""

    __slots__ = ("_rows",)

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self._rows = rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self._rows)

    def all(self) -> list[tuple[Any, ...]]:
        """Every row."""
        return self._rows

    def first(self) -> Any:
        """The first row, or None."""
        return self._rows[0] if self._rows else None

    def one(self) -> Any:
        """The only row."""
        if len(self._rows) != 1:
            raise LookupError(f"expected one row, found {len(self._rows)}")
        return self._rows[0]

    def scalar_one(self) -> Any:
        """The only row's first column."""
        return self.one()[0]

    def scalar_one_or_none(self) -> Any:
        """The only row's first column, or None without a row."""
        if not self._rows:
            return None
        return self.one()[0]
