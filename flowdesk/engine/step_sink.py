"""The step sink: a small process that inserts batches of step rows into a SQLite file.

Started by ExecutionWriter (writer.py) when runs write steps in bulk (its thread writes the first
batches; then the event loop writes them itself, engine/sink_channel.py), as
`python -I -S step_sink.py DATABASE`: it runs this file directly, so it imports nothing but the
standard library and starts in about 10 ms. It reads messages from stdin and
answers each batch on stdout once the batch is committed (or failed), so the writer keeps every
guarantee it had: order, and "flush() returns when everything before it is in the database".

Why a process (docs/architecture.md, "The step sink"): inserting a step row costs SQLite some
20 us (indexes, roll-up triggers, foreign keys). On a thread of the engine's process that work is
done between GIL hand-overs, one per row, and every socket call of the event loop then waits for
the GIL to come back: the engine ran 20-30 % slower with the writer thread busy, and the app's
GUI thread felt the same waits. In a process of its own the rows cost the event loop nothing.

Messages are `marshal` dumps (the rows are tuples of None, int, float and str), each preceded by
its length as 8 bytes little-endian. The sink says ("ready", None) once its database is open; then
it takes ("sql", INSERT statement) once (store/run_rows.py `INSERT_STEPS`, sent by the writer: the
store owns the SQL) and ("rows", [tuple, ...]) batches, answering each batch
with ("ok", count) or ("error", "one sentence"). EOF on stdin ends the process.
"""

from __future__ import annotations

import marshal
import sqlite3
import struct
import sys
from typing import IO, Any

LENGTH = struct.Struct("<Q")
"""Each message's length, before it: 8 bytes little-endian."""


def read_message(stream: IO[bytes]) -> Any:
    """The next message on `stream`, or None at its end."""
    head = stream.read(LENGTH.size)
    if len(head) < LENGTH.size:
        return None
    (size,) = LENGTH.unpack(head)
    body = stream.read(size)
    if len(body) < size:
        return None
    return marshal.loads(body)


def write_message(stream: IO[bytes], message: Any) -> None:
    """Send one message (and flush it)."""
    body = marshal.dumps(message)
    stream.write(LENGTH.pack(len(body)) + body)
    stream.flush()


def serve(database: str, inbox: IO[bytes], outbox: IO[bytes]) -> None:
    """Insert every batch that arrives on `inbox`, answering each on `outbox`, until EOF."""
    conn = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("PRAGMA synchronous=NORMAL")
        write_message(outbox, ("ready", None))
        insert: str | None = None
        while True:
            message = read_message(inbox)
            if message is None:
                return
            kind, payload = message
            if kind == "sql":
                insert = payload
                continue
            if kind != "rows" or insert is None:
                write_message(outbox, ("error", f"the step sink got a message it does not know ({kind!r})"))
                continue
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.executemany(insert, payload)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                write_message(outbox, ("error", f"{type(exc).__name__}: {exc}"))
            else:
                write_message(outbox, ("ok", len(payload)))
    finally:
        conn.close()


if __name__ == "__main__":
    serve(sys.argv[1], sys.stdin.buffer, sys.stdout.buffer)
