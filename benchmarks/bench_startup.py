"""Start-up benchmark: how long `flowdesk --help`, `flowdesk run` of START→END, the app's window
and a 2,000-node file drawn take from process start, each next to two baselines run in the same
rounds: `python -c pass` and `python -c "import PySide6.QtWidgets"`.

Run: `python benchmarks/bench_startup.py [--runs 7] [--against ../main] [--only run,help]` (prints medians, the ratios
to both baselines and the targets; nothing is asserted). Each round runs every command once, in
turn, so a change in the machine's load touches all of them alike; `--against TREE` times another
checkout's flowdesk commands in the same rounds too (a before/after on a busy machine). Beside
each wall-time median is the median CPU time (user + system) of the process, with its ratios to
the baselines' CPU time: on a busy machine the wall time is mostly the wait for a core.

The 2,000-node file has positions for every node (the ordinary case). A row of its own opens the
same file as generated, with START and END on one spot: two stacked nodes make the editor lay the
whole file out on open (issue 13, item 3), which that row includes; it has no target. `flowdesk` is run as `python -m flowdesk` (what the
console script does, without a launcher such as pyenv's shim in front). The window is measured on
the offscreen platform up to the first paint of the canvas (the app with `--db` and a file, as a
user starts it), in a throw-away home, settings and data folder. Modules are loaded from compiled
files (written once, in the untimed first round, under that folder: `PYTHONPYCACHEPREFIX`), even
where `PYTHONDONTWRITEBYTECODE` is set, so a checkout without `__pycache__` folders is not timed
compiling its source.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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

# Runs the real `flowdesk` entry point (cli.entry, what the console script calls; cli.main in a
# tree from before it); prints DRAWN once the canvas has been painted, then leaves.
# The app module is patched once the entry point has imported it (after the layers below ui/, in
# the entry point's order: cli.open_app), not imported here first, which would change that order.
# A tree from before cli.import_modules (an older checkout given with --against) gets it patched
# up front, as this benchmark always did there.
WINDOW_DRIVER = """
import os, sys
import flowdesk.cli as cli

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

def patch(app_module):
    global real_loop
    real_loop = app_module.run_event_loop
    app_module.run_event_loop = run_until_drawn

if hasattr(cli, "import_modules"):
    real_import_modules = cli.import_modules

    def import_then_patch(modules):
        real_import_modules(modules)
        app_module = sys.modules.get("flowdesk.ui.app")
        if app_module is not None and app_module.run_event_loop is not run_until_drawn:
            patch(app_module)

    cli.import_modules = import_then_patch
else:
    import flowdesk.ui.app
    patch(flowdesk.ui.app)
if hasattr(cli, "entry"):  # the console script's own start (a tree from before it: main)
    cli.entry()
