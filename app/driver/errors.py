"""The driver's errors as the SQLAlchemy exceptions the rest of the code expects."""

from __future__ import annotations

import sqlite3

from sqlalchemy import exc as sa_exc

_SQLSTATE_ERRORS: dict[str, type[sa_exc.DBAPIError]] = {
    "23": sa_exc.IntegrityError, "22": sa_exc.DataError, "08": sa_exc.OperationalError,
    "40": sa_exc.OperationalError, "53": sa_exc.OperationalError, "57": sa_exc.OperationalError,
}


def as_sqlalchemy_error(exc: Exception, sql: str) -> sa_exc.DBAPIError:
    """The driver's error as the SQLAlchemy exception the rest of the code expects (the
    driver's own stays in ``.orig``; parameters are never part of the message)."""
    if isinstance(exc, sqlite3.Error):
        kind = {sqlite3.IntegrityError: sa_exc.IntegrityError,
                sqlite3.DataError: sa_exc.DataError,
                sqlite3.OperationalError: sa_exc.OperationalError,
                sqlite3.ProgrammingError: sa_exc.ProgrammingError}.get(type(exc), sa_exc.DBAPIError)
    else:
        state = getattr(exc, "sqlstate", None) or ""
        kind = _SQLSTATE_ERRORS.get(state[:2], sa_exc.DBAPIError)
        if not state:
            kind = sa_exc.OperationalError  # a lost connection, a protocol error
    return kind(sql, None, exc, hide_parameters=True)
