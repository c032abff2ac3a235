"""The `flowdesk` command: the desktop app with no arguments, subcommands for scripts and terminals.

Each subcommand is one `add_<name>(subparsers)` function that registers its arguments and sets
`run=` to one `cmd_<name>(args) -> int` function; `SUBCOMMANDS` lists the registrations. Adding a
subcommand is adding those two functions and one entry to the list.

Exit codes: 0 success, 1 the operation found problems, 2 bad usage or unreadable input.
Errors go to stderr as one plain sentence each; an unexpected error writes its traceback to a log
file (named on stderr), never to the terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import importlib
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

from flowdesk.text_width import display_width, pad_to_width

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2

PROG = "flowdesk"


class UsageError(Exception):
    """Bad usage found after parsing (for example two options that exclude each other)."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one sentence and exit code 2, without the usage dump."""

    def error(self, message: str) -> NoReturn:
        choice = re.match(r"argument (\S+): invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:
            options = re.findall(r"'([^']*)'", choice.group(3))
            close = difflib.get_close_matches(choice.group(2), options, n=1)
            hint = f"did you mean {close[0]}?" if close else f"choose from {', '.join(options)}"
            if choice.group(1) == "COMMAND":
                message = f"'{choice.group(2)}' is not a {self.prog} command ({hint})"
            else:
                message = f"{choice.group(1)} cannot be '{choice.group(2)}' ({hint})"
        sentence = message[:1].upper() + message[1:]
        self.exit(EXIT_USAGE, f"{self.prog}: {sentence.rstrip('.')}. Run '{self.prog} --help' for usage.\n")


# -- shared pieces ----------------------------------------------------------------------------------


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """`--db PATH`: the database (a path or SQLAlchemy URL); default $FLOWDESK_DB, else the user data folder."""
    # No default here: the main parser's (None) stands, so a --db given before the command is not hidden
    # by this one (argparse copies a subcommand's defaults over what was read before it).
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="database file or SQLAlchemy URL (default: $FLOWDESK_DB, else flowdesk.db in the user data folder)",
    )


def open_database(args: argparse.Namespace) -> Any:
    """The Database named by --db (or $FLOWDESK_DB, or the default), opened and upgraded."""
    from flowdesk.store import Database

    return Database(args.db)


def _stdout_write(text: str) -> None:
    stream = sys.stdout
    try:
        stream.write(text)
    except UnicodeEncodeError:  # a terminal that cannot show every character still gets the bytes
        stream.flush()
        stream.buffer.write(text.encode("utf-8"))
    stream.flush()


def say(text: str = "") -> None:
    """One line of normal output (stdout)."""
    _stdout_write(text + "\n")


def complain(text: str, stream: IO[str] | None = None) -> None:
    """One line to stderr."""
    stream = stream or sys.stderr
    try:
        stream.write(text + "\n")
    except UnicodeEncodeError:
        stream.write(text.encode("ascii", "backslashreplace").decode("ascii") + "\n")
    stream.flush()


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain aligned table, two spaces between columns."""
    widths = [display_width(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], display_width(cell))
    lines = []
    for row in [list(headers), *rows]:
        cells = [pad_to_width(cell, widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _workflow_ref(text: str) -> int | str:
    return int(text) if text.strip().isdigit() else text


# -- import -----------------------------------------------------------------------------------------


def add_name_taken_options(parser: argparse.ArgumentParser) -> None:
    """`--replace` / `--as-new`: what to do when a stored workflow with other content has the file's name."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--replace",
        action="store_true",
        help="a different workflow of that name is stored: make the file its new version",
    )
    group.add_argument(
        "--as-new",
        action="store_true",
        help="a different workflow of that name is stored: import the file as a copy ('NAME (copy)')",
    )


def open_workflow_file(
    db: Any, args: argparse.Namespace, path_or_text: str, *, name: str | None = None
) -> Any:
    """The services' OpenedFile for a file (identical content reuses the stored workflow); the
    file's warnings go to stderr. A taken name without --replace/--as-new is a UsageError naming both."""
    from flowdesk.services.transfer import NameTaken, TransferService, WorkflowNameTakenError

    choice = NameTaken.REPLACE if args.replace else NameTaken.AS_NEW if args.as_new else NameTaken.REFUSE
    try:
        opened = TransferService(db).open_file(path_or_text, name=name, if_name_taken=choice)
    except WorkflowNameTakenError as err:
        raise UsageError(
            f"{_source_name(args)} differs from the stored workflow {err.workflow_id} '{err.name}' of the "
            "same name: add --replace to store the file as its new version, or --as-new to import it "
            "as a copy."
        ) from None
    for problem in opened.problems:
        complain(_describe(problem, opened.source))
    return opened


