"""Distributed-execution subcommands: `flowdesk worker` and `flowdesk cancel` (docs/scale-out.md).

Registered from flowdesk/cli.py's SUBCOMMANDS; `flowdesk run --queue` lives with `run` in cli.py.
"""

from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys
from typing import Any

from flowdesk.cli_actions import cli_module
from flowdesk.domain.errors import InvalidInputError


def add_broker_option(parser: argparse.ArgumentParser) -> None:
    """`--broker URL`: the Celery broker (Redis); default $FLOWDESK_BROKER."""
    parser.add_argument(
        "--broker",
        metavar="URL",
        default=None,
        help="the broker, e.g. redis://127.0.0.1:6379/0 (default: $FLOWDESK_BROKER)",
    )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def add_worker(subparsers: Any) -> None:
    """`flowdesk worker`: a Celery worker running queued executions."""
    from flowdesk.engine.queue import DEFAULT_VISIBILITY_TIMEOUT

    cli = cli_module()
    p = subparsers.add_parser("worker", help="run queued executions (a Celery worker; see docs/scale-out.md)")
    add_broker_option(p)
    p.add_argument(
        "--concurrency",
        type=_positive,
        default=50,
        metavar="N",
        help="executions at once per process (default 50)",
    )
    p.add_argument(
        "--queues", default="default", metavar="A,B", help="the queues to take runs from (default: default)"
    )
    p.add_argument(
        "--processes", type=_positive, default=1, metavar="N", help="worker processes to start (default 1)"
    )
    p.add_argument(
        "--grace", type=float, default=30.0, metavar="S",
        help="on SIGTERM, seconds the running executions get to end before they are handed back (default 30)",
    )  # fmt: skip
    p.add_argument(
        "--visibility-timeout", type=float, default=DEFAULT_VISIBILITY_TIMEOUT, metavar="S",
        help="seconds before a dead worker's message goes to another worker (default 300)",
    )  # fmt: skip
    p.add_argument(
        "--heartbeat", type=float, default=2.0, metavar="S", help="seconds between liveness beats (default 2)"
    )
    p.add_argument(
        "--rate-limit", action="append", default=[], metavar="QUEUE=N[/S]",
        help="start at most N runs of QUEUE per S seconds (default 1) across all workers; repeatable",
    )  # fmt: skip
    p.add_argument("--loglevel", default="WARNING", help="Celery's log level (default WARNING)")
    cli.add_db_option(p)
    p.set_defaults(run=cmd_worker)


def _queues(text: str) -> list[str]:
    from flowdesk.engine.queue import queue_name

    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise InvalidInputError("--queues names no queue; give one or more names separated by commas.")
    return [queue_name(name) for name in names]


def _rate_limits(specs: list[str]) -> dict[str, tuple[int, float]]:
    from flowdesk.engine.queue import queue_name

    limits: dict[str, tuple[int, float]] = {}
    for spec in specs:
        name, _, rate = spec.partition("=")
        runs, _, per = rate.partition("/")
        try:
            count, seconds = int(runs), float(per or 1)
        except ValueError:
            count, seconds = 0, 0.0
        if not name or count < 1 or seconds <= 0:
            raise InvalidInputError(
                f"--rate-limit {spec!r} is not QUEUE=N or QUEUE=N/S (N runs per S seconds)."
            )
        limits[queue_name(name)] = (count, seconds)
    return limits


def cmd_worker(args: argparse.Namespace) -> int:
    from flowdesk.engine.queue import broker_url

    broker = broker_url(args.broker)
    queues = _queues(args.queues)
    _rate_limits(args.rate_limit)  # refused here, with one sentence, not in the worker
    if args.grace < 0 or args.visibility_timeout <= 0 or args.heartbeat <= 0:
        raise InvalidInputError(
            "--grace must be 0 or more, --visibility-timeout and --heartbeat more than 0."
        )
    if args.processes > 1:
        return _run_processes(args)
    return _run_one(args, broker, queues)


def _run_processes(args: argparse.Namespace) -> int:
    """--processes N: N worker processes of one process each; SIGTERM/SIGINT reach every one."""
    argv = [a for a in sys.argv[1:]]
    children = []
    for _ in range(args.processes):
        child_argv = _child_argv(argv)
        children.append(subprocess.Popen([sys.executable, "-m", "flowdesk", *child_argv]))

    def forward(signum: int, _frame: Any) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    codes = [child.wait() for child in children]
    return max(codes) if codes else 0


