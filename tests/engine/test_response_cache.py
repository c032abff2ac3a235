"""The response cache of API_CALL nodes (docs/semantics.md §2.12) against the local test server,
which counts the requests each `/hit/{key}` gets, so a hit is proven to have sent nothing.

Runs in memory go through one WorkflowExecutor twice (the cache is the engine's); the persisted cache
runs stored workflows in a real SQLite file in tmp_path with two executors one after the other.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from flowdesk.domain.models import ApiDefinition, Connection, Node, Workflow, WorkflowGraph
from flowdesk.domain.validation import validate_graph
from flowdesk.engine.events import LogLine
from flowdesk.engine.executor import WorkflowExecutor
from flowdesk.engine.response_cache import CachedAnswer, ResponseCache

SECRET = "c4che-s3cret-token-9182"


def graph(config: dict[str, Any], name: str = "cache-test") -> WorkflowGraph:
    nodes = [
        Node(name="start", node_type="START"),
        Node(name="call", node_type="API_CALL", config=config),
        Node(name="end", node_type="END"),
    ]
    connections = [Connection(from_node="start", to_node="call"), Connection(from_node="call", to_node="end")]
    return WorkflowGraph(workflow=Workflow(name=name), nodes=nodes, connections=connections)


def run_times(
    config: dict[str, Any],
    times: int = 2,
    *,
    apis: tuple[ApiDefinition, ...] = (),
    secrets: dict[str, str] | None = None,
    executor_hook: Any = None,
) -> list[tuple[Any, dict[str, Any], list[str]]]:
    """Run the graph `times` times through one executor: (handle, call step row, its log lines) each."""

    async def main():
        results = []
        async with WorkflowExecutor(load_plugins=False, secrets=secrets or {}) as executor:
            for index in range(times):
                if executor_hook is not None:
                    executor_hook(executor, index)
                lines: list[str] = []

                def listen(event, lines=lines):
                    if isinstance(event, LogLine) and event.step_name == "call":
                        lines.append(event.message)

                unsubscribe = executor.subscribe(listen)
                handle = await executor.execute_graph(graph(config), {}, apis=list(apis))
                unsubscribe()
                step = next(s for s in handle.steps if s["step_name"] == "call")
                results.append((handle, step, lines))
        return results

    return asyncio.run(main())


def test_a_second_get_is_served_from_the_cache_without_a_request(http_server):
    config = {"method": "GET", "url": f"{http_server.url}/hit/c1", "cache": {"ttl": 60}}
    (first, sent, _), (second, cached, lines) = run_times(config)
    assert http_server.count("c1") == 1
    assert first.status == second.status == "completed"
    assert second.output_data["call"]["response"]["data"] == {"key": "c1", "count": 1}
    assert second.output_data["call"]["response"]["cached"] is True
    assert "cached" not in first.output_data["call"]["response"]
    assert sent["metrics"]["cached"] is False and sent["metrics"]["cache_hit"] == 0
    assert cached["metrics"]["cached"] is True and cached["metrics"]["cache_hit"] == 1
    assert any(line.endswith("served from cache (age 0.0 s)") for line in lines), lines
    assert cached["input_data"]["url"] == f"{http_server.url}/hit/c1"  # the step still shows the request


def test_the_age_in_the_log_line_follows_the_cache_clock_and_the_ttl_expires(http_server):
    now = [1_000_000.0]

    def hook(executor, index):
        executor.response_cache.clock = lambda: now[0]
        now[0] += [0, 12, 50][index]

    config = {"method": "GET", "url": f"{http_server.url}/hit/c2", "cache": {"ttl": 60}}
    results = run_times(config, 3, executor_hook=hook)
    assert any("served from cache (age 12 s)" in line for line in results[1][2])
    assert results[2][1]["metrics"]["cached"] is False  # 62 s after it was kept: expired
    assert http_server.count("c2") == 2


def test_the_key_holds_the_query_and_the_varying_headers(http_server):
    base = {"method": "GET", "url": f"{http_server.url}/hit/c3", "cache": {"ttl": 60, "vary": ["X-Lang"]}}
    variants = [
        {**base, "query": {"page": 1}},
        {**base, "query": {"page": 2}},
        {**base, "query": {"page": 1}, "headers": {"X-Lang": "de"}},
        {**base, "query": {"page": 1}, "headers": {"X-Other": "ignored"}},  # not in vary: same key as 1
    ]

    async def main():
        async with WorkflowExecutor(load_plugins=False) as executor:
            for config in variants:
                await executor.execute_graph(graph(config), {})

    asyncio.run(main())
    assert http_server.count("c3") == 3


def test_only_get_and_head_are_cached_unless_methods_widen_it(http_server):
    url = f"{http_server.url}/hit/c4"
    run_times({"method": "POST", "url": url, "body": {"a": 1}, "cache": {"ttl": 60}})
    assert http_server.count("c4") == 2
    results = run_times(
        {"method": "POST", "url": url, "body": {"a": 1}, "cache": {"ttl": 60, "methods": ["post"]}}
    )
    assert http_server.count("c4") == 3
    assert results[1][0].output_data["call"]["response"]["cached"] is True


def test_no_store_and_failures_are_not_cached(http_server):
    run_times(
        {"method": "GET", "url": f"{http_server.url}/hit/c5?cache_control=no-store", "cache": {"ttl": 60}}
    )
    assert http_server.count("c5") == 2
    run_times(
        {"method": "GET", "url": f"{http_server.url}/hit/c5b?cache_control=max-age=0", "cache": {"ttl": 60}}
    )
    assert http_server.count("c5b") == 2
    results = run_times(
        {
            "method": "GET",
            "url": f"{http_server.url}/status/404",
            "accept_status": [404],
            "cache": {"ttl": 60},
        }
    )
    assert [step["metrics"]["cached"] for _, step, _ in results] == [False, False]


def test_an_answer_cut_at_the_body_limit_or_setting_cookies_is_not_kept(http_server):
    cut = run_times(
        {
            "method": "GET",
            "url": f"{http_server.url}/large/5000",
            "response_body_limit": 100,
            "cache": {"ttl": 60},
        }
    )
    assert cut[0][0].output_data["call"]["response"]["truncated"] is True
    assert [step["metrics"]["cached"] for _, step, _ in cut] == [False, False]
    cookies = run_times(
        {"method": "GET", "url": f"{http_server.url}/cookies/set?flavour=oat", "cache": {"ttl": 60}}
    )
    assert [step["metrics"]["cached"] for _, step, _ in cookies] == [False, False]


def test_a_request_carrying_a_secret_is_cached_only_when_the_option_says_so(http_server):
    headers = {"Authorization": "Bearer {{secrets.token}}"}
    url = f"{http_server.url}/hit/c6"
    results = run_times(
        {"method": "GET", "url": url, "headers": headers, "cache": {"ttl": 60}}, secrets={"token": SECRET}
    )
    assert http_server.count("c6") == 2
    assert "cached" not in results[1][1]["metrics"]  # not looked up at all: no hit rate figure
    run_times(
        {"method": "GET", "url": url, "headers": headers, "cache": {"ttl": 60, "secrets": True}},
        secrets={"token": SECRET},
    )
    assert http_server.count("c6") == 3


def test_the_nodes_option_wins_over_the_definitions(http_server):
    definition = ApiDefinition(id=1, name="hits", url=f"{http_server.url}/hit/c7", cache={"ttl": 60})
    run_times({"api_id": 1}, apis=(definition,))
    assert http_server.count("c7") == 1  # the definition's cache
    run_times({"api_id": 1, "cache": {"ttl": 60, "methods": []}}, apis=(definition,))
    assert http_server.count("c7") == 3  # the node switched it off


def test_a_bad_option_is_refused_before_the_run_in_one_sentence(http_server):
    from flowdesk.engine.errors import WorkflowInvalidError

    config = {"method": "GET", "url": f"{http_server.url}/hit/c8", "cache": {"ttl": -1}}
    with pytest.raises(WorkflowInvalidError) as refused:
        run_times(config, 1)
    assert str(refused.value).endswith(
        "node 'call', config.cache: ttl: expected a number above 0 and at most 31,536,000, found the number -1"
    )
    assert http_server.count("c8") == 0
    for wrong, said in (
        (
            {"ttl": 5, "persits": True},
            "persits: not one of its fields (ttl, methods, vary, persist, secrets)",
        ),
        ({}, "ttl: missing"),
    ):
        problems = [p.message for p in validate_graph(graph({**config, "cache": wrong}))]
        assert any(said in message for message in problems), problems
    with pytest.raises(ValueError, match="ttl: missing"):
        ApiDefinition(name="x", url="http://127.0.0.1/", cache={"persist": True})


def _answer(size: int, expires_at: float = 2e9) -> CachedAnswer:
    return CachedAnswer(200, "OK", {}, b"x" * size, "http://h/", "GET", "HTTP/1.1", 1.0, 0.0, expires_at)


def test_the_memory_cache_is_bounded_by_entries_and_bytes_least_recently_used_first():
    cache = ResponseCache(max_entries=3, max_bytes=10_000)
    for key in "abc":
        cache.put(key, _answer(100))
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("d", _answer(100))
    assert [k for k in "abcd" if cache.get(k) is not None] == ["a", "c", "d"]
    cache.put("e", _answer(9_000))  # a (least recent) goes for the entries, c and d for the bytes
    assert cache.size_bytes <= 10_000 and len(cache) == 1 and cache.get("e") is not None
    assert cache.put("huge", _answer(20_000)) is False and cache.get("huge") is None
    cache.put("old", _answer(10, expires_at=1.0))
    assert cache.get("old") is None and len(cache) <= 3


# -- kept in the database across runs ----------------------------------------------------------------


def _hit(server, key: str, **cache: Any) -> dict[str, Any]:
    """An API_CALL config: GET the server's counter `key`, cached 600 s with `cache`'s settings."""
    return {"method": "GET", "url": f"{server.url}/hit/{key}", "cache": {"ttl": 600, **cache}}


def _stored(db, config: dict[str, Any], name: str) -> int:
    from flowdesk.services.workflows import WorkflowService

    workflow_id = WorkflowService(db).create_from_graph(graph(config, name)).workflow.id
    assert workflow_id is not None
    return workflow_id


def _run_stored(db, workflow_id: int, secrets: dict[str, str] | None = None):
    """One run in a fresh executor (an empty memory cache): the handle and the call's step row."""

    async def main():
        async with WorkflowExecutor(db=db, load_plugins=False, secrets=secrets or {}) as executor:
            handle = await executor.execute_workflow(workflow_id, {})
            logs = await handle.logs()
            return handle, next(log for log in logs if log.step_name == "call")

    return asyncio.run(main())