_OPENED = {
    "reused": "is already stored as",
    "stored": "imported as",
    "replaced": "replaced the content of",
    "copied": "imported as a copy,",
}


def add_import(subparsers: Any) -> None:
    p = subparsers.add_parser("import", help="import a workflow file into the database")
    p.add_argument("file", metavar="FILE", help="a workflow file (.json)")
    p.add_argument("--name", help="store the workflow under this name instead of the file's")
    add_name_taken_options(p)
    add_db_option(p)
    p.set_defaults(run=cmd_import)


def cmd_import(args: argparse.Namespace) -> int:
    with open_database(args) as db:
        opened = open_workflow_file(db, args, args.file, name=args.name)
    graph = opened.graph
    wf = graph.workflow
    version = " (the old content is kept as a version)" if opened.outcome == "replaced" else ""
    say(
        f"{opened.source} {_OPENED[opened.outcome]} workflow {wf.id} '{wf.name}' ({len(graph.nodes)} nodes, "
        f"{len(graph.connections)} connections){version}."
    )
    return EXIT_OK


# -- export -----------------------------------------------------------------------------------------


def add_export(subparsers: Any) -> None:
    p = subparsers.add_parser("export", help="write a stored workflow as a workflow file")
    p.add_argument("workflow", metavar="WORKFLOW", help="the workflow's id or name")
    p.add_argument("-o", "--output", metavar="FILE", help="the file to write (default: standard output)")
    add_db_option(p)
    p.set_defaults(run=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from flowdesk.services.transfer import TransferService
    from flowdesk.services.workflows import WorkflowService

    with open_database(args) as db:
        workflow = WorkflowService(db).find_workflow(_workflow_ref(args.workflow))
        transfer = TransferService(db)
        assert workflow.id is not None  # read from the database
        if args.output in (None, "-"):
            _stdout_write(transfer.export_workflow(workflow.id))
            return EXIT_OK
        path = transfer.export_to_file(workflow.id, args.output)
    complain(f"Exported workflow {workflow.id} '{workflow.name}' to {path}.")
    return EXIT_OK


# -- validate ---------------------------------------------------------------------------------------


def add_validate(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "validate", help="check a workflow file and print every problem (exit 1 when there are errors)"
    )
    p.add_argument("file", metavar="FILE", help="a workflow file (.json)")
    p.add_argument("--json", action="store_true", help="print the problems as one JSON object")
    add_db_option(p)
    p.set_defaults(run=cmd_validate)


def _existing_database(args: argparse.Namespace) -> str | Path | None:
    """The database `--db` / $FLOWDESK_DB / the default names, when it already exists (else None)."""
    from flowdesk.store import default_database_path

    chosen = args.db or os.environ.get("FLOWDESK_DB")
    if chosen is None:
        return default_database_path() if default_database_path().exists() else None
    if "://" not in chosen and not Path(chosen).exists():
        return None
    return chosen


def _node_types_for_validation(args: argparse.Namespace) -> dict[str, Any] | None:
    """Custom node types come from the database, but only from one that already exists:
    validating a file must not create a database as a side effect."""
    if _existing_database(args) is None:
        return None
    from flowdesk.engine.custom_types import checked_descriptors

    with open_database(args) as db, db.session(read_only=True) as session:
        return dict(checked_descriptors(session))  # a type whose handler is missing is reported


def _carried_types_checked(args: argparse.Namespace, workflow_file: Any) -> dict[str, Any]:
    """The descriptors of the node types a file carries, each `cannot_run` where its handler cannot
    be found: in the file (its `apis` and `workflows`), in an existing database, or as Python."""
    from flowdesk.engine.custom_types import checked_registrations

    apis = [api.name for api in workflow_file.apis]
    workflows = [graph.workflow.name for graph in workflow_file.workflows]
    registrations = workflow_file.node_types
    if _existing_database(args) is None:
        return checked_registrations(registrations, carried_apis=apis, carried_workflows=workflows)
    with open_database(args) as db, db.session(read_only=True) as session:
        return checked_registrations(
            registrations, carried_apis=apis, carried_workflows=workflows, session=session
        )


def _subworkflow_problems(
    args: argparse.Namespace, graph: Any, carried: list[Any], node_types: dict[str, Any]
) -> list[Any]:
    """Missing sub-workflows and cycles of sub-workflow calls (SUBWORKFLOW nodes, and nodes of custom
    types whose handler runs a workflow): against the workflows the file carries and an existing
    database; without a database only cycles among the carried ones. `node_types` are the
    descriptors the file was checked against (the database's and the file's own)."""
    from flowdesk.domain.node_descriptors import BUILTIN_DESCRIPTORS
    from flowdesk.domain.subworkflow_calls import calls
    from flowdesk.services.subworkflows import subworkflow_problems

    custom = any(node.node_type not in BUILTIN_DESCRIPTORS for node in graph.nodes)
    if next(calls(graph), None) is None and not custom:
        return []
    handlers = {name: d.handler for name, d in node_types.items() if d.handler is not None}
    if _existing_database(args) is None:
        return subworkflow_problems(None, graph, carried, handlers)
    with open_database(args) as db:
        return subworkflow_problems(db, graph, carried, handlers)


def _problem_json(problem: Any) -> dict[str, Any]:
    from flowdesk.domain.problem_report import cut_long_values

    found = problem.model_dump(mode="json", exclude_none=True)
    found["message"] = cut_long_values(found["message"])
    return found


def cmd_validate(args: argparse.Namespace) -> int:
    from flowdesk.domain.enums import Severity
    from flowdesk.domain.errors import FileFormatError
    from flowdesk.domain.problem_report import capped, report_lines
    from flowdesk.interchange.workflow_file import read_workflow_file
    from flowdesk.services.transfer import read_input

    data, source = read_input(args.file)
    graph = None
    try:
        known = _node_types_for_validation(args)
        workflow_file = read_workflow_file(data, source=source, node_types=known)
        types = dict(known or {})
        if workflow_file.node_types:  # the carried types' handlers checked too: read again with them
            types.update(_carried_types_checked(args, workflow_file))
            workflow_file = read_workflow_file(data, source=source, node_types=types)
        problems = workflow_file.problems
        graph = workflow_file.graph
        problems = [*problems, *_subworkflow_problems(args, graph, workflow_file.workflows, types)]
    except FileFormatError as err:
        problems = err.problems
    errors = sum(1 for p in problems if p.severity == Severity.ERROR)
    warnings = len(problems) - errors
    if args.json:
        say(
            json.dumps(
                {
                    "file": str(args.file),
                    "valid": errors == 0,
                    "errors": errors,
                    "warnings": warnings,
                    "problems": [_problem_json(p) for p in capped(problems)[0]],
                    "more_problems": capped(problems)[1],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        for line in report_lines(problems, lambda p: _describe(p, source)):
            say(line)
        if errors:
            say(f"{source}: {_count(errors, 'error')}, {_count(warnings, 'warning')}; it cannot be imported.")
        else:
            assert graph is not None
            summary = f"{len(graph.nodes)} nodes, {len(graph.connections)} connections"
            verdict = "no problems" if not warnings else _count(warnings, "warning")
            say(f"{source}: {verdict} ({summary}).")
    return EXIT_PROBLEMS if errors else EXIT_OK


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _describe(problem: Any, source: str) -> str:
    from flowdesk.interchange.workflow_file import describe_problem

    return describe_problem(problem, source)


# -- list -------------------------------------------------------------------------------------------


def add_list(subparsers: Any) -> None:
    p = subparsers.add_parser("list", help="list the stored workflows")
    p.add_argument("--tag", help="only workflows with this tag")
    p.add_argument("--search", help="only workflows whose name or description contains this text")
    p.add_argument("--status", choices=("draft", "active"), help="only draft or only active workflows")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    add_db_option(p)
    p.set_defaults(run=cmd_list)


def cmd_list(args: argparse.Namespace) -> int:
    from flowdesk.services.workflows import WorkflowService

    with open_database(args) as db:
        workflows = WorkflowService(db).list_workflows(tag=args.tag, search=args.search, status=args.status)
    if args.json:
        rows = [
            {"id": w.id, "name": w.name, "version": w.version, "status": w.status, "tags": list(w.tags)}
            for w in workflows
        ]
        say(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    if not workflows:
        complain("No workflows stored yet (import one with 'flowdesk import FILE').")
        return EXIT_OK
    say(
        format_table(
            ("ID", "NAME", "VERSION", "STATUS", "TAGS"),
            [(str(w.id), w.name, w.version, w.status, ", ".join(w.tags)) for w in workflows],
        )
    )
    return EXIT_OK


# -- run / resume -----------------------------------------------------------------------------------


def add_run(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "run", help="run a workflow file or a stored workflow (exit 1 unless it completes)"
    )
    p.add_argument(
        "target", metavar="FILE|WORKFLOW", help="a workflow file, or a stored workflow's id or name"
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument("--input", metavar="JSON", help="the input data as JSON text")
    source.add_argument("--input-file", metavar="PATH", help="a file holding the input data as JSON")
    add_name_taken_options(p)
    p.add_argument("--timeout", metavar="S", type=float, help="stop the run after S seconds (timed_out)")
    p.add_argument(
        "--env",
        metavar="NAME",
        help="the environment whose variables are {{env.*}} (default: the active one)",
    )
    p.add_argument(
        "--json", action="store_true", help="print exactly one JSON object with the execution and its steps"
    )
    p.add_argument(
        "--queue", nargs="?", const="default", default=None, metavar="NAME",
        help="hand the run to the workers on this queue (default queue: default) and print its id",
    )  # fmt: skip
    p.add_argument(
        "--wait", action="store_true", help="with --queue: follow the run to its end, as a local run"
    )
    p.add_argument(
        "--no-record",
        action="store_true",
        help="run without recording it: no execution row and no step rows (the report is the same)",
    )
    p.add_argument(
        "--junit",
        metavar="FILE",
        help="write the run's ASSERT results to FILE as JUnit XML (a local run; for CI systems)",
    )
    from flowdesk.cli_worker import add_broker_option

    add_broker_option(p)  # with --queue
    add_db_option(p)
    p.set_defaults(run=cmd_run)


def add_resume(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "resume", help="resume an interrupted execution, reusing the steps that succeeded"
    )
    p.add_argument("execution", metavar="EXECUTION_ID", type=int, help="the execution's id")
    p.add_argument(
        "--json", action="store_true", help="print exactly one JSON object with the execution and its steps"
    )
    add_db_option(p)
    p.set_defaults(run=cmd_resume)


def _run_input(args: argparse.Namespace) -> Any:
    """The --input / --input-file data (None when neither is given); UsageError when it is not JSON."""
    from flowdesk.engine.input_limit import check_input_size, max_input_bytes

    limit = max_input_bytes()
    if args.input is not None:
        text, where = args.input, "--input"
        check_input_size(len(text.encode("utf-8", "surrogatepass")), limit, "the --input value")
    elif args.input_file is not None:
        try:
            check_input_size(Path(args.input_file).stat().st_size, limit, f"the input file {args.input_file}")
            text = Path(args.input_file).read_text(encoding="utf-8")
        except OSError as err:
            raise UsageError(f"cannot read the input file {args.input_file}: {err.strerror or err}") from None
        where = args.input_file
    else:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise UsageError(
            f"{where} is not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}"
        ) from None


def _step_printer(args: argparse.Namespace) -> Callable[[Any], None] | None:
    """Without --json: one line per finished step (status, time, step name, error)."""
    if args.json:
        return None

    def show(event: Any) -> None:
        if event.kind == "node_finished":
            error = f"  {_first_line(event.error)}" if event.error else ""
            say(f"{event.status:<9} {event.duration * 1000:8.1f} ms  {event.step_name}{error}")
            for warning in event.warnings:
                say(f"{'warning':<9} {'':>11}  {event.step_name}: {warning}")

    return show


def _print_report(args: argparse.Namespace, report: Any) -> int:
    from flowdesk.engine.junit import assertion_counts

    if args.json:
        say(json.dumps(report.as_json(), ensure_ascii=False, default=str))
    else:
        warned = f" with {_count(report.warning_count, 'warning')}" if report.warning_count else ""
        run = (
            f"Execution {report.execution_id}"
            if report.execution_id is not None
            else "An unrecorded run"  # --no-record
        )
        say(f"{run} of workflow {report.workflow_id}: {report.status}{warned}.")
        if report.error_message:
            say(f"Error: {report.error_message}")
        checks = assertion_counts(report.steps)
        if checks is not None:
            say(f"Assertions: {checks[0]} passed, {checks[1]} failed.")
        if report.output_data is not None:  # a failed run has none: no stray `null` after its message
            say(json.dumps(report.output_data, ensure_ascii=False, indent=2, default=str))
    return EXIT_OK if report.status == "completed" else EXIT_PROBLEMS


def _invalid_workflow(err: Any, source: str) -> int:
    for problem in err.problems:
        complain(_describe(problem, source))
    complain(f"{PROG}: {err}")
    return EXIT_USAGE


# What `run` imports, loaded up front with the cyclic collector paused (import_modules).
RUN_MODULES = (
    "flowdesk.store",
    "flowdesk.services.workflows",
    "flowdesk.services.transfer",
    "flowdesk.services.environments",
    "flowdesk.engine.executor",
    "flowdesk.engine.headless",
)


def import_modules(modules: Sequence[str]) -> None:
    """Import `modules` with the cyclic garbage collector paused.

    Importing SQLAlchemy, pydantic and our models makes a few hundred thousand objects that all stay
    alive; the collector would walk them again and again as they pile up (about a tenth of the
    import time, see flowdesk/gc_control.py). It runs as usual once they are loaded. In the
    command's own process (`entry`) what exists then is frozen out of the collector's reach too, so
    no later collection walks it again; `main()` called inside another program never freezes.
    """
    from flowdesk.gc_control import gc_paused

    with gc_paused(keep=_own_process):
        for module in modules:
            importlib.import_module(module)


def cmd_run(args: argparse.Namespace) -> int:
    import_modules(RUN_MODULES)
    from flowdesk.domain.errors import FileFormatError
    from flowdesk.engine.errors import WorkflowInvalidError
    from flowdesk.engine.headless import run_workflow
    from flowdesk.services.workflows import WorkflowService

    input_data = _run_input(args)
    target = Path(args.target)
    # A folder is a path too: reading it says "it is a folder", as `validate` does.
    is_file = (
        args.target.lstrip().startswith("{")
        or target.is_file()
        or target.is_dir()
        or args.target.lower().endswith(".json")
    )
    with open_database(args) as db:
        if is_file:
            try:
                graph = open_workflow_file(db, args, args.target).graph
            except FileFormatError as err:
                for problem in err.problems:
                    complain(_describe(problem, _source_name(args)))
                # The problems are listed above; the summary does not repeat them.
                errors = sum(1 for p in err.problems if p.severity == "error") or 1
                complain(f"{PROG}: {_source_name(args)} cannot run: it has {_count(errors, 'error')}.")
                return EXIT_USAGE
            workflow_id, suite = graph.workflow.id, graph.workflow.name
        else:
            found = WorkflowService(db).find_workflow(_workflow_ref(args.target))
            workflow_id, suite = found.id, found.name
        if args.queue is not None:
            if args.junit:
                raise UsageError("--junit writes the results of a local run: leave out --queue")
            if args.no_record:
                raise UsageError("--no-record runs locally: a run handed to the workers is recorded")
            return _submit(args, db, workflow_id, input_data)
        if args.wait:
            raise UsageError("--wait follows a queued run: give --queue too")
        try:
            report = run_workflow(
                db,
                workflow_id,
                input_data,
                timeout=args.timeout,
                listener=_step_printer(args),
                environment=args.env,
                record=not args.no_record,
            )
        except WorkflowInvalidError as err:
            return _invalid_workflow(err, _source_name(args))
    code = _print_report(args, report)
    if args.junit and not _write_junit(args.junit, report, suite):
        return EXIT_USAGE
    return code


def _write_junit(path: str, report: Any, suite: str) -> bool:
    """Write the JUnit XML of `report` to `path` whole or not at all; False (and one sentence) when
    the file cannot be written."""
    from flowdesk.engine.junit import junit_xml

    text = junit_xml(report.steps, suite=suite, status=str(report.status), error_message=report.error_message)
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        complain(f"{PROG}: cannot write the JUnit file {path}: {exc.strerror or exc}.")
        return False
    return True


def _submit(args: argparse.Namespace, db: Any, workflow_id: int, input_data: Any) -> int:
    """`run --queue`: print the queued execution's id; with --wait, its steps and end as `run` does."""
    from flowdesk.engine.errors import WorkflowInvalidError
    from flowdesk.engine.headless import submit_workflow

    def queued(execution_id: int) -> None:
        if not args.json:
            say(f"Execution {execution_id} queued on '{args.queue}'.")
            sys.stdout.flush()

    try:
        execution_id, report = submit_workflow(
            db,
            workflow_id,
            input_data,
            queue=args.queue,
            broker=args.broker,
            timeout=args.timeout,
            environment=args.env,
            on_queued=queued,
            wait=args.wait,
        )
    except WorkflowInvalidError as err:
        return _invalid_workflow(err, _source_name(args))
    if report is None:
        if args.json:
            say(json.dumps({"execution_id": execution_id, "status": "pending", "queue": args.queue}))
        return EXIT_OK
    show = _step_printer(args)
    if show is not None:
        from flowdesk.engine.events import NodeFinished

        for step in report.steps:  # the lines a local run prints as its steps finish
            if step["status"] in ("pending", "running"):
                continue
            show(
                NodeFinished(
                    execution_id,
                    0.0,
                    status=step["status"],
                    duration=step["execution_time"] or 0.0,
                    step_name=step["step_name"],
                    error=step["error_message"],
                    warnings=tuple(step.get("warnings") or ()),
                )
            )
    return _print_report(args, report)


def cmd_resume(args: argparse.Namespace) -> int:
    from flowdesk.engine.errors import WorkflowInvalidError
    from flowdesk.engine.headless import resume_execution

    with open_database(args) as db:
        try:
            report = resume_execution(db, args.execution, listener=_step_printer(args))
        except WorkflowInvalidError as err:
            return _invalid_workflow(err, f"execution {args.execution}")
    return _print_report(args, report)


# -- demo-server ------------------------------------------------------------------------------------


def add_demo_server(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "demo-server", help="serve the demo API the example workflows call (until Ctrl+C)"
    )
    p.add_argument(
        "--port", type=int, default=None, metavar="PORT", help="the port (default: 8765; 0: a free one)"
    )
    p.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)")
    p.set_defaults(run=cmd_demo_server)


def cmd_demo_server(args: argparse.Namespace) -> int:
    import asyncio
    import signal

    from flowdesk.demo import DEFAULT_PORT
    from flowdesk.demo.app import DemoApp
    from flowdesk.demo.server import serve

    port = DEFAULT_PORT if args.port is None else args.port
    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {port}")

    def ready(url: str) -> None:
        say(f"Demo server listening on {url} (Ctrl+C stops it).")
        say(f"Run an example: {PROG} run resources/examples/loop.json")

    async def serve_until_stopped() -> None:
        # Ctrl+C and SIGTERM set an event through the loop's own signal handling (a wake-up fd), so
        # the server stops the same way whatever the loop was doing; Windows has no such handlers
        # and stops on KeyboardInterrupt below.
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):
                pass
        await serve(DemoApp(), args.host, port, ready=ready, until=stop)

    try:
        asyncio.run(serve_until_stopped())
        complain("Demo server stopped.")
    except OSError as err:
        raise UsageError(f"cannot listen on {args.host}:{port}: {err.strerror or err}") from None
    except KeyboardInterrupt:  # Ctrl+C is how it is meant to stop
        complain("Demo server stopped.")
    return EXIT_OK


# -- new --------------------------------------------------------------------------------------------


def add_new(subparsers: Any) -> None:
    p = subparsers.add_parser("new", help="write a new workflow file from a template (docs/templates.md)")
    p.add_argument("--template", metavar="NAME", nargs="?", help="the template (without NAME: list them)")
    p.add_argument("file", metavar="FILE", nargs="?", help="the file to write (default: NAME.json here)")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.set_defaults(run=cmd_new)


def cmd_new(args: argparse.Namespace) -> int:
    import tempfile

    from flowdesk.interchange.templates import load_templates

    library = load_templates()
    for problem in library.problems:
        complain(f"warning: {problem}")
    template = library.get(args.template) if args.template else None
    if template is None:
        if not args.template:
            say(f"{library.names_sentence()} Write one with: {PROG} new --template NAME [FILE]")
            return EXIT_OK
        close = difflib.get_close_matches(args.template, library.names, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise UsageError(f"'{args.template}' is not a template{hint}. {library.names_sentence()}")
    target = Path(args.file or f"{Path(template.name).name}.json")
    if target.is_dir():
        raise UsageError(f"{target} is a folder: name the file to write")
    if target.exists() and not args.force:
        raise UsageError(f"{target} exists already: add --force to overwrite it")
    try:  # written next to the target, then renamed over it: never a half-written file
        fd, tmp = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", prefix=".flowdesk-new-")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(template.text)
        os.replace(tmp, target)
    except OSError as err:
        raise UsageError(f"cannot write {target}: {err.strerror or err}") from None
    inputs = ", ".join(f.name for f in template.inputs) or "none"
    say(f"Wrote {target} from the template '{template.name}' ({template.title}); its inputs: {inputs}.")
    say(f"Run it: {PROG} run {target}   (the demo API it calls: {PROG} demo-server)")
    return EXIT_OK


# -- the program ------------------------------------------------------------------------------------


def _api_library_subcommands() -> list[Callable[[Any], None]]:
    from flowdesk.cli_api import add_api, add_env, add_secret

    return [add_api, add_env, add_secret]


def _alert_subcommands() -> list[Callable[[Any], None]]:
    from flowdesk.cli_alert import add_alert

    return [add_alert]


def _cache_subcommands() -> list[Callable[[Any], None]]:
    from flowdesk.cli_cache import add_cache

    return [add_cache]


def _worker_subcommands() -> list[Callable[[Any], None]]:
    from flowdesk.cli_worker import add_cancel, add_worker, add_workers

    return [add_worker, add_workers, add_cancel]


def _node_type_subcommands() -> list[Callable[[Any], None]]:
    from flowdesk.cli_node_types import add_node_type

    return [add_node_type]


def _server_subcommands() -> list[Callable[[Any], None]]:
    from flowdesk.cli_server import add_audit, add_serve, add_token, add_user

    return [add_serve, add_user, add_token, add_audit]


SUBCOMMANDS: list[Callable[[Any], None]] = [
    add_import,
    add_export,
    add_validate,
    add_list,
    add_run,
    add_resume,
    add_demo_server,
    add_new,
    *_api_library_subcommands(),
    *_node_type_subcommands(),
    *_server_subcommands(),
    *_worker_subcommands(),
    *_alert_subcommands(),
    *_cache_subcommands(),
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    from flowdesk import __version__

    parser = _Parser(
        prog=PROG,
        description="Design, run, debug and monitor workflows of API calls. "
        "Without a subcommand, flowdesk opens the desktop app (optionally with FILE.json).",
    )
    parser.add_argument("--version", action="version", version=f"flowdesk {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens to stderr")
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=None,
        help="database file or SQLAlchemy URL, for every command (also accepted after the command)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for register in SUBCOMMANDS:
        register(subparsers)
    return parser


def _subcommand_names(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def _wants_app(argv: Sequence[str], commands: set[str]) -> bool:
    """No arguments, a file to open, or only app options (such as --db): the desktop app."""
    if not argv:
        return True
    rest = _after_global_options(argv)
    if not rest:
        return not any(a in ("-v", "--verbose") for a in argv)  # `flowdesk --db x.db` opens the app
    argv = rest
    first = argv[0]
    if first in commands or first in ("-h", "--help", "--version", "-v", "--verbose"):
        return False
    if first.startswith("-"):
        return first == "--db" or first.startswith("--db=")
    return first.lower().endswith(".json") or Path(first).is_file()


def _after_global_options(argv: Sequence[str]) -> list[str]:
    """`argv` without the options that may come before a command (`--db PATH`, `--db=PATH`, `-v`)."""
    rest = list(argv)
    while rest:
        if rest[0] == "--db" and len(rest) > 1:
            rest = rest[2:]
        elif rest[0].startswith("--db=") or rest[0] in ("-v", "--verbose"):
            rest = rest[1:]
        else:
            break
    return rest


# What the app uses from the layers below ui/, imported before Qt: once PySide6 is loaded, an import
# hook of its own reads the source of every module imported after it (looking for "PySide6"),
# which cost some 10-15 % of the window's start-up. Only an import order; nothing here is required.
APP_LOWER_LAYERS = (
    "flowdesk.services.workflows",
    "flowdesk.services.executions",
    "flowdesk.services.versions",
    "flowdesk.services.node_types",
    "flowdesk.services.apis",
    "flowdesk.services.api_library",
    "flowdesk.services.environments",
    "flowdesk.services.monitoring",
    "flowdesk.services.secrets",
    "flowdesk.services.transfer",
    "flowdesk.engine.executor",
    "flowdesk.interchange.api_export",
    "flowdesk.interchange.workflow_file",
    "flowdesk.domain.validation",
)


def open_app(argv: Sequence[str]) -> int:
    """Start the desktop app (imported only now: the subcommands never load Qt)."""
    from flowdesk.display_check import display_problem

    problem = display_problem()  # before Qt, whose answer is an abort (exit 134)
    if problem is not None:
        complain(f"{PROG}: {problem[:1].upper()}{problem[1:]}")
        return EXIT_USAGE
    global _app_opened
    _app_opened = True
    try:
        import_modules((*APP_LOWER_LAYERS, "flowdesk.ui.app"))
        from flowdesk.ui.app import main as app_main
    except ImportError as err:
        complain(f"{PROG}: the desktop app cannot start: {err}.")
        return EXIT_USAGE
    return int(app_main(list(argv)) or 0)


def _exit_code_for(err: Exception) -> int:
    from flowdesk.domain.errors import (
        DatabaseTooNewError,
        DatabaseUnavailableError,
        FileFormatError,
        InvalidInputError,
        NotFoundError,
    )

    if isinstance(err, FileFormatError):
        return EXIT_PROBLEMS
    if isinstance(err, (InvalidInputError, NotFoundError, DatabaseTooNewError, DatabaseUnavailableError)):
        return EXIT_USAGE
    return EXIT_PROBLEMS


def command_outline(argv: Sequence[str], commands: set[str]) -> str:
    """The command line as the log may keep it: the command and the names of the options given, never
    a value (`--input` can hold secrets): `flowdesk run --input --json`."""
    words = [PROG]
    named = False
    for word in argv:
        if word.startswith("-") and len(word) > 1:
            words.append(word.split("=", 1)[0])
        elif not named and word in commands:
            words.append(word)
            named = True
    return " ".join(words)


def _log_unexpected(err: BaseException, argv: Sequence[str]) -> Path | None:
    """Write the traceback to the log file; its path, or None when even that fails."""
    try:
        import platformdirs

        folder = Path(platformdirs.user_log_dir("flowdesk", appauthor=False))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "flowdesk.log"
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        try:
            log.error(
                "unexpected error in %s",
                command_outline(argv, _subcommand_names(build_parser())),
                exc_info=err,
            )
        finally:
            log.removeHandler(handler)
            handler.close()
        return path
    except Exception:  # noqa: BLE001 - the report on stderr must still happen
        return None


_own_process = False
"""True once `entry()` runs: this process is the `flowdesk` command and ends with it."""
_app_opened = False
"""True once `open_app` started the desktop app, which ends the usual way (Qt tears down its objects)."""


def entry() -> NoReturn:
    """The `flowdesk` program (the console script and `python -m flowdesk`): `main()` in a process of
    its own, which then ends at once.

    A subcommand's process has nothing left to do once its output is written; tearing down every
    module and object it loaded (SQLAlchemy, pydantic, the engine) took about 0.1 s of CPU after a
    START→END run. So, once standard output and standard error are flushed and the `atexit`
    callbacks (logging's flush among them) have run, it leaves with `os._exit` and the same exit
    code. It ends the usual way when the desktop app ran, when a thread that Python would wait for
    is still running, or when flushing the output fails (a closed pipe reports as it always did).
    """
    global _own_process
    _own_process = True
    code = main()
    if not _app_opened and _only_daemon_threads_left():
        _leave_now(code)
    raise SystemExit(code)


def _only_daemon_threads_left() -> bool:
    import threading

    main_thread = threading.main_thread()
    return all(thread.daemon for thread in threading.enumerate() if thread is not main_thread)


def _leave_now(code: int) -> None:
    """Flush the output, run the atexit callbacks and end the process with `code`; returns (having
    done nothing) when the output cannot be flushed, so the usual exit reports it."""
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):  # a closed pipe or stream: the interpreter's exit says so, as before
        return
    from flowdesk.library_internals import run_exit_callbacks

    run_exit_callbacks()
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()  # what a callback wrote
    except (OSError, ValueError):
        pass
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `flowdesk` command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if _wants_app(argv, _subcommand_names(parser)):
        return open_app(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse: --help, --version (0) or a usage error (2)
        return int(exit_.code or 0)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from flowdesk.domain.errors import FileFormatError, FlowdeskError

    try:
        return int(args.run(args))
    except FileFormatError as err:
        from flowdesk.domain.problem_report import report_lines

        for line in report_lines(err.problems, lambda p: _describe(p, _source_name(args))):
            complain(line)
        errors = sum(1 for p in err.problems if p.severity == "error")
        complain(f"{PROG}: {_source_name(args)} has {_count(errors, 'error')}; nothing was changed.")
        return _exit_code_for(err)
    except FlowdeskError as err:
        complain(f"{PROG}: {err}")
        return _exit_code_for(err)
    except UsageError as err:
        complain(f"{PROG}: {err}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        complain(f"{PROG}: interrupted.")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as err:  # noqa: BLE001 - one sentence on stderr, the traceback in the log
        where = _log_unexpected(err, argv)
        detail = f"; the details are in {where}" if where else ""
        database_error = _database_error_text(err)
        if database_error is not None:
            complain(f"{PROG}: the database cannot be used: {database_error}{detail}.")
            return EXIT_USAGE
        complain(f"{PROG}: unexpected error ({type(err).__name__}: {_first_line(str(err))}){detail}.")
        return EXIT_PROBLEMS


def _first_line(text: str, limit: int = 300) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _database_error_text(err: Exception) -> str | None:
    """The driver's own sentence when `err` is a database error (corrupt file, locked, unreachable)."""
    exc_module = sys.modules.get("sqlalchemy.exc")
    if exc_module is None or not isinstance(err, exc_module.DBAPIError):
        return None
    return _first_line(str(err.orig) if err.orig is not None else str(err))


def _source_name(args: argparse.Namespace) -> str:
    """The name problems of the command's input file are reported under (`run` calls it `target`)."""
    file = getattr(args, "file", None) or getattr(args, "target", None)
    return Path(file).name if isinstance(file, str) and not file.lstrip().startswith("{") else "<input>"


if __name__ == "__main__":
    raise SystemExit(main())
