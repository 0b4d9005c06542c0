"""SQLAlchemy statement -> SQL text, parameter order, value conversions and row shape, once
per statement shape and dialect; rows from the driver -> records."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement, Select, TextClause
from sqlalchemy.sql.selectable import CompoundSelect, TextualSelect

from app.driver.records import record_type


@dataclass(frozen=True)
class _Entity:
    """An ORM entity in a select: ``width`` columns make one record."""

    width: int
    record: type


@dataclass
class _Plan:
    compiled: Any
    expands: bool  # has "expanding" (IN list) parameters: the SQL depends on the values
    sql: str
    positions: Sequence[str]
    processors: Mapping[str, Callable[[Any], Any]]
    prefetch: Sequence[tuple[str, Callable[[], Any]]]  # column defaults computed in Python
    returns_rows: bool
    result_processors: Sequence[Callable[[Any], Any] | None] | None
    shape: Sequence[_Entity | None] | None  # per result element; None: columns as they come
    row_type: type | None  # None: named by the driver's column names (textual SQL)
    #: The parameters a call must give for the quick path (no column default fills them).
    needed: frozenset[str] = frozenset()


def _column_default(column: Any, update: bool) -> Callable[[], Any]:
    default = column.onupdate if update else column.default
    if default.is_callable:
        return lambda: default.arg(None)
    return lambda: default.arg


def _entity_of(description: Mapping[str, Any]) -> Any | None:
    expr = description.get("expr")
    if isinstance(expr, type) and description.get("entity") is expr:
        return expr
    return None


def _shape(statement: Any, dialect: Dialect):
    """Result processors and how to group the columns of a select into its elements."""
    if not isinstance(statement, (Select, CompoundSelect, TextualSelect)):
        return None, None, None
    columns = list(statement.selected_columns)
    processors = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
    if not isinstance(statement, Select):
        return processors, None, [c.key for c in columns]
    shape: list[_Entity | None] = []
    fields: list[str] = []
    for description in statement.column_descriptions:
        entity = _entity_of(description)
        fields.append(description["name"])
        if entity is None:
            shape.append(None)
            continue
        mapper = sa_inspect(entity)
        attrs = [mapper.get_property_by_column(c).key for c in mapper.columns]
        shape.append(_Entity(len(attrs), record_type(entity.__name__, attrs)))
    if sum(e.width if e else 1 for e in shape) != len(columns):
        raise NotImplementedError(f"cannot map the columns of {statement} to its entities")
    return processors, shape, fields


def _compile(statement: ClauseElement, dialect: Dialect, column_keys: Sequence[str],
             cache_key: Any = None) -> _Plan:
    compiled = statement.compile(dialect=dialect, column_keys=list(column_keys) or None,
                                 cache_key=cache_key)
    expands = bool(compiled.literal_execute_params or compiled.post_compile_params)
    prefetch = [(c.key, _column_default(c, False)) for c in compiled.insert_prefetch]
    prefetch += [(c.key, _column_default(c, True)) for c in compiled.update_prefetch]
    returns_rows = bool(getattr(compiled, "returning", None)) or isinstance(
        statement, (Select, CompoundSelect, TextualSelect)) or (
        isinstance(statement, TextClause) and _is_read_text(statement))
    processors, shape, fields = _shape(statement, dialect)
    positions = compiled.positiontup or ()
    return _Plan(compiled, expands, compiled.string, positions, compiled._bind_processors,
                 prefetch, returns_rows, processors, shape,
                 record_type("Row", fields) if fields is not None else None,
                 frozenset(positions) - {key for key, _ in prefetch})


def _is_read_text(statement: TextClause) -> bool:
    return statement.text.lstrip().upper().startswith(("SELECT", "WITH"))


def is_read(statement: Any) -> bool:
    """Whether a statement only reads (what ``Database.read`` lets through)."""
    if isinstance(statement, TextClause):
        return _is_read_text(statement)
    return isinstance(statement, (Select, CompoundSelect, TextualSelect))


def _lru_get(cache: OrderedDict, key: Any) -> Any:
    found = cache.get(key)
    if found is not None:
        cache.move_to_end(key)
    return found


def _lru_put(cache: OrderedDict, key: Any, value: Any, size: int) -> None:
    cache[key] = value
    if len(cache) > size:
        cache.popitem(last=False)  # the least recently used


class Compiler:
    """Compiled statements of one dialect.

    A statement object seen again (the module-level constants of the hot paths) is found by
    identity; any other by SQLAlchemy's cache key, so statements built per call with their own
    values compile once per shape, as in SQLAlchemy's own cache.
    """

    SIZE = 500

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._by_object: OrderedDict[Any, _Plan] = OrderedDict()
        self._by_key: OrderedDict[Any, _Plan] = OrderedDict()

    def prepare(self, statement: ClauseElement, params: Mapping[str, Any] | None,
                column_keys: Sequence[str] = ()) -> tuple[_Plan, list[Any] | None]:
        """The plan of a statement, and the parameters SQLAlchemy extracted from it."""
        keys = tuple(sorted(column_keys))
        plan = _lru_get(self._by_object, (statement, keys))
        if plan is not None:
            return plan, None
        cache_key = statement._generate_cache_key()
        if cache_key is None:  # not cacheable: compile every time
            return _compile(statement, self.dialect, keys), None
        extracted = cache_key.bindparams
        lookup = (cache_key.key, keys)
        plan = _lru_get(self._by_key, lookup)
        if plan is None:
            plan = _compile(statement, self.dialect, keys, cache_key)
            _lru_put(self._by_key, lookup, plan, self.SIZE)
        if not extracted:
            _lru_put(self._by_object, (statement, keys), plan, self.SIZE)
            return plan, None
        return plan, extracted

    def arguments(self, plan: _Plan, params: Mapping[str, Any] | None,
                  extracted: list[Any] | None) -> tuple[str, list[Any]]:
        """The SQL text and the positional values for one parameter set."""
        processors = plan.processors
        if (extracted is None and not plan.expands and params is not None
                and plan.needed.issubset(params)):
            # Every value is given (or a column default): what construct_params would find.
            values = params
            if plan.prefetch:
                values = {**params, **{key: default() for key, default in plan.prefetch
                                       if key not in params}}
            return plan.sql, [processors[k](values[k]) if k in processors else values[k]
                              for k in plan.positions]
        compiled = plan.compiled
        values = compiled.construct_params(params, extracted_parameters=extracted,
                                           escape_names=False, _no_postcompile=plan.expands)
        for key, default in plan.prefetch:
            if params is None or key not in params:
                values[key] = default()
        sql, positions = plan.sql, plan.positions
        if plan.expands:
            state = compiled._process_parameters_for_postcompile(values)
            sql, positions = state.statement, state.positiontup
            processors = {**processors, **state.processors}
        return sql, [processors[k](values[k]) if k in processors else values[k]
                     for k in positions]


def shape_rows(plan: _Plan, raw: Sequence[Sequence[Any]], names: Sequence[str]) -> list[tuple]:
    processors = plan.result_processors
    if processors is not None and any(processors):
        raw = [[p(v) if p else v for p, v in zip(processors, row, strict=True)] for row in raw]
    row_type = plan.row_type or record_type("Row", names)
    if plan.shape is None or not any(plan.shape):
        return [row_type(*row) for row in raw]
    out = []
    for row in raw:
        items, i = [], 0
        for element in plan.shape:
            if element is None:
                items.append(row[i])
                i += 1
            else:
                items.append(element.record(*row[i:i + element.width]))
                i += element.width
        out.append(row_type(*items))
    return out
