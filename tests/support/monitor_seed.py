"""A database of known runs for the monitor's tests, written through the store's ORM tables.

Workflow "shop" (stats, errors, active runs, timeline) and workflow "perf" (per-node timings and
custom metrics) have hand-picked figures; every expected value in the tests follows from the
literals below (docs/monitoring.md has the definitions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from flowdesk.store.tables import ExecutionLogRow, ExecutionRow, NodeRow, WorkflowRow

NOW = datetime(2026, 1, 10, 12, 0, 0, tzinfo=UTC)


def at(**delta: float) -> datetime:
    """NOW minus the given timedelta."""
    return NOW - timedelta(**delta)


@dataclass
class Seeded:
    """Ids of what `seed_known` stored."""

    shop: int = 0
    perf: int = 0
    nodes: dict[str, int] = field(default_factory=dict)  # "shop.fetch" -> node id
    runs: dict[str, int] = field(default_factory=dict)  # label -> execution id


SHOP_NODES = [
    ("start", "START"),
    ("fetch", "API_CALL"),
    ("check", "CONDITION"),
    ("branch_a", "API_CALL"),
    ("branch_b", "API_CALL"),
    ("loop", "LOOP"),
    ("item", "API_CALL"),
    ("end", "END"),
]
PERF_NODES = [("a", "API_CALL"), ("b", "API_CALL"), ("c", "API_CALL"), ("d", "API_CALL"), ("e", "API_CALL")]

#: The "shop" runs: label -> (status, started_at, duration seconds or None, failure or None).
#: failure = (step node, step_name, step status, error_type, message).
SHOP_RUNS: dict[str, tuple] = {
    "ok1": ("completed", at(days=3, hours=4), 10.0, None),
    "ok2": ("completed", at(days=3, hours=3), 20.0, None),
    "ok3": ("completed", at(days=3, hours=2), 30.0, None),
    "ok4": ("completed", at(days=3, hours=1), 40.0, None),
    "e404a": (
        "failed",
        at(days=1, hours=5),
        5.0,
        (
            "fetch",
            "fetch",
            "failed",
            "http_4xx",
            "Node 'fetch': GET https://shop.test/items answered 404 Not Found",
        ),
    ),
    "etimeout": (
        "failed",
        at(days=1, hours=4),
        12.0,
        ("branch_a", "branch_a", "failed", "timeout", "Node 'branch_a': request timed out after 10.0 s"),
    ),
    "econn": (
        "failed",
        at(days=1, hours=3),
        1.0,
        ("fetch", "fetch", "failed", "connection", "Node 'fetch': connection refused by shop.test:443"),
    ),
    "eexpr": (
        "failed",
        at(days=1, hours=2),
        2.0,
        (
            "check",
            "check",
            "failed",
            "expression",
            "Node 'check': condition: unknown name 'respnse' at column 1",
        ),
    ),
    "cancel": (
        "cancelled",
        at(days=1, hours=1),
        7.0,
        ("item", "item[1]", "cancelled", "cancelled", "Cancelled by the user"),
    ),
    "deadline": (
        "timed_out",
        at(hours=20),
        30.0,
        ("branch_b", "branch_b", "cancelled", "timeout", "Workflow deadline of 30 s exceeded"),
    ),
    "e503": (
        "failed",
        at(hours=10),
        6.0,
        (
            "item",
            "item[0]",
            "failed",
            "http_5xx",
            "Node 'item': POST https://shop.test/items answered 503 Service Unavailable",
        ),
    ),
    "eother": (
        "failed",
        at(hours=9),
        3.0,
        ("fetch", "fetch", "failed", None, "Node 'fetch': response is not JSON"),
    ),
    "e404b": (
        "failed",
        at(hours=8),
        4.0,
        (
            "fetch",
            "fetch",
            "failed",
            "http_4xx",
            "Node 'fetch': GET https://shop.test/items answered 404 Not Found (2)",
        ),
    ),
    "e4xx": (
        "failed",
        at(hours=7),
        2.0,
        ("fetch", "fetch", "failed", "http_4xx", "Node 'fetch': login refused"),
    ),
    "lost": ("interrupted", at(hours=6), None, None),
    "ok5": ("completed", at(minutes=4), 12.5, None),
    "running": ("running", at(seconds=90), None, None),
    "paused": ("paused", at(minutes=30), None, None),
    "pending": ("pending", None, None, None),
}

#: Step plan of a completed shop run: (node, step_name, offset s, duration s, iteration_path).
#: branch_a and branch_b run in parallel; item runs twice inside the loop.
SHOP_STEPS = [
    ("start", "start", 0.0, 0.5, None),
    ("fetch", "fetch", 0.5, 2.0, None),
    ("check", "check", 2.5, 0.5, None),
    ("branch_a", "branch_a", 3.0, 3.0, None),
    ("branch_b", "branch_b", 3.0, 4.0, None),
    ("loop", "loop", 7.0, 0.5, None),
    ("item", "item[0]", 7.5, 1.0, [0]),
    ("item", "item[1]", 8.5, 1.0, [1]),
    ("end", "end", 9.5, 0.5, None),
]

#: "perf" runs: per run, the steps (node, duration or None, metrics or None); all runs completed.
PERF_RUNS = [
    [
        ("a", 1.0, {"processing_time": 1.0, "rows": 10}),
        ("b", 10.0, None),
        ("c", 1.25, {"rows": 5}),
        ("c", 1.25, {"rows": 5}),
        ("d", 6.0, None),
    ],
    [
        ("a", 2.0, {"processing_time": 2.0, "rows": 20}),
        ("b", 10.0, None),
        ("c", 1.25, {"rows": 5}),
        ("c", 1.25, {"rows": 5}),
        ("d", 6.0, None),
    ],
    [
        ("a", 3.0, {"processing_time": 3.0}),
        ("b", 10.0, None),
        ("c", 1.25, {"rows": 5}),
        ("c", 1.25, {"rows": 5}),
        ("d", 8.0, None),
    ],
    [
        ("a", 4.0, {"processing_time": 4.0, "label": "text is not a number"}),
        ("b", 10.0, None),
        ("c", 1.25, {"rows": 5}),
        ("c", 1.25, {"rows": 5}),
        ("d", None, None),
        ("e", None, None),
    ],
]


def step_log_row(
    execution_id: int, node_id: int | None, node: str, step: str, node_type: str, seq: int, **kw
) -> ExecutionLogRow:
    """One step row of a seeded run (`kw`: the other columns, status, times, error, ...)."""
    return ExecutionLogRow(
        execution_id=execution_id,
        node_id=node_id,
        step_name=step,
        node_name=node,
        node_type=node_type,
        sequence=seq,
        attempts=kw.pop("attempts", 1),
        warnings=[],
        **kw,
    )


def seed_known(db) -> Seeded:
    """Store the "shop" and "perf" workflows with their runs and steps; return their ids."""
    seeded = Seeded()
    with db.session() as s:
        shop = WorkflowRow(name="shop", description="", version="1.0", is_active=True)
        perf = WorkflowRow(name="perf", description="", version="1.0", is_active=True)
        s.add_all([shop, perf])
        s.flush()
        seeded.shop, seeded.perf = shop.id, perf.id
        types: dict[str, str] = {}
        for wf, prefix, nodes in ((shop, "shop", SHOP_NODES), (perf, "perf", PERF_NODES)):
            for i, (name, node_type) in enumerate(nodes):
                row = NodeRow(
                    workflow_id=wf.id,
                    name=name,
                    node_type=node_type,
                    position_x=i * 200.0,
                    position_y=0.0,
                    description="",
                )
                s.add(row)
                s.flush()
                seeded.nodes[f"{prefix}.{name}"] = row.id
                types[f"{prefix}.{name}"] = node_type
        for label, (status, started, duration, failure) in SHOP_RUNS.items():
            completed = started + timedelta(seconds=duration) if started and duration is not None else None
            run = ExecutionRow(
                workflow_id=shop.id,
                execution_name=label,
                status=status,
                started_at=started,
                completed_at=completed,
                created_at=started or at(seconds=1),
                current_node={"running": "branch_a", "paused": "loop"}.get(
                    label, failure[0] if failure else None
                ),
                progress=0.5,
                error_message=failure[4] if failure else None,
            )
            s.add(run)
            s.flush()
            seeded.runs[label] = run.id
            if started is None:
                continue
            stop = failure[1] if failure else None
            active = status in ("running", "paused", "interrupted")
            stopped = False
            for seq, (node, step, offset, length, iteration) in enumerate(SHOP_STEPS):
                node_id = seeded.nodes[f"shop.{node}"]
                node_type = types[f"shop.{node}"]
                begin = started + timedelta(seconds=offset)
                kw: dict = {"iteration_path": iteration}
                if active and offset >= 3.0:  # the step the run is in: started, no end yet
                    s.add(
                        step_log_row(
                            run.id,
                            node_id,
                            node,
                            step,
                            node_type,
                            seq,
                            status="running",
                            started_at=begin,
                            **kw,
                        )
                    )
                    break
                if stopped:
                    s.add(
                        step_log_row(
                            run.id, node_id, node, step, node_type, seq, status="skipped", attempts=0, **kw
                        )
                    )
                    continue
                end = begin + timedelta(seconds=length)
                if step == stop:
                    _, _, step_status, error_type, message = failure
                    s.add(
                        step_log_row(
                            run.id,
                            node_id,
                            node,
                            step,
                            node_type,
                            seq,
                            status=step_status,
                            error_type=error_type,
                            error_message=message,
                            started_at=begin,
                            completed_at=end,
                            execution_time=length,
                            **kw,
                        )
                    )
                    stopped = True
                    continue
                s.add(
                    step_log_row(
                        run.id,
                        node_id,
                        node,
                        step,
                        node_type,
                        seq,
                        status="success",
                        input_data={"seq": seq},
                        output_data={"ok": True, "step": step},
                        started_at=begin,
                        completed_at=end,
                        execution_time=length,
                        **kw,
                    )
                )
        for i, steps in enumerate(PERF_RUNS):
            started = at(days=2, hours=-i)
            total = sum(d for _, d, _ in steps if d)
            run = ExecutionRow(
                workflow_id=perf.id,
                execution_name=f"perf{i}",
                status="completed",
                started_at=started,
                completed_at=started + timedelta(seconds=total),
                created_at=started,
            )
            s.add(run)
            s.flush()
            seeded.runs[f"perf{i}"] = run.id
            for seq, (node, duration, metrics) in enumerate(steps):
                s.add(
                    step_log_row(
                        run.id,
                        seeded.nodes[f"perf.{node}"],
                        node,
                        node,
                        "API_CALL",
                        seq,
                        status="success" if duration is not None else "skipped",
                        execution_time=duration,
                        metrics=metrics,
                    )
                )
        # A step of a node that was deleted since: node_id NULL, left out of per-node figures.
        s.add(
            step_log_row(
                seeded.runs["perf0"],
                None,
                "gone",
                "gone",
                "API_CALL",
                99,
                status="success",
                execution_time=100.0,
                metrics={"processing_time": 100.0},
            )
        )
    return seeded


@pytest.fixture
def seeded(db) -> Seeded:
    """The known runs in a fresh database (the `db` fixture of tests/conftest.py)."""
    return seed_known(db)
