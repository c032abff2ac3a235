"""Bulk inserts, updates and reads that stay fast for thousands of rows.

SQLAlchemy's Core `executemany` processes each row's parameters in Python and, asked for RETURNING
in parameter order on SQLite, falls back to one INSERT per row. For the editor's whole-graph saves
(thousands of nodes and connections) and the engine's step batches that costs hundreds of
milliseconds. On SQLite these helpers instead run one DB-API `executemany` with values converted by
the columns' own SQLAlchemy bind processors (so what is stored is exactly what the ORM would store)
and assign primary keys themselves: callers hold SQLite's write lock (BEGIN IMMEDIATE, or a write
earlier in the same transaction), so `max(id) + 1...` cannot race.

On PostgreSQL ids come from the tables' sequences, drawn in one query before the rows go in by one
COPY (the same shape as SQLite's path, and as fast: SQLAlchemy's multi-row INSERT ... RETURNING
spent 200 ms of Python on a 2,000-node graph); one row is one INSERT ... RETURNING, a few rows one
multi-row INSERT (fewer round trips than COPY); `append_rows` (no ids wanted, e.g. the engine's step
rows) writes the same way; updates are one Core executemany. Reads use the
driver's cursor on both; JSON columns are read as their stored text (`json` keeps the text it was
given), so `encode_rows` and `read_raw` values compare equal for unchanged rows on either backend.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, Connection, Table, bindparam, func, select, update
from sqlalchemy.types import JSON

from .json_text import column_text, dumps_standard
from .tables import UTCDateTime

Processor = Callable[[Any], Any] | None


def _memoized(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    # Rows written together share one timestamp: format it once per distinct value.
    seen: dict[Any, Any] = {}

    def run(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            seen[value] = result = process(value)
            return result

    return run


def _json_binder(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    # Most configs are empty: skip the serializer for them (same text it would produce).
    def run(value: Any) -> Any:
        if value is None:
            return None
        if not value and type(value) in (dict, list):
            return "{}" if type(value) is dict else "[]"
        return process(value)

    return run


def _json_text(value: Any) -> str | None:
    return column_text(value, dumps_standard)


def _processors(conn: Connection, table: Table, columns: Sequence[str]) -> list[Processor]:
    dialect = conn.dialect
    sqlite = dialect.name == "sqlite"
    out: list[Processor] = []
    for name in columns:
        kind = table.c[name].type
        if not sqlite and isinstance(kind, JSON):
            out.append(_json_text)  # the stored text (psycopg's own binding wraps values instead)
            continue
        process: Processor = kind.dialect_impl(dialect).bind_processor(dialect)
        if process is not None and isinstance(kind, UTCDateTime):
            process = _memoized(process)
        elif process is not None and isinstance(kind, JSON):
            process = _json_binder(process)
        out.append(process)
    return out


def _quoted(conn: Connection, names: Sequence[str]) -> list[str]:
    quote = conn.dialect.identifier_preparer.quote
    return [quote(n) for n in names]


def encode_rows(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> list[tuple[Any, ...]]:
    """The stored form of `columns` of each row (the columns' own bind processors; JSON as its text),
    equal to what `read_raw` returns for an unchanged row."""
    procs = _processors(conn, table, columns)
    pairs = list(zip(columns, procs, strict=True))
    return [tuple([p(row[c]) if p else row[c] for c, p in pairs]) for row in rows]


def update_encoded(
    conn: Connection, table: Table, columns: Sequence[str], params: Sequence[tuple[Any, ...]]
) -> None:
    """SQLite only: one executemany of `UPDATE ... SET columns WHERE id = ?` with encoded values, id last."""
    if not params:
        return
    sets = ", ".join(f"{name} = ?" for name in _quoted(conn, columns))
    conn.exec_driver_sql(
        f"UPDATE {conn.dialect.identifier_preparer.format_table(table)} SET {sets} WHERE id = ?", list(params)
    )


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert rows (all with the same keys) in one executemany; return their new ids in order.

    PostgreSQL: one row is one `INSERT ... RETURNING id`; more rows draw their ids from the table's
    own sequence in one query (ascending, in the rows' order) and go in with them in one statement
    (`_write_encoded`). A column the rows lack takes its default. Concurrent writers get distinct
    ids, as the sequence hands them out.
    """
    if not rows:
        return []
    if conn.dialect.name != "sqlite":
        columns = [c.name for c in table.c if c.name != "id"]
        encoded = encode_rows(conn, table, columns, _with_defaults(table, columns, rows))
        target = conn.dialect.identifier_preparer.format_table(table)
        if len(encoded) == 1:
            names = ", ".join(_quoted(conn, columns))
            marks = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {target} ({names}) VALUES ({marks}) RETURNING id"
            return [int(_driver_rows(conn, sql, encoded[0])[0][0])]
        ids = [
            int(i)
            for (i,) in _driver_rows(
                conn,
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                (target, len(rows)),
            )
        ]
        ids.sort()
        _write_encoded(conn, table, ["id", *columns], [(i, *v) for i, v in zip(ids, encoded, strict=True)])
        return ids
    columns = list(rows[0].keys())
    return insert_encoded(conn, table, columns, encode_rows(conn, table, columns, rows))


def insert_encoded(
    conn: Connection, table: Table, columns: Sequence[str], params: Sequence[tuple[Any, ...]]
) -> list[int]:
    """SQLite only: insert rows already encoded by `encode_rows` in one executemany; return their new ids."""
    if not params:
        return []
    first = int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1
    ids = list(range(first, first + len(params)))
    names = ", ".join(_quoted(conn, ["id", *columns]))
    marks = ", ".join("?" * (len(columns) + 1))
    conn.exec_driver_sql(
        f"INSERT INTO {conn.dialect.identifier_preparer.format_table(table)} ({names}) VALUES ({marks})",
        [(new_id, *values) for new_id, values in zip(ids, params, strict=True)],
    )
    return ids


def update_changed(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    changed: Sequence[tuple[int, tuple[Any, ...], Any]],
    values_of: Callable[[Any], Mapping[str, Any]],
) -> None:
    """Update rows found changed by comparing their stored form: each (id, `encode_rows` values of
    `columns`, source). SQLite writes those encoded values as they are (no second encoding); other
    databases bind `values_of(source)` through the column types. One executemany either way."""
    if conn.dialect.name == "sqlite":
        update_encoded(conn, table, columns, [(*encoded, row_id) for row_id, encoded, _ in changed])
    else:
        update_rows(conn, table, [{"id": row_id, **values_of(source)} for row_id, _, source in changed])


def update_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Update rows by their "id" key; every row sets the same other keys. One executemany."""
    if not rows:
        return
    columns = [k for k in rows[0] if k != "id"]
    if not columns:
        return
    if conn.dialect.name != "sqlite":
        stmt = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values(**{c: bindparam(f"_{c}") for c in columns})
        )
        conn.execute(stmt, [{"_id": r["id"], **{f"_{c}": r[c] for c in columns}} for r in rows])
        return
    procs = _processors(conn, table, columns)
    params = [
        (*[p(row[c]) if p else row[c] for c, p in zip(columns, procs, strict=True)], row["id"])
        for row in rows
    ]
    sets = ", ".join(f"{name} = ?" for name in _quoted(conn, columns))
    conn.exec_driver_sql(
        f"UPDATE {conn.dialect.identifier_preparer.format_table(table)} SET {sets} WHERE id = ?", params
    )


def append_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows whose ids nobody needs back; a column a row lacks takes its default, else NULL.

    PostgreSQL: one statement in the connection's transaction (COPY for a big batch, the fastest way
    in), so the step roll-up triggers aggregate the whole batch at once. SQLite: `insert_rows`.
    """
    if not rows:
        return
    columns = [c.name for c in table.c if c.name != "id"]
    filled = _with_defaults(table, columns, rows)
    if conn.dialect.name == "sqlite":
        insert_rows(conn, table, filled)
        return
    _write_encoded(conn, table, columns, encode_rows(conn, table, columns, filled))


def step_row_exists(conn: Connection, execution_id: int, sequence: int, step_name: str) -> bool:
    """Whether a run's step row (its start order and step name) is stored: after a commit whose
    answer was lost, this tells whether the batch it began was committed."""
    from .tables import ExecutionLogRow as Log

    found = conn.execute(
        select(Log.id)
        .where(Log.execution_id == execution_id, Log.sequence == sequence, Log.step_name == step_name)
        .limit(1)
    ).first()
    if conn.in_transaction():
        conn.rollback()  # a read only: end it, so the next write begins (and locks) afresh
    return found is not None


#: Below this many rows one multi-row INSERT costs fewer round trips than COPY's three.
COPY_FROM_ROWS = 32


def _write_encoded(
    conn: Connection, table: Table, columns: Sequence[str], encoded: Sequence[tuple[Any, ...]]
) -> None:
    """PostgreSQL: rows already encoded (JSON as text, so nothing fails half-way) in one statement:
    a multi-row INSERT for a few, a COPY for many."""
    names = ", ".join(_quoted(conn, columns))
    target = conn.dialect.identifier_preparer.format_table(table)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if len(encoded) < COPY_FROM_ROWS:
            row = f"({', '.join(['%s'] * len(columns))})"
            flat = [v for values in encoded for v in values]
            cursor.execute(f"INSERT INTO {target} ({names}) VALUES {', '.join([row] * len(encoded))}", flat)
            return
        with cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
            for values in encoded:
                copy.write_row(values)
    finally:
        cursor.close()


def _driver_rows(conn: Connection, sql: str, params: tuple[Any, ...]) -> list[Any]:
    # The session's own DB-API connection (same transaction); plain tuples, no Row objects.
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _with_defaults(
    table: Table, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Every row with every column: a missing one takes the column's default, else None (NULL)."""
    defaults = {}
    for name in columns:
        default = table.c[name].default
        if default is not None and (default.is_scalar or default.is_callable):
            defaults[name] = default
    out = []
    for row in rows:
        full = {name: row.get(name) for name in columns}
        for name, default in defaults.items():
            if name not in row:
                # A callable default is wrapped by SQLAlchemy to take an execution context.
                full[name] = default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined]
        out.append(full)
    return out


def _json_loader(value: Any) -> Any:
    if value == "{}":  # most configs: a fresh empty dict without the parser
        return {}
    return json.loads(value) if isinstance(value, str | bytes) else value


def _bool_loader(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _load_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _datetime_loader() -> Callable[[Any], datetime | None]:
    # Rows written together share one timestamp, so most values repeat: parse each text once.
    seen: dict[Any, datetime | None] = {None: None}

    def load(value: Any) -> datetime | None:
        try:
            return seen[value]
        except KeyError:
            seen[value] = parsed = _load_datetime(value)
            return parsed

    return load


def read_rows(
    conn: Connection, table: Table, columns: Sequence[str], column: str, value: Any, order_by: Sequence[str]
) -> list[tuple[Any, ...]]:
    """`columns` of the rows of `table` whose `column` equals `value`, ordered, as decoded tuples.

    Runs a textual SELECT, so SQLAlchemy applies no per-value result processing; JSON, timestamp and
    boolean columns are decoded here (once per distinct timestamp), which is several times faster
    for the thousands of rows of a big graph. Works on both backends: values the driver already
    decoded (PostgreSQL's timestamps) pass through.
    """
    decode = row_decoder(table, columns)
    return [decode(raw) for raw in read_raw(conn, table, columns, column, value, order_by)]


def row_decoder(
    table: Table, columns: Sequence[str], *, batch: bool = True
) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """A function decoding driver tuples of `columns` (JSON, timestamps, booleans) as `read_rows`
    does. For a batch it remembers each distinct timestamp (rows written together share one), so
    make one per batch; `batch=False` makes one that remembers nothing, to keep for single rows."""
    loaders: list[Callable[[Any], Any] | None] = []
    for name in columns:
        kind = table.c[name].type
        if isinstance(kind, JSON):
            loaders.append(_json_loader)
        elif isinstance(kind, UTCDateTime):
            loaders.append(_datetime_loader() if batch else _load_datetime)
        elif isinstance(kind, Boolean):
            loaders.append(_bool_loader)
        else:
            loaders.append(None)
    active = [(i, f) for i, f in enumerate(loaders) if f is not None]

    def decode(raw: Sequence[Any]) -> tuple[Any, ...]:
        row = list(raw)
        for i, f in active:
            row[i] = f(row[i])
        return tuple(row)

    return decode


def read_raw(
    conn: Connection, table: Table, columns: Sequence[str], column: str, value: Any, order_by: Sequence[str]
) -> list[Any]:
    """`columns` of the rows whose `column` equals `value`, as the driver returns them (not decoded;
    JSON columns as their stored text on every backend)."""
    quote = conn.dialect.identifier_preparer.quote
    sqlite = conn.dialect.name == "sqlite"
    selected = [
        quote(c) if sqlite or not isinstance(table.c[c].type, JSON) else f"CAST({quote(c)} AS TEXT)"
        for c in columns
    ]
    select_from = f"SELECT {', '.join(selected)} FROM {conn.dialect.identifier_preparer.format_table(table)}"
    order = ", ".join(quote(o) for o in order_by)
    mark = "?" if sqlite else "%s"
    return _driver_rows(conn, f"{select_from} WHERE {quote(column)} = {mark} ORDER BY {order}", (value,))


def datetime_decoder() -> Callable[[Any], datetime | None]:
    """A decoder of stored timestamps to aware UTC datetimes (remembers each distinct value)."""
    return _datetime_loader()
