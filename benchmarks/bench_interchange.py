"""Benchmark: a workflow file of 2,000 nodes and 3,000 connections through import, export and the store.

Run by hand (not a test):  python benchmarks/bench_interchange.py [--runs 5]

Times, median of N runs each:
  import      read_workflow_file: decode, parse JSON, check every field, validate the graph
              (every condition/template parsed) — what `flowdesk validate` and an import do first;
              "cold" empties the caches of parsed expressions before each run (a fresh program),
              "warm" keeps them (the editor re-validating a workflow it has checked before)
  export      write_workflow_file: the canonical JSON text of the graph
  save        TransferService.store: APIs matched/added, workflow + nodes + connections inserted,
              one transaction, into a SQLite file
  load        WorkflowService.load_graph: the whole graph back from the database
  db export   TransferService.export_workflow: load + embedded APIs + write (what `flowdesk export` does)
Target: each under 200 ms on this 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flowdesk.interchange.workflow_file import read_workflow_file, write_workflow_file  # noqa: E402

TARGET_MS = 200.0


def generate(n_nodes: int = 2000, n_connections: int = 3000) -> str:
    """A valid workflow file: a long chain of API calls and conditions with skip-ahead edges, 5 APIs."""
    nodes = [
        {
            "name": "start",
            "node_type": "START",
            "config": {},
            "position_x": 0,
            "position_y": 0,
            "description": "",
        }
    ]
    for i in range(1, n_nodes - 1):
        x, y = 220 * (i % 50), 120 * (i // 50)
        if i % 10 == 5:
            node = {
                "name": f"check_{i}",
                "node_type": "DELAY",
                "config": {"seconds": "{{input.delay}}"},
            }
        else:
            node = {
                "name": f"call_{i}",
                "node_type": "API_CALL",
                "config": {
                    "api_id": 1 + (i - 1) % 5,
                    "parameters": {"user_id": "{{input.user_id}}", "page": i},
                    "headers": {"X-Step": f"step {i} of {{{{execution.id}}}}"},
                    "output_mapping": {"id": "response.data.id", "ok": "response.status == 200"},
                },
            }
        node.update(position_x=x, position_y=y, description=f"step {i}")
        nodes.append(node)
    nodes.append(
        {"name": "end", "node_type": "END", "config": {}, "position_x": 0, "position_y": 0, "description": ""}
    )
    names = [n["name"] for n in nodes]
    connections = [
        {"from": a, "to": b, "connection_type": "SEQUENCE", "condition": None, "config": {}}
        for a, b in zip(names, names[1:], strict=False)
    ]
    step = 2
    while len(connections) < n_connections:
        for i in range(0, len(names) - step, 3):
            if len(connections) >= n_connections:
                break
            connections.append(
                {
                    "from": names[i],
                    "to": names[i + step],
                    "connection_type": "CONDITIONAL",
                    "condition": f"{{{{input.level}}}} > {i % 7} and input.flags.contains('x{i % 3}')",
                    "config": {},
                }
            )
        step += 1
    apis = [
        {
            "id": k,
            "name": f"api {k}",
            "method": "GET",
            "url": f"{{{{input.base}}}}/v{k}/users/{{{{params.user_id}}}}/items",
            "headers": {"Accept": "application/json"},
            "query": {"page": "{{params.page}}"},
            "body": None,
            "timeout": 30,
            "auth": None,
            "description": "",
        }
        for k in range(1, 6)
    ]
    document = {
        "flowdesk": 1,
        "workflow": {
            "name": "benchmark",
            "description": "",
            "version": "1.0",
            "config": {},
            "tags": ["bench"],
            "is_active": False,
        },
        "nodes": nodes,
        "connections": connections,
        "apis": apis,
    }
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def forget_parsed_expressions() -> None:
    """Empty every cache of parsed conditions and templates, as in a freshly started program."""
    from flowdesk.domain import validation
    from flowdesk.domain.expressions import parser, templates

    for cached in (
        validation._expression_errors,
        validation._template_errors,
        parser.parse,
        templates.split_template,
    ):
        cached.cache_clear()


def median_ms(fn: Callable[[], object], runs: int) -> tuple[float, list[float], float]:
    """Median wall time, every wall time, and median CPU time of this process (steadier when
    other programs share the machine), in milliseconds."""
    times, cpu = [], []
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(times), times, statistics.median(cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--nodes", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=3000)
    args = parser.parse_args()

    from flowdesk.services.transfer import TransferService
    from flowdesk.services.workflows import WorkflowService
    from flowdesk.store import Database

    load_before = os.getloadavg()[0]
    text = generate(args.nodes, args.connections)
    data = text.encode("utf-8")
    first = read_workflow_file(data)  # also warms the expression cache, as a running app would have
    assert not first.problems, first.problems[:3]
    print(
        f"workflow file: {len(first.graph.nodes)} nodes, {len(first.graph.connections)} connections, "
        f"{len(first.apis)} APIs, {len(data) / 1e6:.2f} MB; median of {args.runs} runs"
    )

    results: list[tuple[str, float, list[float], float]] = []

    def cold_import() -> object:
        forget_parsed_expressions()
        return read_workflow_file(data)

    results.append(("import, cold (no text parsed before)", *median_ms(cold_import, args.runs)))
    results.append(
        ("import, warm (editor re-validating)", *median_ms(lambda: read_workflow_file(data), args.runs))
    )
    results.append(
        (
            "export (write file text)",
            *median_ms(lambda: write_workflow_file(first.graph, first.apis), args.runs),
        )
    )
    assert write_workflow_file(first.graph, first.apis) == text, "the export is not the canonical input"

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "bench.db")
        try:
            transfer = TransferService(db)
            workflows = WorkflowService(db)
            stored: list[int] = []
            results.append(
                (
                    "save to DB (one transaction)",
                    *median_ms(lambda: stored.append(transfer.store(first).workflow.id), args.runs),
                )
            )
            workflow_id = stored[-1]
            results.append(("load from DB", *median_ms(lambda: workflows.load_graph(workflow_id), args.runs)))
            results.append(
                (
                    "export from DB (load + write)",
                    *median_ms(lambda: transfer.export_workflow(workflow_id), args.runs),
                )
            )
            assert transfer.export_workflow(workflow_id) == text
        finally:
            db.close()

    shared = (
        " (more than the cores: other programs shared the CPU)" if load_before > (os.cpu_count() or 1) else ""
    )
    print(f"load average before the runs: {load_before:.2f} on {os.cpu_count()} cores{shared}")
    width = max(len(name) for name, *_ in results)
    print(f"{'step':<{width}}  {'median':>9}  {'min':>9}  {'max':>9}  {'cpu':>9}  target {TARGET_MS:.0f} ms")
    failed = False
    for name, median, times, cpu in results:
        ok = median < TARGET_MS
        failed |= not ok
        print(
            f"{name:<{width}}  {median:7.1f} ms  {min(times):7.1f} ms  {max(times):7.1f} ms  {cpu:7.1f} ms  "
            f"{'ok' if ok else 'SLOWER THAN TARGET'} ({median / TARGET_MS:.2f} of target)"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