def _child_argv(argv: list[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--processes":
            skip = True
            continue
        if arg.startswith("--processes="):
            continue
        out.append(arg)
    return [*out, "--processes", "1"]


def _run_one(args: argparse.Namespace, broker: str, queues: list[str]) -> int:
    from flowdesk.engine.queue import shown_broker
    from flowdesk.worker.celery_app import serve
    from flowdesk.worker.runtime import WorkerRuntime

    cli = cli_module()
    level = logging.getLevelName(args.loglevel.upper())
    if not isinstance(level, int):
        raise InvalidInputError(
            f"--loglevel {args.loglevel!r} is not DEBUG, INFO, WARNING, ERROR or CRITICAL."
        )
    if not logging.getLogger().handlers:
        # The worker's own lines (a database it waits for) before Celery starts; Celery keeps
        # this handler and sets its level from --loglevel.
        logging.basicConfig(level=level, format="[%(asctime)s: %(levelname)s] %(name)s: %(message)s")
    runtime = WorkerRuntime(
        args.db,
        broker,
        queues=queues,
        concurrency=args.concurrency,
        heartbeat=args.heartbeat,
        grace=args.grace,
        rate_limits=_rate_limits(args.rate_limit),
    )
    try:
        runtime.start()
    except Exception as exc:
        cli.complain(f"{cli.PROG}: the worker cannot start: {exc}")
        return cli.EXIT_USAGE
    cli.say(
        f"flowdesk worker {runtime.host} pid {runtime.pid}: {args.concurrency} execution(s) at once "
        f"from queue(s) {', '.join(queues)} of {shown_broker(broker)}"
    )
    sys.stdout.flush()
    argv = [
        "worker",
        "--pool=threads",
        f"--concurrency={args.concurrency}",
        f"--queues={','.join(queues)}",
        f"--hostname=flowdesk-{runtime.pid}@{runtime.host}",
        f"--loglevel={args.loglevel}",
        "--without-gossip",
        "--without-mingle",
    ]
    try:
        serve(runtime, argv, visibility_timeout=args.visibility_timeout)
    finally:
        runtime.close()
    return cli.EXIT_OK


def add_cancel(subparsers: Any) -> None:
    """`flowdesk cancel ID`: cancel a run, queued or running on a worker."""
    cli = cli_module()
    p = subparsers.add_parser("cancel", help="cancel an execution that is queued or running on a worker")
    p.add_argument("execution", metavar="EXECUTION_ID", type=int, help="the execution's id")
    add_broker_option(p)
    cli.add_db_option(p)
    p.set_defaults(run=cmd_cancel)


def cmd_cancel(args: argparse.Namespace) -> int:
    import asyncio

    from flowdesk.engine.queue import cancel_queued

    cli = cli_module()
    with cli.open_database(args) as db:
        cli.say(asyncio.run(cancel_queued(db, args.broker, args.execution)))
    return cli.EXIT_OK


def add_workers(subparsers: Any) -> None:
    """`flowdesk workers`: the live workers, what each runs, and the queue lengths."""
    p = subparsers.add_parser("workers", help="list the live workers, what they run, and queue lengths")
    add_broker_option(p)
    p.add_argument("--queues", default="", metavar="A,B", help="also show these queues' lengths")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    cli_module().add_db_option(p)
    p.set_defaults(run=cmd_workers)


def cmd_workers(args: argparse.Namespace) -> int:
    import json

    from flowdesk.engine.queue import broker_url, workers_status

    cli = cli_module()
    extra = _queues(args.queues) if args.queues.strip() else []
    status = workers_status(broker_url(args.broker), extra)
    with cli.open_database(args) as db:  # what the database holds as queued, per queue
        from flowdesk.services.executions import ExecutionService

        pending: dict[str, int] = {}
        for execution in ExecutionService(db).list_executions(status="pending", limit=100_000):
            name = str((execution.config or {}).get("queue") or "")
            if name:
                pending[name] = pending.get(name, 0) + 1
    status["pending_executions"] = pending
    if args.json:
        cli.say(json.dumps(status))
        return cli.EXIT_OK
    cli.say(f"{len(status['workers'])} worker(s) alive")
    for w in status["workers"]:
        running = ", ".join(str(i) for i in w.get("running") or []) or "nothing"
        state = " (stopping)" if w.get("stopping") else ""
        cli.say(
            f"  {w['host']} pid {w['pid']}{state}: queues {', '.join(w.get('queues') or [])}, "
            f"{len(w.get('running') or [])}/{w.get('concurrency')} running: {running}"
        )
    for name, length in status["queues"].items():
        cli.say(f"queue {name}: {length} message(s) waiting, {pending.get(name, 0)} pending execution(s)")
    return cli.EXIT_OK
