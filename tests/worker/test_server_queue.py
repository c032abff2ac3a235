"""`flowdesk serve --workers-broker`: the execute endpoint queues, the workers' events reach its WebSocket."""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.client import connect

from tests.support.server_process import ServerProcess

from .conftest import api_call, wait_until, workflow_file


def test_the_server_queues_runs_and_streams_the_workers_events_in_order(
    worker, worker_db, redis_server, http_server, store, tmp_path
):
    key = "workers-server"
    wid = store(workflow_file("served", [api_call("call", f"{http_server.url}/hit/{key}")]))
    server = ServerProcess(worker_db, extra=("--workers-broker", redis_server.url), log_dir=tmp_path).start()
    try:
        with server.client() as client:
            ended = client.post(f"/workflows/{wid}/execute", json={"config": {"queue": "default"}})
            assert ended.status_code == 200, ended.text
            assert ended.json()["status"] == "completed" and ended.json()["runner_pid"] == worker.pid

            async def follow() -> tuple[int, list[dict]]:
                events: list[dict] = []
                url = server.url.replace("http", "ws", 1) + "/events"
                async with connect(url, open_timeout=60) as socket:
                    first = json.loads(await socket.recv())
                    assert first["type"] == "state"
                    answer = await asyncio.to_thread(
                        client.post,
                        f"/workflows/{wid}/execute",
                        json={"config": {"queue": "default", "async": True}},
                    )
                    assert answer.status_code == 202, answer.text
                    execution_id = answer.json()["execution_id"]
                    assert answer.json()["status"] == "pending"
                    async for message in socket:
                        event = json.loads(message)
                        if event.get("execution_id") == execution_id:
                            events.append(event)
                            if event["type"] == "execution_finished":
                                return execution_id, events
                raise AssertionError("the stream ended before the run did")

            execution_id, events = asyncio.run(asyncio.wait_for(follow(), 120))
            kinds = [(e["type"], e.get("step_name")) for e in events]
            assert kinds[0] == ("execution_started", None)
            assert kinds[-1] == ("execution_finished", None) and events[-1]["status"] == "completed"
            nodes = [k for k in kinds if k[0] in ("node_started", "node_finished")]
            assert nodes == [
                ("node_started", "start"), ("node_finished", "start"),
                ("node_started", "call"), ("node_finished", "call"),
                ("node_started", "end"), ("node_finished", "end"),
            ]  # fmt: skip
            view = client.get(f"/executions/{execution_id}").json()
            assert view["status"] == "completed" and view["config"]["queue"] == "default"
            refused = client.post(f"/workflows/{wid}/execute", json={"config": {"queue": "bad name"}})
            assert refused.status_code in (400, 422) and "queue name" in refused.json()["detail"]
    finally:
        server.stop()
    wait_until(lambda: http_server.count(key) == 2, "both calls counted")
