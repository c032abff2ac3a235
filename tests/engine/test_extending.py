"""Events, plugins (hooks, a raising plugin, entry points), custom node handlers, secrets masking."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

from flowdesk.engine import registry as registry_module
from flowdesk.engine.events import EventBus
from flowdesk.engine.masking import SecretMasker
from flowdesk.engine.plugins import WorkflowPlugin, discover_plugins
from tests.support.graph_builder import executor, graph, steps


def _small():
    return graph(
        [
            ("s", "START"),
            ("a", "ECHO", {"value": "{{input.x}}"}),
            ("bad", "FAIL"),
            ("h", "ECHO"),
            ("e", "END"),
        ],
        [("s", "a"), ("a", "bad"), ("bad", "h", "ERROR"), ("h", "e")],
    )


def test_events_cover_the_run_and_each_node():
    async def main():
        ex = executor()
        seen = []
        ex.subscribe(seen.append)
        h = await ex.execute_graph(_small(), {"x": 1})
        return h, seen

    h, seen = asyncio.run(main())
    kinds = [e.kind for e in seen]
    assert kinds[0] == "execution_started" and kinds[-1] == "execution_finished"
    started = [e.step_name for e in seen if e.kind == "node_started"]
    finished = {e.step_name: e for e in seen if e.kind == "node_finished"}
    assert started == ["s", "a", "bad", "h", "e"]
    assert finished["a"].status == "success" and finished["a"].output == {"value": 1}
    assert (
        finished["bad"].status == "failed"
        and finished["bad"].error == "boom"
        and finished["bad"].attempts == 1
    )
    assert finished["a"].taken == ("bad",)
    assert any(e.kind == "log" and "boom" in e.message for e in seen)
    assert seen[-1].status == "completed"


def test_a_listener_that_raises_is_logged_and_ignored(caplog):
    async def main():
        ex = executor()

        def broken(event):
            raise RuntimeError("listener bug")

        ex.subscribe(broken)
        return await ex.execute_graph(_small(), {"x": 1})

    with caplog.at_level(logging.ERROR):
        h = asyncio.run(main())
    assert h.status == "completed"
    assert "listener" in caplog.text


def test_async_listeners_run_and_unsubscribe_stops_delivery():
    bus = EventBus()
    got = []

    async def listener(event):
        got.append(event)

    async def main():
        off = bus.subscribe(listener)
        bus.emit(SimpleNamespace(kind="x"))
        await bus.drain()
        off()
        bus.emit(SimpleNamespace(kind="y"))
        await bus.drain()

    asyncio.run(main())
    assert [e.kind for e in got] == ["x"]


class RecordingPlugin(WorkflowPlugin):
    def __init__(self):
        self.calls = []

    async def before_execution(self, workflow_id, input_data):
        self.calls.append(("before", input_data))

    async def after_execution(self, execution_id, result):
        self.calls.append(("after", result["status"], result["output_data"]))

    async def on_node_execution(self, node_id, context):
        self.calls.append(("node", node_id, context.step_name))


class RaisingPlugin(WorkflowPlugin):
    async def before_execution(self, workflow_id, input_data):
        raise RuntimeError("plugin bug before")

    async def on_node_execution(self, node_id, context):
        raise ValueError("plugin bug node")

    async def after_execution(self, execution_id, result):
        raise KeyError("plugin bug after")


def test_plugin_hooks_are_called_and_a_raising_plugin_never_breaks_a_run(caplog):
    recording = RecordingPlugin()
    g = graph([("s", "START"), ("a", "ECHO", {"value": 2}), ("e", "END")], [("s", "a"), ("a", "e")])

    async def main():
        ex = executor()
        ex.register_plugin(RaisingPlugin())
        ex.register_plugin(recording)
        return await ex.execute_graph(g, {"in": 1})

    with caplog.at_level(logging.ERROR):
        h = asyncio.run(main())
    assert h.status == "completed"
    assert recording.calls == [
        ("before", {"in": 1}),
        ("node", "s", "s"),
        ("node", "a", "a"),
        ("node", "e", "e"),
        ("after", "completed", {"s": {"in": 1}, "a": {"value": 2}}),
    ]
    assert (
        "plugin bug before" in caplog.text
        and "plugin bug node" in caplog.text
        and "plugin bug after" in caplog.text
    )


def test_plugins_and_node_handlers_are_discovered_through_entry_points():
    class EP:
        def __init__(self, name, value, loaded=None, error=None):
            self.name, self.value, self._loaded, self._error = name, value, loaded, error

        def load(self):
            if self._error:
                raise self._error
            return self._loaded

    found = discover_plugins(
        [EP("rec", "x:Rec", RecordingPlugin), EP("broken", "y:Z", error=ImportError("gone"))]
    )
    assert len(found) == 1 and isinstance(found[0], RecordingPlugin)

    async def custom(ctx):
        return {"custom": True}

    reg = registry_module.HandlerRegistry()
    registry_module._load_entry_points(
        reg, [EP("FROM_PACKAGE", "pkg:handle", custom), EP("BROKEN", "b:c", error=ImportError("x"))]
    )
    assert reg.types() == {"FROM_PACKAGE"}


def test_an_installed_package_s_plugin_and_node_type_are_found_in_one_reading_of_the_packages(tmp_path):
    """A package installed with both entry-point groups: a fresh process finds its plugin (each
    executor) and its node type (the default registry), and reads the installed packages once."""
    site = tmp_path / "site"
    info = site / "flowdesk_probe-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: flowdesk-probe\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[flowdesk.plugins]\nprobe = flowdesk_probe:Probe\n\n[flowdesk.node_handlers]\nPROBE = flowdesk_probe:handle\n",
        encoding="utf-8",
    )
    (site / "flowdesk_probe.py").write_text(
        "from flowdesk.engine.plugins import WorkflowPlugin\n\n"
        "class Probe(WorkflowPlugin):\n    name = 'probe'\n\n"
        "async def handle(ctx):\n    return {'probed': True}\n",
        encoding="utf-8",
    )
    script = textwrap.dedent(
        """
        import asyncio, importlib.metadata as metadata
        readings = []
        real = metadata.entry_points  # each call reads every installed package's entry points
        metadata.entry_points = lambda **kw: readings.append(1) or real(**kw)
        from flowdesk.engine.executor import WorkflowExecutor
        from flowdesk.engine.registry import default_registry

        async def main():
            first = WorkflowExecutor(load_plugins=True)
            second = WorkflowExecutor(load_plugins=True)
            names = [[p.name for p in ex.plugins.plugins] for ex in (first, second)]
            await first.aclose()
            await second.aclose()
            return names

        print(asyncio.run(main()), "PROBE" in default_registry().types(), len(readings))
        """
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(Path(__file__).resolve().parents[2])]))
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[0] == "[['probe'], ['probe']] True 1"


def test_custom_node_handler_registered_globally_runs():
    async def processor(ctx):
        data = ctx.render(ctx.config.get("data"))
        ctx.record_metric("processing_time", 0.5)
        ctx.log("info", "processed")
        return {"upper": str(data).upper()}

    registry_module.register_node_handler("CUSTOM_PROCESSOR", processor)
    try:
        g = graph(
            [("s", "START"), ("p", "CUSTOM_PROCESSOR", {"data": "{{input.name}}"}), ("e", "END")],
            [("s", "p"), ("p", "e")],
        )

        async def main():
            return await executor().execute_graph(g, {"name": "ada"})

        h = asyncio.run(main())
    finally:
        registry_module.default_registry().unregister("CUSTOM_PROCESSOR")
    assert steps(h)["p"]["output_data"] == {"upper": "ADA"}
    assert steps(h)["p"]["metrics"] == {"processing_time": 0.5}


def test_sync_handlers_are_wrapped():
    reg = registry_module.HandlerRegistry()
    reg.register("SYNC", lambda ctx: {"ok": 1})
    assert asyncio.run(reg.kind("SYNC").handle(None)) == {"ok": 1}


def test_masker_replaces_secret_values_everywhere_recursively():
    mask = SecretMasker(["s3cr3t", "ab", "tok-123", None, True])
    value = {"a": "Bearer s3cr3t", "list": ["x tok-123 y", 5, {"deep": "s3cr3ts3cr3t"}], "s3cr3t": "ab cd"}
    assert mask(value) == {"a": "Bearer ***", "list": ["x *** y", 5, {"deep": "******"}], "***": "ab cd"}
    assert SecretMasker([])(value) is value


def test_secrets_are_masked_in_step_rows_logs_events_and_output():
    async def leak(ctx):
        ctx.log("info", f"using {ctx.render('{{secrets.API_KEY}}')}")
        raise_it = ctx.config.get("fail")
        if raise_it:
            from flowdesk.engine.errors import NodeFailure

            raise NodeFailure(f"denied for key {ctx.render('{{secrets.API_KEY}}')}")
        return {"header": ctx.render("Bearer {{secrets.API_KEY}}"), "env": ctx.render("{{env.REGION}}")}

    g = graph(
        [("s", "START"), ("l", "LEAK"), ("f", "LEAK", {"fail": True}), ("e", "END")],
        [("s", "l"), ("l", "f"), ("f", "e", "ERROR")],
    )

    async def main():
        ex = executor(secrets={"API_KEY": "sk-very-secret"}, environment={"REGION": "eu"})
        ex.register_node_handler("LEAK", leak)
        seen = []
        ex.subscribe(seen.append)
        h = await ex.execute_graph(g, {"note": "sk-very-secret in input"})
        return h, seen

    h, seen = asyncio.run(main())
    assert h.status == "completed"
    text = repr(h.steps) + repr(seen) + repr(h.output_data) + repr(h.error_message)
    assert "sk-very-secret" not in text
    assert steps(h)["l"]["output_data"] == {"header": "Bearer ***", "env": "eu"}
    assert steps(h)["f"]["error_message"] == "denied for key ***"
    assert any(getattr(e, "message", "") == "using ***" for e in seen)


def test_secrets_are_masked_in_the_database(db):
    from flowdesk.services.executions import ExecutionService
    from tests.support.stored_graph import store_graph

    stored = store_graph(
        db,
        graph(
            [("s", "START"), ("x", "ECHO", {"value": "{{secrets.TOKEN}}!"}), ("e", "END")],
            [("s", "x"), ("x", "e")],
        ),
    )

    async def main():
        ex = executor(db=db, secrets={"TOKEN": "abc-xyz-123"})
        try:
            return await ex.execute_workflow(stored.workflow.id, {"t": "abc-xyz-123"})
        finally:
            await ex.aclose()

    h = asyncio.run(main())
    service = ExecutionService(db)
    dumped = repr(service.get_execution(h.id)) + repr(service.get_logs(h.id))
    assert "abc-xyz-123" not in dumped
    assert {log.step_name: log.output_data for log in service.get_logs(h.id)}["x"] == {"value": "***!"}


def test_debug_mode_logs_resolved_inputs():
    async def main():
        ex = executor(debug=True)
        lines = []
        ex.subscribe(lambda e: lines.append(e) if e.kind == "log" else None)
        await ex.execute_graph(_small(), {"x": 9})
        return lines

    lines = asyncio.run(main())
    assert any(e.level == "debug" and "'value': 9" in e.message for e in lines)


def test_a_custom_handler_registered_with_a_config_schema_has_it_enforced_before_the_run():
    """The seed's short form on a Python-registered type: a wrong or missing field stops the run
    before anything runs, one sentence naming node and field; a fitting config runs."""
    from flowdesk.engine.errors import WorkflowInvalidError

    async def processor(ctx):
        return {"kind": ctx.config["processor_type"], "n": len(ctx.config["parameters"])}

    def build(config):
        return graph(
            [("s", "START"), ("p", "DATA_PROCESSOR", config), ("e", "END")], [("s", "p"), ("p", "e")]
        )

    async def main(config):
        ex = executor()
        ex.register_node_handler(
            "DATA_PROCESSOR", processor, config_schema={"processor_type": "string", "parameters": "object"}
        )
        try:
            return await ex.execute_graph(build(config), {})
        finally:
            await ex.aclose()

    try:
        asyncio.run(main({"processor_type": 3}))
    except WorkflowInvalidError as exc:
        refused = str(exc)
    else:
        raise AssertionError("a config that does not fit the schema ran")
    assert refused == (
        "workflow 'w' cannot run: 2 problem(s): "
        "node 'p', config.parameters: a DATA_PROCESSOR needs a parameters (an object); "
        "node 'p', config.processor_type: expected text, found the number 3"
    )
    h = asyncio.run(main({"processor_type": "csv", "parameters": {"a": 1}}))
    assert h.status == "completed" and steps(h)["p"]["output_data"] == {"kind": "csv", "n": 1}


def test_an_unusable_config_schema_is_refused_at_registration():
    reg = registry_module.HandlerRegistry()
    try:
        reg.register("BAD", lambda ctx: {}, config_schema={"n": "whole"})
    except ValueError as exc:
        assert "config_schema.n: 'whole' is not a type" in str(exc)
    else:
        raise AssertionError("an unusable schema was accepted")


def test_a_fault_while_tidying_up_after_the_end_never_leaves_the_run_waiting(monkeypatch, caplog):
    """A bug in what follows the recorded end (freeing the run) is logged; wait() still returns."""
    from flowdesk.engine import scheduler

    def broken_release(self):
        raise NameError("name '_MISSING' is not defined")  # the fault a rename once caused here

    monkeypatch.setattr(scheduler.Run, "release", broken_release)
    g = graph([("s", "START"), ("e", "END")], [("s", "e")])

    async def main():
        h = await executor().execute_graph(g, {"in": 1}, config={"async": True})
        await asyncio.wait_for(h.wait(), 60)
        return h

    with caplog.at_level(logging.ERROR):
        h = asyncio.run(main())
    assert h.status == "completed" and "tidying up after its end failed" in caplog.text
