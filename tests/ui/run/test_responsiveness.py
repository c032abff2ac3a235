"""The GUI thread stays responsive during long runs: a 10 ms QTimer heartbeat while 1,000 nodes run,
or while 200 API calls are in flight (the issue's two cases).

Two gaps are measured between ticks, each under 50 ms: the GUI thread's own CPU time
(`time.thread_time`), which is what our code and the engine on the loop cost the GUI thread; and
wall-clock time, which also counts the time the OS and the GIL gave to other threads and processes
(the engine's writer thread, the step sink, the test server, and on a busy machine everything else).

Both gaps are speed figures, asserted by the `perf` tests (`pytest -m perf`, on a quiet machine).
Neither holds on a busy one: with a CPU burner on each core and a load of 12, the 1,000-node run
measured a wall gap of 1,019 ms and a GUI-thread CPU gap of 92 ms (the CPU a thread is charged
grows too when it shares the cores). The default run keeps what does not depend on the machine:
the runs end as they should, the GUI thread ticks all along, and events reach it coalesced.
docs/run-debug.md gives the figures."""

from __future__ import annotations

import gc
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from flowdesk.domain.enums import ConnectionType, NodeType
from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph
from tests.support.app_driving import action, chain_graph, delay, give_input, open_graph
from tests.support.waiting import EVENTUALLY

MAX_GAP = 0.050
EVENTUALLY_MS = int(EVENTUALLY * 1000)
# The 1,000-node run with the GUI mirroring every node is heavy work: on a busy machine (a load of
# 16 on 2 cores) it took over 60 s, so its waits (and the test's own time limit) are wider still.
THOUSAND_NODES_MS = 400_000
WALL_GAP = 0.050


class Heartbeat:
    """Ticks every 10 ms on the GUI thread and remembers the longest gap between two ticks."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self.tick)
        self.last = 0.0
        self.last_cpu = 0.0
        self.max_cpu_gap = 0.0
        self.max_gap = 0.0
        self.gaps: list[tuple[float, float]] = []  # (gap, seconds since start) over 30 ms
        self.ticks = 0

    def start(self) -> None:
        self.t0 = self.last = time.perf_counter()
        self.last_cpu = time.thread_time()
        self.timer.start()

    def tick(self) -> None:
        now = time.perf_counter()
        cpu = time.thread_time()
        self.max_cpu_gap = max(self.max_cpu_gap, cpu - self.last_cpu)
        self.last_cpu = cpu
        if now - self.last > 0.03:
            self.gaps.append((round(now - self.last, 3), round(now - self.t0, 3)))
        self.max_gap = max(self.max_gap, now - self.last)
        self.last = now
        self.ticks += 1

    def check(self) -> None:
        """Assert both gaps (see the module docstring)."""
        print(
            f"heartbeat: {self.ticks} ticks, max wall gap {self.max_gap * 1000:.0f} ms, "
            f"max GUI-thread CPU gap {self.max_cpu_gap * 1000:.0f} ms, load {os.getloadavg()[0]:.1f}"
        )
        detail = f"wall gaps over 30 ms (gap, at s): {self.gaps}; load {os.getloadavg()[0]:.1f}"
        assert self.max_cpu_gap < MAX_GAP, (
            f"the GUI thread worked {self.max_cpu_gap * 1000:.0f} ms between ticks"
        )
        assert self.max_gap < WALL_GAP, f"a tick waited {self.max_gap * 1000:.0f} ms; {detail}"

    def stop(self) -> None:
        self.timer.stop()
        self.tick()


def collect_earlier_tests_garbage() -> None:
    """A whole test session leaves far more garbage than an app session has: collect it first, so
    the heartbeat measures this run, not a collection of 1,300 earlier tests' objects."""
    gc.collect()


def run_with_heartbeat(qtbot, window, tab, timeout: int = EVENTUALLY_MS):
    collect_earlier_tests_garbage()
    controller = window.run_ui.controller(tab)
    action(window, "actionRun").trigger()
    beat = Heartbeat()
    controller.run_started.connect(lambda _state: beat.start())
    with qtbot.waitSignal(controller.run_finished, timeout=timeout):
        give_input(qtbot, window)
    beat.stop()
    return controller, beat


