"""The REST API's surface against a real `flowdesk serve` (both backends): graphs in the file format,
CRUD, versions, debugging controls, errors as one sentence with located problems, the body limit,
and /openapi.json read back by flowdesk's own API importer."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.support.server_api import api_chain, wait_for_execution


def test_graph_round_trips_in_the_file_format_and_a_bad_file_changes_nothing(server):
    with server.client() as client:
        wid, nodes = api_chain(
            client, "graph", {"name": "wait", "node_type": "DELAY", "config": {"seconds": 0}}
        )
        document = client.get(f"/workflows/{wid}/graph").json()
        assert [n["name"] for n in document["nodes"]] == ["start", "wait", "end"]

        document["nodes"][1]["config"] = {"seconds": 0.01}
        document["workflow"]["description"] = "changed through PUT"
        answer = client.put(f"/workflows/{wid}/graph", json=document)
        assert answer.status_code == 200, answer.text
        after = client.get(f"/workflows/{wid}/nodes").json()
        assert {n["name"]: n["id"] for n in after} == {k: v["id"] for k, v in nodes.items()}  # ids kept
        assert next(n for n in after if n["name"] == "wait")["config"] == {"seconds": 0.01}

        broken = json.loads(json.dumps(document))
        broken["nodes"][1]["node_type"] = "DELAYY"
        answer = client.put(f"/workflows/{wid}/graph", json=broken)
        assert answer.status_code == 422
        body = answer.json()
        assert body["detail"] and "Traceback" not in answer.text
        assert any(
            "DELAYY" in p["message"] and p.get("path", "").startswith("nodes[1]") for p in body["problems"]
        )
        assert client.get(f"/workflows/{wid}/graph").json()["nodes"][1]["node_type"] == "DELAY"


def test_validate_reports_located_problems(server):
    with server.client() as client:
        wid, _ = api_chain(client, "validate")
        document = client.get(f"/workflows/{wid}/graph").json()
        assert client.post("/validate", json=document).json() == {"valid": True, "problems": []}
        document["connections"].append({"from": "end", "to": "start", "type": "SEQUENCE"})
        answer = client.post("/validate", json=document).json()
        assert answer["valid"] is False and answer["problems"]


def test_errors_are_one_sentence_with_the_right_status(server):
    with server.client() as client:
        missing = client.get("/workflows/999999")
        assert missing.status_code == 404 and "999999" in missing.json()["detail"]
        wid, _ = api_chain(client, "errors")
        duplicate = client.post(f"/workflows/{wid}/nodes", json={"name": "start", "node_type": "START"})
        assert duplicate.status_code == 409, duplicate.text
        invalid = client.post(f"/workflows/{wid}/nodes", json={"name": 5, "node_typo": "X"})
        assert invalid.status_code == 422
        detail = invalid.json()["detail"]
        assert detail.endswith(".") and "\n" not in detail
        assert {p["path"] for p in invalid.json()["problems"]} >= {
            "body.name",
            "body.node_type",
            "body.node_typo",
        }
        not_json = client.post("/workflows", content=b"{nope", headers={"content-type": "application/json"})
        assert not_json.status_code == 422 and "JSON" in not_json.json()["detail"]
        for answer in (missing, duplicate, invalid, not_json):
            assert set(answer.json()) == {"detail", "problems"}


def test_a_body_over_the_limit_is_refused_with_413(server):
    with server.client() as client:
        answer = client.post("/validate", content=b"[" + b"0," * (11 * 1024 * 1024) + b"0]")
        assert answer.status_code == 413
        assert "larger than this server accepts" in answer.json()["detail"]


def test_crud_versions_duplicate_status_and_audit(server):
    with server.client() as client:
        wid, nodes = api_chain(client, "crud")
        renamed = client.patch(f"/nodes/{nodes['end']['id']}", json={"name": "finish"}).json()
        assert renamed["name"] == "finish"
        version = client.post(f"/workflows/{wid}/versions", json={"label": "v1"}).json()
        client.patch(f"/workflows/{wid}", json={"description": "after v1"})
        diff = client.get(f"/versions/{version['id']}/diff").json()
        assert diff["empty"] is False
        restored = client.post(f"/versions/{version['id']}/restore")
        assert restored.status_code == 200
        copy = client.post(f"/workflows/{wid}/duplicate", json={"name": f"copy {time.time_ns()}"}).json()
        assert copy["id"] != wid and copy["status"] == "draft"
        active = client.put(f"/workflows/{wid}/status", json={"status": "active"}).json()
        assert active["status"] == "active"
        listed = client.get("/workflows", params={"status": "active", "limit": 1000}).json()
        assert wid in [w["id"] for w in listed["items"]]
        entries = client.get("/audit", params={"workflow_id": wid}).json()
        assert entries and all(e["actor"] == "anonymous" for e in entries)
        assert client.delete(f"/workflows/{copy['id']}").status_code == 204
        assert client.get(f"/workflows/{copy['id']}").status_code == 404


def test_step_through_a_run_and_continue(server):
    with server.client() as client:
        wid, _ = api_chain(client, "steps", {"name": "wait", "node_type": "DELAY", "config": {"seconds": 0}})
        paused = client.post(f"/workflows/{wid}/execute", json={"step_by_step": True}).json()
        assert paused["status"] == "paused", paused
        stepped = client.post(f"/executions/{paused['id']}/step").json()
        assert stepped["status"] == "paused"
        steps = client.get(f"/executions/{paused['id']}/steps").json()
        assert [s["step_name"] for s in steps] == ["start"]
        client.post(f"/executions/{paused['id']}/continue")
        done = wait_for_execution(client, paused["id"])
        assert done["status"] == "completed"
        assert [s["step_name"] for s in client.get(f"/executions/{paused['id']}/steps").json()] == [
            "start",
            "wait",
            "end",
        ]
        ended = client.post(f"/executions/{paused['id']}/step")
        assert ended.status_code == 400 and "has ended" in ended.json()["detail"]


def test_cancel_then_resume(server):
    with server.client() as client:
        wid, _ = api_chain(
            client, "cancel", {"name": "wait", "node_type": "DELAY", "config": {"seconds": 60}}
        )
        started = client.post(f"/workflows/{wid}/execute", json={"config": {"async": True}}).json()
        wait_for_execution(client, started["execution_id"], until=lambda e: e["current_step"] == "wait")
        cancelled = client.post(f"/executions/{started['execution_id']}/cancel").json()
        assert cancelled["status"] == "cancelled"
        document = client.get(f"/workflows/{wid}/graph").json()
        document["nodes"][1]["config"] = {"seconds": 0}
        client.put(f"/workflows/{wid}/graph", json=document)
        resumed = client.post(f"/executions/{started['execution_id']}/resume")
        assert resumed.status_code == 202, resumed.text
        done = wait_for_execution(client, resumed.json()["execution_id"])
        assert done["status"] == "completed" and done["resumed_from_id"] == started["execution_id"]


def test_the_monitor_stats_tell_child_runs_apart(server):
    with server.client() as client:
        child, _ = api_chain(client, "child", {"name": "nap", "node_type": "DELAY", "config": {"seconds": 0}})
        parent, _ = api_chain(
            client, "parent", {"name": "call", "node_type": "SUBWORKFLOW", "config": {"workflow": child}}
        )
        for wid in (parent, child):
            started = client.post(f"/workflows/{wid}/execute", json={"config": {"async": True}}).json()
            assert wait_for_execution(client, started["execution_id"])["status"] == "completed"
        stats = client.get(f"/workflows/{child}/metrics", params={"type": "stats"}).json()
        assert (stats["total_executions"], stats["child_executions"], stats["top_level_only"]) == (
            2,
            1,
            False,
        )
        only = client.get(
            f"/workflows/{child}/metrics", params={"type": "stats", "top_level_only": "true"}
        ).json()
        assert (only["total_executions"], only["successful_executions"], only["top_level_only"]) == (
            1,
            1,
            True,
        )
        calling = client.get(f"/workflows/{parent}/metrics").json()
        assert (calling["child_executions"], calling["avg_time_in_children"] > 0) == (0, True)


def test_environments_secrets_and_api_library(server, http_server):
    with server.client() as client:
        assert (
            client.put("/environments/staging", json={"variables": {"base": http_server.url}}).status_code
            == 200
        )
        assert client.get("/environments/staging").json()["variables"] == {"base": http_server.url}
        assert client.put("/secrets/TOKEN_A", json={"value": "s3cr3t-value"}).status_code == 204
        names = client.get("/secrets").json()
        assert "TOKEN_A" in names["names"] and "s3cr3t-value" not in json.dumps(names)
        preview = client.post(
            "/api-imports", json={"content": f"curl {http_server.url}/users/1", "preview": True}
        ).json()
        assert preview["counts"]["add"] == 1
        report = client.post("/api-imports", json={"content": f"curl {http_server.url}/users/1"}).json()
        assert len(report["added"]) == 1
        assert any(a["id"] == report["added"][0]["id"] for a in client.get("/apis").json())
        openapi = client.get("/api-exports/openapi").json()
        assert openapi["openapi"].startswith("3.")


def test_the_servers_own_openapi_document_imports_cleanly(server, tmp_path):
    from flowdesk.interchange.api_import import import_api_spec  # the importer the app and CLI use

    spec = httpx.get(server.url + "/openapi.json", timeout=60).json()
    assert spec["openapi"].startswith("3.1")
    assert all(
        schema.get("description")
        for schema in spec["components"]["schemas"].values()
        if not schema.get("title", "").startswith(("HTTPValidationError", "ValidationError"))
    )
    result = import_api_spec(json.dumps(spec).encode(), source_name="openapi.json")
    assert not result.problems, result.problems
    assert len(result.definitions) >= 60


@pytest.mark.parametrize("path", ["/executions/{id}/events"])
def test_server_sent_events_follow_a_run_to_its_end(server, path):
    with server.client() as client:
        wid, _ = api_chain(client, "sse", {"name": "wait", "node_type": "DELAY", "config": {"seconds": 0}})
        paused = client.post(f"/workflows/{wid}/execute", json={"step_by_step": True}).json()
        events: list[dict] = []
        with client.stream("GET", path.format(id=paused["id"])) as stream:
            lines = stream.iter_lines()
            for line in lines:
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
                    if events[-1]["type"] == "state":
                        client.post(f"/executions/{paused['id']}/continue")
        kinds = [e["type"] for e in events]
        assert kinds[0] == "state" and kinds[-1] == "execution_finished"
        finished = [e["node_name"] for e in events if e["type"] == "node_finished"]
        assert finished == ["start", "wait", "end"]


def test_a_run_that_just_ended_is_shown_whole_before_its_row_is_written():
    """The handle says `completed` a moment before the writer stores the row: a GET in between must
    not mix the handle's status with the row's empty output (seen on PostgreSQL under load)."""
    from datetime import UTC, datetime

    from flowdesk.domain.enums import ExecutionStatus
    from flowdesk.domain.models import Execution
    from flowdesk.server.runtime import execution_view

    row = Execution(id=7, workflow_id=1, status=ExecutionStatus.RUNNING, started_at=datetime.now(UTC))

    class JustEnded:  # what ExecutionHandle holds between its status change and done
        done = False
        progress = 100.0
        current_step = "end"
        status = ExecutionStatus.COMPLETED
        output_data = {"end": {"ok": True}}
        error_message = None
        completed_at = datetime.now(UTC)

    view = execution_view(row, JustEnded())
    assert view["status"] == "completed" and view["output_data"] == {"end": {"ok": True}}
    assert view["completed_at"] is not None and view["duration"] is not None


def test_times_in_queries_are_iso_8601_and_nothing_else(server):
    # The fuzzing found `?until=0.5` accepted (read as seconds since 1970).
    with server.client() as client:
        assert client.get("/audit", params={"until": "0.5"}).status_code == 422
        assert client.get("/audit", params={"since": "2026-13-01"}).status_code == 400
        assert (
            client.get("/audit", params={"since": "2000-01-01", "until": "2100-01-01T00:00Z"}).status_code
            == 200
        )


def test_a_run_is_answered_as_its_response_model_would_write_it():
    """GET /executions/{id} writes its answer without FastAPI validating it against ExecutionView
    again: the bytes must be those the model itself would write, for awkward values too."""
    from datetime import UTC, datetime

    from flowdesk.domain.enums import ExecutionStatus
    from flowdesk.domain.models import Execution
    from flowdesk.server.runtime import execution_view, view_json
    from flowdesk.server.schemas import ExecutionView

    started = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)  # no microseconds
    runs = [
        Execution(id=1, workflow_id=2),
        Execution(
            id=3,
            workflow_id=4,
            execution_name='名字 "quoted" \\ \n',
            status=ExecutionStatus.FAILED,
            input_data={
                "big": 2**70,
                "tiny": 1e-7,
                "huge": 1.5e300,
                "nan": float("nan"),
                "list": [None, True],
            },
            output_data=[float("inf"), -0.0, 12345678901234567890],
            error_message="boom",
            current_node="call",
            progress=33.33333,
            config={"timeout": 600, "retry_count": 3},
            environment="staging",
            runner_pid=99,
            runner_host="host",
            resumed_from_id=1,
            started_at=started,
            completed_at=datetime(2026, 1, 2, 3, 4, 6, 250001, tzinfo=UTC),
        ),
        Execution(
            id=5, workflow_id=6, status=ExecutionStatus.COMPLETED, output_data="text", started_at=started
        ),
    ]
    for run in runs:
        view = execution_view(run)
        assert view_json(view) == ExecutionView.model_validate(view).model_dump_json().encode()


def test_a_run_reads_the_same_alone_as_in_the_list(server):
    with server.client() as client:
        wid, _ = api_chain(client, "read alike")
        ran = client.post(f"/workflows/{wid}/execute", json={"input_data": {"名": [1, 2.5]}}).json()
        alone = client.get(f"/executions/{ran['id']}")
        assert alone.status_code == 200 and alone.headers["content-type"] == "application/json"
        listed = client.get("/executions", params={"workflow_id": wid}).json()["items"]
        assert [alone.json()] == listed
        assert alone.json()["input_data"] == {"名": [1, 2.5]} and alone.json()["status"] == "completed"
        missing = client.get("/executions/987654321")
        assert missing.status_code == 404
        assert missing.json() == {"detail": "Execution 987654321 does not exist.", "problems": []}


def test_a_kept_answer_never_outlives_a_change_to_its_run(server):
    """The server keeps GET /executions/{id} answers until anything is committed to the database: a
    change made through another connection (as the app or the CLI would make it) shows at the very
    next GET, and so does a deletion."""
    from flowdesk.services import ExecutionService
    from flowdesk.store import Database

    with server.client() as client:
        wid, _ = api_chain(client, "kept")
        run_id = client.post(f"/workflows/{wid}/execute", json={}).json()["id"]
        first = client.get(f"/executions/{run_id}").json()
        assert client.get(f"/executions/{run_id}").json() == first
        with Database(server.db, recover=False) as db:
            ExecutionService(db).update_execution(run_id, error_message="noted later")
            assert client.get(f"/executions/{run_id}").json() == {**first, "error_message": "noted later"}
            ExecutionService(db).delete_executions([run_id])
        assert client.get(f"/executions/{run_id}").status_code == 404


def test_the_cache_metrics_give_the_response_cache_hit_rate(server, http_server):
    with server.client() as client:
        cached = {
            "name": "users",
            "node_type": "API_CALL",
            "config": {
                "method": "GET",
                "url": f"{http_server.url}/hit/rest-{server.port}",
                "cache": {"ttl": 600},
            },
        }
        wid, _ = api_chain(client, "cache", cached)
        empty = client.get(f"/workflows/{wid}/metrics", params={"type": "cache"}).json()
        assert empty == {"hit_rate": None, "lookups": 0, "hits": 0, "nodes": {}}
        for _ in range(2):
            started = client.post(f"/workflows/{wid}/execute", json={"config": {"async": True}}).json()
            assert wait_for_execution(client, started["execution_id"])["status"] == "completed"
        figures = client.get(f"/workflows/{wid}/metrics", params={"type": "cache"}).json()
        assert figures == {
            "hit_rate": 0.5,
            "lookups": 2,
            "hits": 1,
            "nodes": {"users": {"lookups": 2, "hits": 1, "rate": 0.5}},
        }
    assert http_server.count(f"rest-{server.port}") == 1
