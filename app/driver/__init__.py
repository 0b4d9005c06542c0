"""Statements run on the database driver itself: asyncpg, or Python's own sqlite3.

Through SQLAlchemy's session and pool a primary-key lookup costs about four times what asyncpg
takes for it, and opening and closing the session as much again: on the paths every request
takes (the caller's credentials, ``getRoles``, a sign-in) that was most of the request. Reads
(``Database.read``) and the sign-in's transaction (``Database.statements``) therefore run here.
SQLAlchemy still builds the statements, compiles them (once per statement shape, keyed as its
own compiled cache is) and converts values with the column types; the driver runs them.

What a ``DriverConnection`` offers is the part of SQLAlchemy's session API that reads and plain
statements use: ``execute`` (Core statements, ORM entities in ``select``), ``get`` by primary key,
results with ``all``/``first``/``one``/``scalar``/``scalars``. An ORM entity comes back as a
read-only record with the entity's attribute names, not as a tracked object.
"""


from app.driver.connection import Backend, DriverConnection
from app.driver.pool import Connections
from app.driver.postgres import PostgresBackend
from app.driver.records import Result, WriteInReadSession, record_type
from app.driver.sqlite import SQLiteBackend

__all__ = ["Backend", "Connections", "DriverConnection", "PostgresBackend", "Result",
           "SQLiteBackend", "WriteInReadSession", "record_type"]
