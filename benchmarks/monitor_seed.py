"""Realistic execution history for the monitor's benchmark, demo and screenshot.

`seed_history(conn, workflows, executions=..., now=...)` bulk-inserts executions and exactly ten step
logs per execution (one `executemany` per table, inside the caller's transaction) into an open
DB-API connection of a flowdesk database whose workflows and nodes already exist. Each workflow
follows the same shape: START -> API fetch -> CONDITION -> PARALLEL with two API branches -> LOOP
over an API call (two iterations) -> END, with statuses, durations, errors of every type and custom
metrics drawn from a seeded random generator, so a run is reproducible.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

#: (node name suffix, node type, median seconds) in run order; the loop body runs twice.
NODE_PLAN: tuple[tuple[str, str, float], ...] = (
    ("start", "START", 0.002),
    ("fetch", "API_CALL", 0.35),
    ("check", "CONDITION", 0.004),
    ("fan_out", "PARALLEL", 0.002),
    ("enrich_customer", "API_CALL", 0.6),
    ("enrich_stock", "API_CALL", 1.1),
    ("for_each", "LOOP", 0.002),
    ("push", "API_CALL", 0.25),
    ("end", "END", 0.002),
)
LOOP_ITERATIONS = 2
STEPS_PER_EXECUTION = len(NODE_PLAN) - 1 + LOOP_ITERATIONS  # 10

_HTTP = {
    "http_4xx": ((404, "Not Found"), (401, "Unauthorized"), (429, "Too Many Requests")),
    "http_5xx": ((500, "Internal Server Error"), (502, "Bad Gateway"), (503, "Service Unavailable")),
}
_ERROR_WEIGHTS = (("timeout", 25), ("connection", 15), ("http_4xx", 25), ("http_5xx", 25), ("other", 10))


@dataclass(frozen=True)
class SeedWorkflow:
    """A stored workflow to seed: its id, a name prefix for its nodes, node ids by node name, weight."""

    workflow_id: int
    prefix: str
    node_ids: dict[str, int]
    weight: float = 1.0
    speed: float = 1.0  # multiplies every median duration


def node_names(prefix: str) -> list[tuple[str, str]]:
    """(name, node type) of the nodes a seeded workflow needs, in run order."""
    return [
        (f"{prefix}_{suffix}" if suffix not in ("start", "end") else suffix, t) for suffix, t, _ in NODE_PLAN
    ]


def _ts(value: datetime) -> str:
    return value.isoformat(sep=" ", timespec="microseconds")


def _error_message(kind: str, node: str, rng: random.Random) -> tuple[str, str]:
    """(error_type column value, message) for a failed API step."""
    if kind == "timeout":
        return "timeout", f"Node '{node}': request timed out after 10.0 s"
    if kind == "connection":
        return "connection", f"Node '{node}': connection refused by api.example.test:443"
    if kind in _HTTP:
        code, reason = rng.choice(_HTTP[kind])
        return kind, f"Node '{node}': GET https://api.example.test/v1/items answered {code} {reason}"
    return "other", f"Node '{node}': response body is not valid JSON"


def _plan_steps(prefix: str) -> list[tuple[str, str, str, float, int, str | None]]:
    """(step_name, node_name, node_type, median, lane, iteration_path) for the ten steps of a run."""
    steps = []
    for suffix, node_type, median in NODE_PLAN:
        name = f"{prefix}_{suffix}" if suffix not in ("start", "end") else suffix
        if suffix == "push":
            for i in range(LOOP_ITERATIONS):
                steps.append((f"{name}[{i}]", name, node_type, median, 0, f"[{i}]"))
        else:
            lane = 1 if suffix == "enrich_stock" else 0
            steps.append((name, name, node_type, median, lane, None))
    return steps


def seed_history(
    conn,
    workflows: list[SeedWorkflow],
    *,
    executions: int = 100_000,
    active: int = 12,
    now: datetime | None = None,
    days: float = 90.0,
    seed: int = 7,
) -> tuple[int, int]:
    """Insert `executions` runs (ten logs each) spread over `days` before `now`; returns (executions, logs).

    The newest `active` runs are left running or paused. The caller owns the transaction.
    """
    rng = random.Random(seed)
    now = now or datetime.utcnow().replace(microsecond=0)
    start_time = now - timedelta(days=days)
    spacing = (days * 86400.0 - 3600.0) / max(executions, 1)
    total_weight = sum(w.weight for w in workflows)
    cum: list[tuple[float, SeedWorkflow]] = []
    acc = 0.0
    for wf in workflows:
        acc += wf.weight / total_weight
        cum.append((acc, wf))
    plans = {wf.workflow_id: _plan_steps(wf.prefix) for wf in workflows}
    row = conn.execute("SELECT COALESCE(MAX(id), 0) FROM workflow_executions").fetchone()
    first_id = int(row[0]) + 1
    exec_rows: list[tuple] = []
    log_rows: list[tuple] = []
    error_kinds = [k for k, _ in _ERROR_WEIGHTS]
    error_weights = [w for _, w in _ERROR_WEIGHTS]
    for n in range(executions):
        exec_id = first_id + n
        u = rng.random()
        wf = next((w for c, w in cum if u <= c), cum[-1][1])
        plan = plans[wf.workflow_id]
        started = start_time + timedelta(seconds=n * spacing + rng.random() * spacing * 0.5)
        is_active = n >= executions - active
        r = rng.random()
        if is_active:
            status = "paused" if n % 4 == 0 else "running"
        elif r < 0.90:
            status = "completed"
        elif r < 0.96:
            status = "failed"
        elif r < 0.975:
            status = "cancelled"
        elif r < 0.99:
            status = "timed_out"
        else:
            status = "interrupted"
        # Which step the run stops at (None: every step succeeds).
        api_steps = [i for i, s in enumerate(plan) if s[2] == "API_CALL"]
        stop_at = None
        if status == "failed":
            stop_at = 2 if rng.random() < 0.06 else rng.choice(api_steps)  # 2: the CONDITION (expression)
        elif status in ("cancelled", "timed_out", "interrupted"):
            stop_at = rng.choice(api_steps)
        elif is_active:
            stop_at = rng.randrange(1, len(plan))
            started = now - timedelta(seconds=5 + rng.random() * 120)
        t = started
        lane_end = [t, t]
        branch_start = None
        current_node = None
        stopped = False
        max_end = started
        for seq, (step_name, node_name, node_type, median, lane, iteration) in enumerate(plan):
            node_id = wf.node_ids.get(node_name)
            duration = median * wf.speed * math.exp(rng.gauss(0.0, 0.45))
            if node_name.endswith("enrich_customer"):
                branch_start = t
            begin = branch_start if lane == 1 and branch_start is not None else t
            if node_name.endswith("for_each"):
                begin = max(lane_end)
            step_status = "success"
            error_type = error_message = None
            metrics = None
            end: datetime | None = begin + timedelta(seconds=duration)
            attempts = 1
            if stopped:
                step_status, begin, end, duration = ("pending" if is_active else "skipped"), None, None, None
                attempts = 0
            elif seq == stop_at:
                stopped = True
                current_node = node_name
                if status == "failed":
                    if seq == 2:
                        error_type = "expression"
                        error_message = f"Node '{node_name}': condition: unknown name 'respnse' at column 1"
                    else:
                        kind = rng.choices(error_kinds, error_weights)[0]
                        error_type, error_message = _error_message(kind, node_name, rng)
                        if error_type == "timeout":
                            duration = 10.0
                            end = begin + timedelta(seconds=duration)
                        attempts = rng.choice((1, 1, 2, 3))
                    step_status = "failed"
                elif status in ("cancelled", "timed_out"):
                    step_status = "cancelled"
                    error_type = "cancelled" if status == "cancelled" else "timeout"
                    error_message = (
                        "Cancelled by the user"
                        if status == "cancelled"
                        else "Workflow deadline of 30 s exceeded"
                    )
                elif status == "interrupted" or is_active:
                    step_status, end, duration = "running", None, None
            if step_status == "success" and node_type == "API_CALL":
                metrics = {"processing_time": round(duration * 0.8, 4)}
                if not node_name.endswith("push"):
                    metrics["data_throughput"] = round(rng.uniform(200.0, 5000.0), 1)
            elif step_status == "success" and node_type == "CONDITION":
                metrics = {"error_rate": round(rng.random() * 0.05, 4)}
            log_rows.append(
                (
                    exec_id,
                    node_id,
                    step_name,
                    node_name,
                    node_type,
                    step_status,
                    f'{{"id": {exec_id}}}' if node_type == "API_CALL" else None,
                    '{"status": 200, "count": 12}'
                    if step_status == "success" and node_type == "API_CALL"
                    else None,
                    error_message,
                    attempts,
                    None if duration is None or step_status in ("skipped", "pending") else round(duration, 6),
                    "[]",
                    seq,
                    json.dumps(metrics) if metrics else None,
                    error_type,
                    iteration,
                    _ts(begin) if begin else None,
                    _ts(end) if end else None,
                    _ts(begin or started),
                )
            )
            if end is not None:
                max_end = max(max_end, end)
            if end is not None and not stopped:
                lane_end[lane] = end
                if lane == 0:
                    t = end
        finished = None if (is_active or status == "interrupted") else max_end
        exec_rows.append(
            (
                exec_id,
                wf.workflow_id,
                f"run {exec_id}",
                status,
                '{"source": "seed"}',
                '{"ok": true}' if status == "completed" else None,
                next((r[8] for r in log_rows[-STEPS_PER_EXECUTION:] if r[8]), None),
                _ts(started),
                _ts(finished) if finished else None,
                _ts(started),
                current_node if status != "completed" else None,
                1.0 if status == "completed" else 0.5,
                "{}",
                "default",
            )
        )
    conn.executemany(
        "INSERT INTO workflow_executions (id, workflow_id, execution_name, status, input_data, output_data,"
        " error_message, started_at, completed_at, created_at, current_node, progress, config, environment)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        exec_rows,
    )
    conn.executemany(
        "INSERT INTO workflow_execution_logs (execution_id, node_id, step_name, node_name, node_type, status,"
        " input_data, output_data, error_message, attempts, execution_time, warnings, sequence, metrics,"
        " error_type, iteration_path, started_at, completed_at, created_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        log_rows,
    )
    return len(exec_rows), len(log_rows)


def create_demo(
    path, *, executions: int = 6000, days: float = 30.0, now: datetime | None = None
) -> list[SeedWorkflow]:
    """A demo database at `path` (through flowdesk's Database and ORM): the four benchmark workflows."""
    import sqlite3

    from flowdesk.store import Database
    from flowdesk.store.tables import NodeRow, WorkflowRow

    workflows = (
        ("Order sync", "orders", 4.0, 1.0),
        ("Billing export", "billing", 3.0, 1.4),
        ("CRM enrichment", "crm", 2.0, 0.7),
        ("Nightly reports", "reports", 1.0, 2.0),
    )
    db = Database(path)
    seeds = []
    with db.session() as session:
        for name, prefix, weight, speed in workflows:
            wf = WorkflowRow(name=name, description="demo", version="1.0", is_active=True)
            session.add(wf)
            session.flush()
            ids = {}
            for i, (node, node_type) in enumerate(node_names(prefix)):
                row = NodeRow(workflow_id=wf.id, name=node, node_type=node_type, position_x=i * 180.0)
                session.add(row)
                session.flush()
                ids[node] = row.id
            seeds.append(SeedWorkflow(wf.id, prefix, ids, weight, speed))
    db.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    seed_history(conn, seeds, executions=executions, days=days, now=now)
    conn.execute("COMMIT")
    conn.close()
    return seeds


def _screenshots(db_path, out_dir) -> None:
    """Grab the monitor view, a run timeline and the active panel on the demo data (offscreen)."""
    import os
    from pathlib import Path

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from flowdesk.services.monitoring import MonitorQueries
    from flowdesk.ui.monitor import ActiveExecutionsPanel, MonitorView, RunTimeline

    app = QApplication.instance() or QApplication([])
    queries = MonitorQueries(db_path)
    out = Path(out_dir)

    def wait(signal) -> None:
        loop = QEventLoop()
        signal.connect(loop.quit)
        QTimer.singleShot(20000, loop.quit)
        loop.exec()

    view = MonitorView(queries, 1, period=1)
    view.resize(1440, 900)
    view.show()
    wait(view.loaded)
    view.errors_table.selectRow(0)
    wait(view.drillDownLoaded)
    app.processEvents()
    view.grab().save(str(out / "screenshot-monitor.png"))

    with queries.db.session(read_only=True) as s:
        run_id = (
            s.connection()
            .exec_driver_sql(
                "SELECT e.id FROM workflow_executions e WHERE e.workflow_id = 1 AND e.status = 'failed'"
                " AND EXISTS (SELECT 1 FROM workflow_execution_logs l WHERE l.execution_id = e.id"
                " AND l.step_name LIKE '%push[1]' AND l.status = 'failed') ORDER BY e.id DESC LIMIT 1"
            )
            .scalar()
        )
    timeline = RunTimeline(queries, run_id)
    timeline.resize(1100, 170)
    timeline.show()
    wait(timeline.loaded)
    app.processEvents()
    timeline.grab().save(str(out / "screenshot-timeline.png"))

    panel = ActiveExecutionsPanel(queries)
    panel.resize(900, 320)
    panel.show()
    wait(panel.updated)
    app.processEvents()
    panel.grab().save(str(out / "screenshot-active.png"))
    panel.shutdown()


if __name__ == "__main__":
    import argparse
    import tempfile
    from pathlib import Path

    parser = argparse.ArgumentParser(
        description="Create a demo database of runs; optionally grab screenshots."
    )
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "flowdesk-monitor-demo.db")
    parser.add_argument("--executions", type=int, default=6000)
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--screenshots", type=Path, help="folder to save the monitor screenshots in")
    args = parser.parse_args()
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    for suffix in ("", "-wal", "-shm"):
        Path(str(args.db) + suffix).unlink(missing_ok=True)
    create_demo(args.db, executions=args.executions, days=args.days)
    print(f"demo database: {args.db}")
    if args.screenshots:
        _screenshots(args.db, args.screenshots)
        print(f"screenshots in {args.screenshots}")