def _file_bytes(path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())


def test_persisted_answers_serve_a_later_engine_and_the_cli_clears_them(http_server, tmp_path, capsys):
    from flowdesk.cli import main
    from flowdesk.services.response_cache import ResponseCacheService
    from flowdesk.store import Database

    path = tmp_path / "cache.db"
    db = Database(path)
    kept = _stored(db, _hit(http_server, "p1", persist=True), "kept")
    memory = _stored(db, _hit(http_server, "p2"), "memory only")
    for workflow_id in (kept, memory, kept, memory):
        handle, step = _run_stored(db, workflow_id)
        assert handle.status == "completed"
    assert (http_server.count("p1"), http_server.count("p2")) == (1, 2)
    assert step.metrics["cached"] is False
    handle, step = _run_stored(db, kept)
    assert step.metrics["cached"] is True and step.output_data["response"]["cached"] is True
    assert step.output_data["response"]["data"] == {"key": "p1", "count": 1}
    service = ResponseCacheService(db)
    assert (service.count(kept), service.count(memory)) == (1, 0)
    from flowdesk.services.monitoring import MonitorQueries

    rates = MonitorQueries(db).cache_hit_rates(kept)
    assert rates == {
        "call": {"lookups": 3, "hits": 2, "rate": 2 / 3},
        "": {"lookups": 3, "hits": 2, "rate": 2 / 3},
    }
    assert MonitorQueries(db).cache_hit_rates(memory)["call"] == {"lookups": 2, "hits": 0, "rate": 0.0}

    assert main(["cache", "clear", "--workflow", "kept", "--db", str(path)]) == 0
    assert capsys.readouterr().out.strip() == "Deleted 1 cached answer of workflow 'kept'."
    _run_stored(db, kept)
    assert http_server.count("p1") == 2
    assert main(["cache", "clear", "--db", str(path)]) == 0
    assert "Deleted 1 cached answer." in capsys.readouterr().out
    assert main(["cache", "clear", "--workflow", "nope", "--db", str(path)]) != 0
    err = capsys.readouterr().err
    assert "nope" in err and "Traceback" not in err
    db.close()


