"""Portable SQL helpers for reports: seconds since the epoch on SQLite and PostgreSQL.

Reports read instants as numbers: converting hundreds of thousands of
timestamps to ``datetime`` objects would cost more than the query.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class epoch(FunctionElement[float]):
    """Seconds since 1970-01-01 UTC of a UTC timestamp column, as a float (NULL stays NULL)."""

    type = sa.Float()
    inherit_cache = True
    name = "epoch"


@compiles(epoch, "sqlite")
def _epoch_sqlite(element: epoch, compiler: Any, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    # julianday is a double: rounding to the millisecond removes its representation error
    return f"ROUND((julianday({compiler.process(arg, **kw)}) - 2440587.5) * 86400.0, 3)"


@compiles(epoch)
def _epoch_default(element: epoch, compiler: Any, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    return f"EXTRACT(EPOCH FROM {compiler.process(arg, **kw)})"


class floor_int(FunctionElement[int]):
    """The integer part of a non-negative number: CAST truncates on SQLite, FLOOR on PostgreSQL."""

    type = sa.Integer()
    inherit_cache = True
    name = "floor_int"


@compiles(floor_int, "sqlite")
def _floor_sqlite(element: floor_int, compiler: Any, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    return f"CAST({compiler.process(arg, **kw)} AS INTEGER)"


@compiles(floor_int)
def _floor_default(element: floor_int, compiler: Any, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    return f"CAST(FLOOR({compiler.process(arg, **kw)}) AS INTEGER)"
