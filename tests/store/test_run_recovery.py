"""store/run_recovery.py: interrupting a run is written once; the runner guard leaves a run alone
that another runner owns now (the worker's takeover) and a run that has finished."""

from __future__ import annotations

from flowdesk.services import ExecutionService
from flowdesk.store import Database
from flowdesk.store.run_recovery import interrupt_run, session_executor
from flowdesk.store.tables import utcnow
from tests.support.store_rows import insert_execution_row


def test_only_the_named_runners_unfinished_run_is_interrupted(db_path):
    Database(db_path).close()
    theirs = insert_execution_row(db_path, "running", 4242, "worker-a")
    done = insert_execution_row(db_path, "completed", 4242, "worker-a")
    db = Database(db_path)
    try:
        with db.session() as session:
            execute = session_executor(session)
            assert not interrupt_run(execute, theirs, "gone", utcnow(), host="worker-a", pid=1)
            assert not interrupt_run(execute, theirs, "gone", utcnow(), host="worker-b", pid=4242)
            assert not interrupt_run(execute, done, "gone", utcnow(), host="worker-a", pid=4242)
            assert interrupt_run(
                execute, theirs, "Interrupted: worker-a stopped.", utcnow(), host="worker-a", pid=4242
            )
        executions = ExecutionService(db)
        run = executions.get_execution(theirs)
        assert (run.status, run.error_message) == ("interrupted", "Interrupted: worker-a stopped.")
        assert run.completed_at is not None and run.completed_at.tzinfo is not None
        assert [(log.status, log.error_type) for log in executions.get_logs(theirs)] == [
            ("cancelled", "cancelled")
        ]
        assert executions.get_execution(done).status == "completed"
    finally:
        db.close()
