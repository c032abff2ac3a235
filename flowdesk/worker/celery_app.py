"""The Celery side of `flowdesk worker`: the app, its delivery settings and the one task.

Delivery: a message is acknowledged only when its run has ended here (`task_acks_late`), so a
worker killed mid-run leaves it unacknowledged and Redis hands it to another worker once the
visibility timeout has passed; `task_reject_on_worker_lost` does the same for a lost pool child.
Each worker reserves one message per free slot (`worker_prefetch_multiplier=1`), never a backlog.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flowdesk.engine.queue import DEFAULT_VISIBILITY_TIMEOUT, TASK_NAME

from .runtime import BUSY, DATABASE_RETRY, HANDED_BACK, OWNED, UNREACHABLE, WorkerRuntime

logger = logging.getLogger(__name__)

LIMIT_RECHECK = 1.0
"""Seconds before a run held back (its workflow's max_concurrent_executions, its queue's rate limit) is tried again."""


def make_app(runtime: WorkerRuntime, *, visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT) -> Any:
    """A Celery app consuming `runtime`'s queues and running executions on it."""
    from celery import Celery
    from celery.signals import worker_shutting_down

    app = Celery("flowdesk", broker=runtime.broker, set_as_current=True)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue="default",
        task_create_missing_queues=True,
        broker_transport_options={"visibility_timeout": visibility_timeout},
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # reconnect for as long as it takes (a restarted Redis)
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        task_ignore_result=True,
        enable_utc=True,
    )
    recheck = max(1.0, visibility_timeout / 2)

    @app.task(name=TASK_NAME, bind=True, max_retries=None, acks_late=True, reject_on_worker_lost=True)
    def run_execution(self: Any, execution_id: int) -> str:
        outcome = runtime.take(int(execution_id))
        if outcome == BUSY:
            # Its workflow runs config.max_concurrent_executions already (on any worker): the
            # message goes back with a short delay, and the slot is free for other workflows.
            raise self.retry(countdown=LIMIT_RECHECK)
        if outcome == UNREACHABLE:
            # The database did not answer: the message is sent again, to be looked at once it does.
            raise self.retry(countdown=min(recheck, DATABASE_RETRY))
        if outcome == OWNED:
            # A live worker runs it (our message came back after the visibility timeout): look
            # again later, so the run is not lost if that worker dies after all. The countdown is
            # shorter than the visibility timeout, so the delayed message is not handed out twice.
            raise self.retry(countdown=recheck)
        return outcome if outcome != HANDED_BACK else "handed back to the queue"

    @worker_shutting_down.connect(weak=False, dispatch_uid=f"flowdesk-stop-{id(runtime)}")
    def _stop_taking(**_kwargs: Any) -> None:
        runtime.begin_shutdown()

    return app


RESTART_PAUSE = 1.0
"""Seconds between a Celery worker stopped by an unrecoverable error and its next start."""


def serve(runtime: WorkerRuntime, argv: list[str], *, visibility_timeout: float) -> int:
    """Run the Celery worker until it is asked to stop; return how many times it was started again.

    Celery stops its worker for good on what it counts an unrecoverable error. One such error comes
    from a broker restart while messages are unacknowledged: Celery 5.7 releases the lost
    connection after having collected its transport, and kombu's redis transport, restoring the
    unacknowledged messages, reads the collected transport's settings (AttributeError 'NoneType'
    object has no attribute 'hostname' in restore_unacked). The worker process, its engine and the
    runs it holds are fine, so a new Celery worker is started in the same process, said in one log
    line. Nothing is lost or run twice: the messages not acknowledged stay in Redis and come back
    after the visibility timeout, and a run that has ended or is held here is recognised by `take`.
    A worker that stops before it was ready (bad settings) or because it was asked to (a signal)
    is not started again.
    """
    from celery.signals import worker_ready, worker_shutdown

    state: dict[str, Any] = {}
    uid = f"flowdesk-{id(runtime)}"

    @worker_ready.connect(weak=False, dispatch_uid=f"{uid}-ready")
    def _ready(**_kwargs: Any) -> None:
        state["ready"] = True

    @worker_shutdown.connect(weak=False, dispatch_uid=f"{uid}-shutdown")
    def _ended(sender: Any = None, **_kwargs: Any) -> None:
        state["exitcode"] = getattr(sender, "exitcode", None)

    restarts = 0
    while True:
        state.clear()
        make_app(runtime, visibility_timeout=visibility_timeout).worker_main(argv)
        if runtime.stopping or not state.get("ready") or not state.get("exitcode"):
            return restarts
        restarts += 1
        logger.warning(
            "the Celery worker stopped on an unrecoverable error (see above); flowdesk worker pid %s "
            "starts it again (restart %d); its unacknowledged messages come back after the visibility "
            "timeout",
            runtime.pid,
            restarts,
        )
        time.sleep(RESTART_PAUSE)