def test_a_secret_bearing_request_kept_with_secrets_true_leaves_no_secret_in_the_file(http_server, tmp_path):
    from flowdesk.store import Database

    path = tmp_path / "secret.db"
    db = Database(path)
    config = {
        "method": "GET",
        "url": f"{http_server.url}/hit/p3",
        "query": {"token_hint": "{{secrets.token}}"},
        "headers": {"Authorization": "Bearer {{secrets.token}}"},
        "cache": {"ttl": 600, "persist": True, "secrets": True},
    }
    workflow_id = _stored(db, config, "secret")
    _run_stored(db, workflow_id, {"token": SECRET})
    handle, step = _run_stored(db, workflow_id, {"token": SECRET})
    assert step.metrics["cached"] is True and http_server.count("p3") == 1
    _run_stored(db, workflow_id, {"token": SECRET + "-other"})  # another secret: another key
    assert http_server.count("p3") == 2
    db.close()
    raw = _file_bytes(path)
    assert b"/hit/p3" in raw  # the kept answer's row is in these bytes...
    assert SECRET.encode() not in raw  # ...and the secret is not, in the key or anywhere else


def test_a_database_cache_that_fails_costs_the_step_only_a_warning(http_server, tmp_path):
    import sqlite3

    from flowdesk.store import Database

    path = tmp_path / "broken.db"
    db = Database(path)
    workflow_id = _stored(db, _hit(http_server, "p4", persist=True), "broken")
    with sqlite3.connect(path) as raw:  # a damaged database: the cache's table is gone
        raw.execute("DROP TABLE response_cache")
    raw.close()
    lines: list[str] = []

    async def main():
        async with WorkflowExecutor(db=db, load_plugins=False) as executor:
            executor.subscribe(lambda e: lines.append(e.message) if isinstance(e, LogLine) else None)
            return await executor.execute_workflow(workflow_id, {})

    handle = asyncio.run(main())
    assert handle.status == "completed" and http_server.count("p4") == 1
    assert "the response cache in the database could not be read (OperationalError)" in lines
    assert "the response cache in the database could not be written (OperationalError)" in lines
    db.close()


def test_a_poll_of_a_cached_api_asks_the_server_every_time(http_server):
    definition = ApiDefinition(id=1, name="job", url=f"{http_server.url}/hit/poll1", cache={"ttl": 600})
    config = {"api_id": 1, "until": "poll.attempt == 3", "interval": 0}

    async def main():
        async with WorkflowExecutor(load_plugins=False) as executor:
            nodes = [
                Node(name="start", node_type="START"),
                Node(name="call", node_type="POLL", config=config),
                Node(name="end", node_type="END"),
            ]
            connections = [
                Connection(from_node="start", to_node="call"),
                Connection(from_node="call", to_node="end"),
            ]
            graph = WorkflowGraph(workflow=Workflow(name="poll"), nodes=nodes, connections=connections)
            return await executor.execute_graph(graph, {}, apis=[definition])

    handle = asyncio.run(main())
    assert handle.status == "completed"
    assert handle.output_data["call"]["attempts"] == 3 and http_server.count("poll1") == 3
    step = next(s for s in handle.steps if s["step_name"] == "call")
    assert "cached" not in step["metrics"]
