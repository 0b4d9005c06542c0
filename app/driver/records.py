"""Rows as the driver returns them: read-only records, and results with the methods of
SQLAlchemy's ``Result`` that the code uses."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import exc as sa_exc


class WriteInReadSession(RuntimeError):
    """A programming error: something tried to write through ``Database.read``."""


REFUSED = "Database.read() is for reads; use Database.transaction()"


def _read_only(self: Any, name: str, value: Any) -> None:
    raise WriteInReadSession(f"{REFUSED} (a record from a read cannot be changed)")


_RECORD_TYPES: dict[tuple[str, tuple[str, ...]], type] = {}


def record_type(name: str, fields: Sequence[str]) -> type:
    """A named tuple type whose fields can be read by name and never assigned."""
    key = (name, tuple(fields))
    made = _RECORD_TYPES.get(key)
    if made is None:
        base = namedtuple(name, key[1], rename=True)  # type: ignore[misc]
        made = _RECORD_TYPES[key] = type(name, (base,), {"__slots__": (),
                                                         "__setattr__": _read_only})
    return made

class Result:
    """Rows of a statement, with the methods of SQLAlchemy's ``Result`` that the code uses."""

    def __init__(self, rows: list[tuple], rowcount: int = -1) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def all(self) -> list[tuple]:
        return self._rows

    def __iter__(self) -> Iterator[tuple]:
        return iter(self._rows)

    def first(self) -> tuple | None:
        return self._rows[0] if self._rows else None

    def one(self) -> tuple:
        if len(self._rows) != 1:
            raise sa_exc.NoResultFound("No row was found") if not self._rows else \
                sa_exc.MultipleResultsFound("Multiple rows were found")
        return self._rows[0]

    def one_or_none(self) -> tuple | None:
        if len(self._rows) > 1:
            raise sa_exc.MultipleResultsFound("Multiple rows were found")
        return self.first()

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalar_one_or_none(self) -> Any:
        row = self.one_or_none()
        return None if row is None else row[0]

    def scalars(self) -> Scalars:
        return Scalars([row[0] for row in self._rows])


class Scalars:
    """``Result.scalars()``: the first element of every row."""

    def __init__(self, values: list[Any]) -> None:
        self._values = values

    def all(self) -> list[Any]:
        return self._values

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def first(self) -> Any:
        return self._values[0] if self._values else None

    def one(self) -> Any:
        return Result([(v,) for v in self._values]).scalar_one()

    def one_or_none(self) -> Any:
        return Result([(v,) for v in self._values]).scalar_one_or_none()
