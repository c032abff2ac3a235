"""Start-up benchmark: how long `flowdesk --help`, `flowdesk run` of START→END, the app's window
and a 2,000-node file drawn take from process start, each next to two baselines run in the same
rounds: `python -c pass` and `python -c "import PySide6.QtWidgets"`.

Run: `python benchmarks/bench_startup.py [--runs 7]` (prints medians, the ratios to both baselines
and the targets; nothing is asserted). Each round runs every command once, in turn, so a change in
the machine's load touches all of them alike. `flowdesk` is run as `python -m flowdesk` (what the
console script does, without a launcher such as pyenv's shim in front). The window is measured on
the offscreen platform up to the first paint of the canvas (the app with `--db` and a file, as a
user starts it), in a throw-away home, settings and data folder.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGETS_S = {
    "flowdesk --help": 0.25,
    "flowdesk run START→END": 0.5,
    "window": 1.5,
    "2,000-node file drawn": 2.0,
}

# Runs the real `flowdesk` entry point; prints DRAWN once the canvas has been painted, then leaves.
# The app module is patched once the entry point has imported it (after the layers below ui/, in
# the entry point's order: cli.open_app), not imported here first, which would change that order.
WINDOW_DRIVER = """
import os, sys
import flowdesk.cli as cli

real_import_modules = cli.import_modules

def import_then_patch(modules):
    real_import_modules(modules)
    app_module = sys.modules.get("flowdesk.ui.app")
    if app_module is not None and app_module.run_event_loop is not run_until_drawn:
        global real_loop
        real_loop = app_module.run_event_loop
        app_module.run_event_loop = run_until_drawn

def run_until_drawn(app, window):
    from PySide6.QtCore import QEvent, QObject, QTimer

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint:
                QTimer.singleShot(0, done)
            return False

    def done():
        sys.stdout.write("DRAWN\\n")
        sys.stdout.flush()
        os._exit(0)

    tab = window.current_tab()
    target = tab.view.viewport() if tab is not None else window
    watcher = FirstPaint(target)
    target.installEventFilter(watcher)
    return real_loop(app, window)

cli.import_modules = import_then_patch
raise SystemExit(cli.main(sys.argv[1:]))
"""

START_END = (
    '{"flowdesk": 1, "workflow": {"name": "start-end"}, "nodes": ['
    '{"name": "start", "node_type": "START", "position_x": 0, "position_y": 0},'
    '{"name": "end", "node_type": "END", "position_x": 300, "position_y": 0}],'
    '"connections": [{"from": "start", "to": "end"}]}'
)


def timed(argv: list[str], env: dict[str, str], until: str | None = None) -> float:
    """Seconds from starting `argv` to its exit (or to the line `until` on its stdout)."""
    started = time.perf_counter()
    if until is None:
        done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(
                f"{' '.join(argv[:4])}… failed ({done.returncode}): {done.stderr.decode()[-500:]}"
            )
        return elapsed
    with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == until:
                elapsed = time.perf_counter() - started
                proc.wait(timeout=60)
                return elapsed
        err = proc.stderr.read() if proc.stderr else ""
        raise SystemExit(f"{' '.join(argv[:4])}… ended without {until}: {err[-800:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="rounds (default 7)")
    args = parser.parse_args()
    from bench_interchange import generate

    work = Path(tempfile.mkdtemp(prefix="flowdesk-startup-"))
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(ROOT),
        HOME=str(work),
        XDG_CONFIG_HOME=str(work / "config"),
        XDG_DATA_HOME=str(work / "data"),
        XDG_CACHE_HOME=str(work / "cache"),
        QT_QPA_PLATFORM="offscreen",
        FLOWDESK_KEYRING="0",
    )
    env.pop("FLOWDESK_DB", None)
    start_end = work / "start-end.json"
    start_end.write_text(START_END, encoding="utf-8")
    big = work / "big.json"
    big.write_text(generate(2000, 3000), encoding="utf-8")
    example = ROOT / "resources" / "examples" / "conditional.json"
    py = sys.executable
    run_db = work / "run.db"
    timed([py, "-m", "flowdesk", "run", str(start_end), "--db", str(run_db)], env)  # schema made, stored once

    commands: dict[str, tuple[list[str], str | None]] = {
        "python -c pass": ([py, "-c", "pass"], None),
        "python -c 'import PySide6.QtWidgets'": ([py, "-c", "import PySide6.QtWidgets"], None),
        "flowdesk --help": ([py, "-m", "flowdesk", "--help"], None),
        "flowdesk run START→END": ([py, "-m", "flowdesk", "run", str(start_end), "--db", str(run_db)], None),
        "window": ([py, "-c", WINDOW_DRIVER, "--db", str(work / "app.db"), str(example)], "DRAWN"),
        "2,000-node file drawn": ([py, "-c", WINDOW_DRIVER, "--db", str(work / "big.db"), str(big)], "DRAWN"),
    }
    for argv, until in commands.values():  # an untimed round: databases made, caches warm
        timed(argv, env, until)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(args.runs):
        for name, (argv, until) in commands.items():
            samples[name].append(timed(argv, env, until))
        print(f"round {round_ + 1}/{args.runs} done", file=sys.stderr)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    bare, qt = medians["python -c pass"], medians["python -c 'import PySide6.QtWidgets'"]
    load = os.getloadavg()
    print(f"median of {args.runs} rounds; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(f"{'command':40} {'median':>8} {'range':>15} {'× pass':>7} {'× Qt':>6} {'target':>7}")
    for name, values in samples.items():
        target = TARGETS_S.get(name)
        print(
            f"{name:40} {medians[name]:7.3f}s {min(values):6.3f}–{max(values):6.3f}s "
            f"{medians[name] / bare:6.1f}× {medians[name] / qt:5.1f}× "
            + (f"{target:6.2f}s" if target else "")
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