def _thousand_node_run(window, qtbot) -> Heartbeat:
    nodes = [delay(f"d{i}", 0.001) for i in range(998)]
    tab = open_graph(window, chain_graph("thousand", nodes))
    tab.fit_to_view()
    controller, beat = run_with_heartbeat(qtbot, window, tab, timeout=THOUSAND_NODES_MS)
    assert controller.live.status == "completed"
    assert len(controller.live.nodes) == 1000
    qtbot.waitUntil(lambda: not controller.overlay.pending, timeout=EVENTUALLY_MS)
    assert len(controller.overlay.badges) == 1000
    adapter = window.run_ui.host.adapter
    assert adapter.batches < 1000  # coalesced: far fewer batches than the 2,000+ events
    assert beat.ticks > 10
    return beat


@pytest.mark.timeout(600)
def test_a_thousand_node_run_keeps_the_gui_ticking_and_its_events_coalesced(window, qtbot):
    _thousand_node_run(window, qtbot)


@pytest.mark.perf
@pytest.mark.timeout(600)
def test_a_thousand_node_run_never_blocks_the_gui_for_50_ms(window, qtbot):
    _thousand_node_run(window, qtbot).check()


@pytest.fixture
def server_in_its_own_process():
    """The local test server in a process of its own: in this process its 200 concurrent answers
    would take the GIL from the GUI thread, and the heartbeat would measure the test, not the app
    (whose API servers are elsewhere)."""
    root = Path(__file__).resolve().parents[3]
    # The port is free when picked, but another process may take it before the server binds it:
    # then the server exits, and it is started again on another port.
    for _attempt in range(5):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.http_server", "--port", str(port)],
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if _accepts_connections(proc, port):
            break
        proc.wait(timeout=EVENTUALLY)
    else:
        raise RuntimeError("the local test server did not start (five free ports tried)")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=EVENTUALLY)


def _accepts_connections(proc: subprocess.Popen, port: int) -> bool:
    """Wait until the server on `port` accepts a connection (True) or its process has ended (False)."""
    deadline = time.monotonic() + EVENTUALLY  # a busy machine starts Python slowly
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            if proc.poll() is not None:
                return False
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("the local test server did not start") from None
            time.sleep(0.05)  # a poll: the server process has no way to tell us it is listening


def _200_api_calls_in_flight(window, qtbot, server_url: str) -> Heartbeat:
    nodes = [
        Node(name="start", node_type=NodeType.START, position_x=0, position_y=0),
        Node(name="fan out", node_type=NodeType.PARALLEL, config={"max_concurrent": 0}, position_x=260),
        Node(name="end", node_type=NodeType.END, position_x=780, position_y=0),
    ]
    conns = [Connection(from_node="start", to_node="fan out"), Connection(from_node="fan out", to_node="end")]
    for i in range(200):
        name = f"call {i}"
        nodes.append(
            Node(
                name=name,
                node_type=NodeType.API_CALL,
                # 3 s: all 200 are in flight together even when a busy machine starts them slowly
                config={"method": "GET", "url": f"{server_url}/delay/3"},
                position_x=520,
                position_y=90 * i,
            )
        )
        conns.append(Connection(from_node="fan out", to_node=name, connection_type=ConnectionType.PARALLEL))
    tab = open_graph(window, WorkflowGraph(workflow=Workflow(name="fan"), nodes=nodes, connections=conns))
    collect_earlier_tests_garbage()
    controller = window.run_ui.controller(tab)
    action(window, "actionRun").trigger()
    beat = Heartbeat()
    give_input(qtbot, window)
    # all 200 branches lit at the same time: the calls are in flight together. The heartbeat
    # measures from here (the engine's fan-out of 200 branch starts comes before: see
    # docs/run-debug.md, "Responsiveness").
    qtbot.waitUntil(lambda: len(controller.overlay.highlights) >= 200, timeout=EVENTUALLY_MS)
    beat.start()
    assert not controller.live.done
    with qtbot.waitSignal(controller.run_finished, timeout=EVENTUALLY_MS):
        pass
    beat.stop()
    assert controller.live.status == "completed"
    assert all(controller.live.nodes[f"call {i}"].status == "success" for i in range(200))
    return beat


def test_200_api_calls_in_flight_end_together_with_the_gui_ticking(window, qtbot, server_in_its_own_process):
    beat = _200_api_calls_in_flight(window, qtbot, server_in_its_own_process)
    assert beat.ticks > 10


@pytest.mark.perf
def test_200_api_calls_in_flight_never_block_the_gui_for_50_ms(window, qtbot, server_in_its_own_process):
    _200_api_calls_in_flight(window, qtbot, server_in_its_own_process).check()