raise SystemExit(cli.main(sys.argv[1:]))
"""

START_END = (
    '{"flowdesk": 1, "workflow": {"name": "start-end"}, "nodes": ['
    '{"name": "start", "node_type": "START", "position_x": 0, "position_y": 0},'
    '{"name": "end", "node_type": "END", "position_x": 300, "position_y": 0}],'
    '"connections": [{"from": "start", "to": "end"}]}'
)


def timed(argv: list[str], env: dict[str, str], until: str | None = None) -> tuple[float, float]:
    """Seconds from starting `argv` to its exit (or to the line `until` on its stdout), and the
    CPU seconds (user + system) the process used: on a busy machine the wall time mostly measures
    the wait for a core, the CPU time what the command itself costs.

    It runs in the throw-away folder (its HOME): `python -m` puts the current folder first on the
    module path, so started inside a checkout every tree would run that checkout's flowdesk."""
    cwd = env["HOME"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    if until is None:
        done = subprocess.run(
            argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300
        )
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(
                f"{' '.join(argv[:4])}… failed ({done.returncode}): {done.stderr.decode()[-500:]}"
            )
        return elapsed, _cpu_since(before)
    with subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == until:
                elapsed = time.perf_counter() - started
                proc.wait(timeout=60)  # the driver leaves at once: its CPU time is that up to `until`
                return elapsed, _cpu_since(before)
        err = proc.stderr.read() if proc.stderr else ""
        raise SystemExit(f"{' '.join(argv[:4])}… ended without {until}: {err[-800:]}")


def _cpu_since(before: resource.struct_rusage) -> float:
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def with_positions(text: str) -> str:
    """The generated file with its END node placed on a free spot (the generator puts START and END
    both at 0,0, and two nodes on one spot make the editor lay the whole file out on open)."""
    doc = json.loads(text)
    end = next(n for n in doc["nodes"] if n["node_type"] == "END")
    end.update(position_x=0, position_y=120 * 41)
    return json.dumps(doc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="rounds (default 7)")
    parser.add_argument(
        "--against",
        metavar="TREE",
        type=Path,
        help="also time the flowdesk commands of another checkout (e.g. main's) in the same rounds",
    )
    parser.add_argument(
        "--only",
        metavar="WORDS",
        help="time only the commands whose name holds one of these comma-separated words "
        "(e.g. 'run,help'; the two baselines always run)",
    )
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
    # Every tree's modules load from compiled files, as an installed program's do (pip compiles them):
    # written once, in the untimed round, under the throw-away folder (no tree is written to).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    start_end = work / "start-end.json"
    start_end.write_text(START_END, encoding="utf-8")
    stacked = generate(2000, 3000)
    big = work / "big.json"
    big.write_text(with_positions(stacked), encoding="utf-8")
    big_stacked = work / "big-stacked.json"
    big_stacked.write_text(stacked, encoding="utf-8")
    py = sys.executable

    # name -> (argv, line that ends the timing or None for the exit, environment)
    commands: dict[str, tuple[list[str], str | None, dict[str, str]]] = {
        "python -c pass": ([py, "-c", "pass"], None, env),
        "python -c 'import PySide6.QtWidgets'": ([py, "-c", "import PySide6.QtWidgets"], None, env),
    }
    trees = [(ROOT, "")] + ([(args.against.resolve(), f" [{args.against.name}]")] if args.against else [])
    for tree, tag in trees:
        tree_env = {**env, "PYTHONPATH": str(tree)}
        db = work / f"db{len(commands)}"
        db.mkdir()
        example = tree / "resources" / "examples" / "conditional.json"
        commands.update(
            {
                f"flowdesk --help{tag}": ([py, "-m", "flowdesk", "--help"], None, tree_env),
                f"flowdesk run START→END{tag}": (
                    [py, "-m", "flowdesk", "run", str(start_end), "--db", str(db / "run.db")],
                    None,
                    tree_env,
                ),
                f"window{tag}": (
                    [py, "-c", WINDOW_DRIVER, "--db", str(db / "app.db"), str(example)],
                    "DRAWN",
                    tree_env,
                ),
                f"2,000-node file drawn{tag}": (
                    [py, "-c", WINDOW_DRIVER, "--db", str(db / "big.db"), str(big)],
                    "DRAWN",
                    tree_env,
                ),
                f"2,000 stacked nodes laid out, drawn{tag}": (
                    [py, "-c", WINDOW_DRIVER, "--db", str(db / "stacked.db"), str(big_stacked)],
                    "DRAWN",
                    tree_env,
                ),
            }
        )
    if args.only:
        words = [w.strip() for w in args.only.split(",") if w.strip()]
        commands = {
            name: spec
            for name, spec in commands.items()
            if name.startswith("python -c") or any(w in name for w in words)
        }
    for argv, until, command_env in commands.values():  # an untimed round: databases made, caches warm
        timed(argv, command_env, until)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    loads = []
    for round_ in range(args.runs):
        for name, (argv, until, command_env) in commands.items():
            wall, used = timed(argv, command_env, until)
            samples[name].append(wall)
            cpu[name].append(used)
        loads.append(os.getloadavg()[0])
        print(f"round {round_ + 1}/{args.runs} done", file=sys.stderr)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    cpu_medians = {name: statistics.median(values) for name, values in cpu.items()}
    bare, qt = medians["python -c pass"], medians["python -c 'import PySide6.QtWidgets'"]
    bare_cpu = cpu_medians["python -c pass"]
    qt_cpu = cpu_medians["python -c 'import PySide6.QtWidgets'"]
    print(
        f"median of {args.runs} rounds; load average (1 min) after each round: "
        + " ".join(f"{x:.1f}" for x in loads)
    )
    print(
        f"{'command':46} {'median':>8} {'range':>15} {'× pass':>7} {'× Qt':>6} {'target':>7}"
        f" {'CPU':>7} {'× pass':>7} {'× Qt':>6}"
    )
    for name, values in samples.items():
        target = TARGETS_S.get(name)
        print(
            f"{name:46} {medians[name]:7.3f}s {min(values):6.3f}–{max(values):6.3f}s "
            f"{medians[name] / bare:6.1f}× {medians[name] / qt:5.1f}× "
            + (f"{target:6.2f}s" if target else " " * 7)
            + f" {cpu_medians[name]:6.3f}s {cpu_medians[name] / bare_cpu:6.1f}× {cpu_medians[name] / qt_cpu:5.1f}×"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
