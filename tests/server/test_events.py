"""Live events: a WebSocket follows a run from the moment it subscribes to the run's end; a late
subscriber gets the current state first; a slow subscriber is told it lagged and never slows the
engine; Ctrl+C interrupts runs so they can be resumed."""

from __future__ import annotations

import asyncio
import json
import signal
import time

import httpx
import pytest
from websockets.asyncio.client import connect

from flowdesk.engine import events as ev
from flowdesk.server.events import EventHub
from tests.support.server_process import ServerProcess


def _workflow(client: httpx.Client, seconds: float = 0) -> int:
    wid = client.post("/workflows", json={"name": f"events {time.time_ns()}"}).json()["id"]
    ids = []
    for spec in (
        {"name": "start", "node_type": "START"},
        {"name": "wait", "node_type": "DELAY", "config": {"seconds": seconds}},
        {"name": "end", "node_type": "END"},
    ):
        ids.append(client.post(f"/workflows/{wid}/nodes", json=spec).json()["id"])
    for a, b in zip(ids, ids[1:], strict=False):
        client.post(f"/workflows/{wid}/connections", json={"from_node_id": a, "to_node_id": b})
    return wid


async def _collect(url: str, on_state=None) -> list[dict]:
    events = []
    async with connect(url, open_timeout=60) as socket:
        async for message in socket:
            events.append(json.loads(message))
            if events[-1]["type"] == "state" and on_state is not None:
                await asyncio.to_thread(on_state)
    return events


def test_a_websocket_follows_a_run_to_its_end(server):
    with server.client() as client:
        wid = _workflow(client)
        paused = client.post(f"/workflows/{wid}/execute", json={"step_by_step": True}).json()
        url = server.url.replace("http", "ws") + f"/executions/{paused['id']}/events"
        events = asyncio.run(
            _collect(url, on_state=lambda: client.post(f"/executions/{paused['id']}/continue"))
        )
    kinds = [e["type"] for e in events]
    assert kinds[0] == "state" and events[0]["state"]["status"] == "paused"
    assert kinds[-1] == "execution_finished" and events[-1]["status"] == "completed"
    started = [e["node_name"] for e in events if e["type"] == "node_started"]
    finished = [(e["node_name"], e["status"]) for e in events if e["type"] == "node_finished"]
    assert started == ["start", "wait", "end"]
    assert finished == [("start", "success"), ("wait", "success"), ("end", "success")]


def test_a_late_subscriber_gets_the_ended_runs_state_and_the_stream_closes(server):
    with server.client() as client:
        wid = _workflow(client)
        done = client.post(f"/workflows/{wid}/execute", json={}).json()
        url = server.url.replace("http", "ws") + f"/executions/{done['id']}/events"
        events = asyncio.run(_collect(url))
    assert [e["type"] for e in events] == ["state"]
    assert events[0]["state"]["status"] == "completed" and events[0]["state"]["progress"] == 100


def test_every_runs_events_on_one_stream(server):
    async def scenario() -> list[dict]:
        url = server.url.replace("http", "ws") + "/events"
        seen: list[dict] = []
        async with connect(url, open_timeout=60) as socket:
            first = json.loads(await socket.recv())
            assert first["type"] == "state"
            with server.client() as client:
                wid = await asyncio.to_thread(_workflow, client)
                await asyncio.to_thread(client.post, f"/workflows/{wid}/execute", json={})
            while True:
                seen.append(json.loads(await socket.recv()))
                if seen[-1]["type"] == "execution_finished":
                    return seen

    events = asyncio.run(scenario())
    assert [e["node_name"] for e in events if e["type"] == "node_finished"] == ["start", "wait", "end"]


def test_a_slow_subscriber_is_told_it_lagged_and_gets_the_current_state():
    async def scenario() -> list[dict | None]:
        async def state_of(execution_id):
            return {"id": execution_id, "status": "running", "current_step": "n99"}

        hub = EventHub(state_of, queue_size=5)
        sub = hub.subscribe(7)
        for i in range(100):  # the engine publishes far faster than this subscriber reads
            hub.publish(ev.NodeStarted(7, time.time(), node_name=f"n{i}", step_name=f"n{i}"))
        received = [await sub.next() for _ in range(6)]
        hub.publish(ev.ExecutionFinished(7, time.time(), status="completed"))
        received.append(await sub.next())
        received.append(await sub.next())
        return received

    received = asyncio.run(scenario())
    assert [e["node_name"] for e in received[:5]] == ["n0", "n1", "n2", "n3", "n4"]
    assert received[5]["type"] == "lagged" and received[5]["state"]["current_step"] == "n99"
    assert received[6]["type"] == "execution_finished"
    assert received[7] is None


def test_ctrl_c_interrupts_running_runs_and_they_can_be_resumed(make_database, tmp_path_factory):
    db = make_database("sqlite")
    process = ServerProcess(db, log_dir=tmp_path_factory.mktemp("shutdown")).start()
    with process.client() as client:
        wid = _workflow(client, seconds=300)
        started = client.post(f"/workflows/{wid}/execute", json={"config": {"async": True}}).json()
        while client.get(f"/executions/{started['execution_id']}").json()["current_step"] != "wait":
            time.sleep(0.02)
    assert process.stop(signal.SIGINT) == 0
    assert "flowdesk server stopped." in process.output()
    assert "Traceback" not in process.output()

    again = ServerProcess(db, log_dir=tmp_path_factory.mktemp("shutdown2")).start()
    try:
        with again.client() as client:
            interrupted = client.get(f"/executions/{started['execution_id']}").json()
            assert interrupted["status"] == "interrupted", interrupted
            assert interrupted["error_message"] == "the server stopped"
            steps = client.get(f"/executions/{started['execution_id']}/steps").json()
            assert [(s["step_name"], s["status"]) for s in steps][0] == ("start", "success")
    finally:
        again.stop()


@pytest.mark.parametrize("sig", [signal.SIGTERM])
def test_sigterm_stops_the_server_cleanly(make_database, tmp_path_factory, sig):
    process = ServerProcess(make_database("sqlite"), log_dir=tmp_path_factory.mktemp("term")).start()
    assert process.stop(sig) == 0
    assert "Traceback" not in process.output()


def test_a_refused_websocket_closes_with_a_code_and_a_sentence(server):
    from websockets.exceptions import ConnectionClosed

    async def attempt() -> tuple[int, str]:
        url = server.url.replace("http", "ws") + "/executions/987654321/events"
        async with connect(url, open_timeout=60) as socket:
            try:
                await socket.recv()
            except ConnectionClosed as closed:
                return closed.rcvd.code, closed.rcvd.reason
        raise AssertionError("the server did not close the socket")

    code, reason = asyncio.run(attempt())
    assert code == 4404 and "987654321" in reason
