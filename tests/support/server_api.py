"""Helpers for the REST API's tests: a workflow made through the API, and waiting for an execution."""

from __future__ import annotations

import time

import httpx


def api_chain(client: httpx.Client, name: str, middle: dict | None = None) -> tuple[int, dict[str, dict]]:
    """A START -> [middle] -> END workflow made through the API; (workflow id, nodes by name)."""
    wid = client.post("/workflows", json={"name": f"{name} {time.time_ns()}", "tags": ["t"]}).json()["id"]
    specs = [{"name": "start", "node_type": "START"}]
    if middle:
        specs.append(middle)
    specs.append({"name": "end", "node_type": "END"})
    nodes = {}
    for spec in specs:
        answer = client.post(f"/workflows/{wid}/nodes", json=spec)
        assert answer.status_code == 201, answer.text
        nodes[spec["name"]] = answer.json()
    names = [s["name"] for s in specs]
    for a, b in zip(names, names[1:], strict=False):
        answer = client.post(
            f"/workflows/{wid}/connections",
            json={"from_node_id": nodes[a]["id"], "to_node_id": nodes[b]["id"]},
        )
        assert answer.status_code == 201, answer.text
    return wid, nodes


def wait_for_execution(
    client: httpx.Client, execution_id: int, *, until=lambda e: e["status"] not in ("running", "pending")
):
    while True:  # bounded by the test timeout
        execution = client.get(f"/executions/{execution_id}").json()
        if until(execution):
            return execution
        time.sleep(0.02)
