#!/usr/bin/env node
/*
 * Node-RED measured on this machine, for issue 15's side-by-side with flowdesk's step core
 * (benchmarks/bench_engine.py --node-red runs this and flowdesk's ephemeral mode in turn). Run by hand:
 *
 *     cd benchmarks/node_red && npm ci --no-audit --no-fund   # once: node-red as pinned in package.json
 *     node benchmarks/node_red/bench.js [--runs 5] [--warmup 5] [--noop junction|change|function] [--gc]
 *
 * The runtime is embedded: require("node-red"), RED.init with a settings object (userDir a fresh
 * temporary folder, removed at the end; httpAdminRoot and httpNodeRoot false and disableEditor: no
 * HTTP server, no editor, no admin API; telemetry and update checks off; console log at "warn"), the
 * two flows written to <userDir>/flows.json before RED.start(), and the timing begun once the runtime
 * has emitted "flows:started".
 *
 * The flows, on two tabs:
 *   chain:   entry -> 1,000 no-op nodes in a row -> sink (1,002 nodes, 1,001 hops; flowdesk's chain is
 *            START -> 1,000 DELAY(0) -> END, also 1,002 nodes and 1,001 connections);
 *   fan-out: entry -> (one output wired to) 1,000 no-op nodes -> each wired to one sink, which resolves
 *            the run when it has seen 1,000 messages (flowdesk's: START -> PARALLEL -> 1,000 DELAY(0)
 *            branches, joined -> END).
 * Entry and no-op nodes are `junction` nodes (@node-red/nodes core/common/05-junction.js): its input
 * handler is `send(msg); done();`, nothing else, so it is the cheapest real node that passes a message
 * on unchanged (it is what the editor's junction dots are at run time). A `change` node with no rules
 * goes through its rule loop first; a `function` node ("return msg;") runs its code in a vm context
 * and wraps send/done: both cost more per node, and `--noop change|function` times them instead
 * (2026-12-07, quiet, medians of 20 runs, two processes each: chain / fan-out 1.2-1.3 / 1.5-1.6 ms
 * with junctions, 1.4 / 1.6-1.8 ms with change nodes, 18.0-18.5 / 17.9-20.9 ms with function nodes).
 * With junctions the Node-RED figure is its lowest, so a ratio flowdesk / Node-RED is not flattered.
 * The sink is `flowdesk-bench-sink` (nodes/bench-sink.js, loaded through settings.nodesDir): it counts
 * its messages and at the expected count calls a function this script put in the global context
 * (settings.functionGlobalContext), which resolves the promise the run awaits.
 *
 * How Node-RED delivers a message (4.x, runtime/lib/nodes/Node.js and flows/Flow.js): node.send()
 * builds one send event per wire; the flow runs the onSend, preRoute and preDeliver hooks (and the
 * receiving node onReceive and postReceive; none are registered here, so each is one lookup and a
 * call of its continuation) and then, because `runtimeSyncDelivery` is not set (the
 * default; asynchronous delivery since 1.0), calls setImmediate once per event to call the next node's
 * receive() -> its "input" handler. So every hop is one setImmediate: a chain of 1,000 nodes is 1,001
 * turns of the event loop's check phase, and the fan-out queues 1,000 immediates at once (then 1,000
 * more to the sink). Where one output is wired to several nodes, every message after the first is
 * deep-cloned (RED.util.cloneMessage): 999 clones of a small message in the fan-out, as Node-RED does
 * by default. The settings are Node-RED's defaults otherwise (no runtimeSyncDelivery, no hooks, memory
 * context, metrics off).
 *
 * A run is timed from the entry node's receive() (the message sent into the first node) to the sink's
 * promise resolving, in wall time (performance.now()) and in the process's CPU time (process.cpuUsage(),
 * all its threads: V8's collector helpers included). Beside it, in the same process and the same runs,
 * the bare Node.js baseline that bare asyncio is for bench_engine.py: 1,000 awaits of
 * `new Promise((r) => setImmediate(r))` in a row, and 1,000 such promises in one Promise.all. Each
 * figure is the median of --runs runs after --warmup runs of each flow, which come after one run of
 * each flow that counts its deliveries with an onReceive hook (removed before the timed runs) and
 * fails unless every node got the message. The warm-up is 5 runs, not bench_engine.py's one, so that
 * both sides are timed in their steady state: V8 is still compiling Node-RED's hot paths on its
 * helper threads during the first few runs (after one warm-up run the first timed chains took
 * 2.2-3.8 ms and one 6.4, then 1.1-1.6; fan-outs 5.7-8.3 ms, then 1.3-2.5), while flowdesk's runs
 * after its one warm-up are already flat (chain 9.0-10.3 ms, fan-out 12.9-13.7 over 12 runs each).
 * The collector is left to V8 (a scavenge during a run is part of what the run costs, as CPython's
 * reference counting is in flowdesk's; bench_engine.py's gc.collect() before a run starts it with
 * CPython's cycle collector emptied). The nearest V8 counterpart, a forced full collection
 * (`node --expose-gc bench.js --gc`, before each chain and each fan-out pair), made the next runs
 * slower here, not steadier (chain 1.9-2.0 against 1.2-1.3 ms, fan-out 3.4 against 1.5-1.6 ms,
 * medians of 20 runs, quiet machine; the process's CPU time then exceeds the wall time: V8 sweeping
 * on its helper threads).
 *
 * The last line of the output is one JSON object: chain_ms, fan_ms, bare_chain_ms, bare_fan_ms,
 * chain_cpu_ms, fan_cpu_ms (medians), node (process.version), node_red (the version loaded), noop,
 * runs, gc, and samples (every run's figures, for bench_engine.py to pool over its rounds).
 */
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { performance } = require("perf_hooks");

const N = 1000;
const NOOP_TYPES = ["junction", "change", "function"];

function parseArgs(argv) {
    const args = { runs: 5, warmup: 5, noop: "junction", gc: false };
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        const value = argv[i + 1];
        if (flag === "--gc") {
            if (typeof global.gc !== "function") {
                throw new Error("--gc needs node --expose-gc");
            }
            args.gc = true;
        } else if (flag === "--runs" || flag === "--warmup") {
            const n = Number(value);
            if (!Number.isInteger(n) || n < (flag === "--runs" ? 1 : 0)) {
                throw new Error(`${flag} wants a whole number, got ${value}`);
            }
            args[flag.slice(2)] = n;
            i++;
        } else if (flag === "--noop") {
            if (!NOOP_TYPES.includes(value)) {
                throw new Error(`--noop is one of ${NOOP_TYPES.join(", ")}, got ${value}`);
            }
            args.noop = value;
            i++;
        } else {
            const usage = "bench.js [--runs N] [--warmup N] [--noop TYPE] [--gc]";
            throw new Error(`unknown argument ${flag} (usage: ${usage})`);
        }
    }
    return args;
}

/** One node of `type` that passes its message on unchanged, on tab `z`, wired to `wires`. */
function noopNode(type, id, z, wires) {
    const node = { id, type, z, name: "", x: 0, y: 0, wires: [wires] };
    if (type === "change") {
        node.rules = [];
    } else if (type === "function") {
        Object.assign(node, {
            func: "return msg;",
            outputs: 1,
            timeout: 0,
            noerr: 0,
            initialize: "",
            finalize: "",
            libs: [],
        });
    }
    return node;
}

function sinkNode(id, z, expect) {
    return { id, type: "flowdesk-bench-sink", z, name: "", expect, x: 0, y: 0, wires: [] };
}

const pad = (i) => String(i).padStart(4, "0");

/** The two tabs' nodes; the entry nodes are the same type as the no-op nodes. */
function flows(noop) {
    const nodes = [
        { id: "tab-chain", type: "tab", label: "chain", disabled: false, info: "" },
        { id: "tab-fan", type: "tab", label: "fan-out", disabled: false, info: "" },
    ];
    nodes.push(noopNode(noop, "chain-entry", "tab-chain", [`chain-${pad(0)}`]));
    for (let i = 0; i < N; i++) {
        const next = i + 1 < N ? `chain-${pad(i + 1)}` : "chain-sink";
        nodes.push(noopNode(noop, `chain-${pad(i)}`, "tab-chain", [next]));
    }
    nodes.push(sinkNode("chain-sink", "tab-chain", 1));
    const branches = [];
    for (let i = 0; i < N; i++) {
        branches.push(`fan-${pad(i)}`);
        nodes.push(noopNode(noop, `fan-${pad(i)}`, "tab-fan", ["fan-sink"]));
    }
    nodes.push(noopNode(noop, "fan-entry", "tab-fan", branches));
    nodes.push(sinkNode("fan-sink", "tab-fan", N));
    return nodes;
}

const waiting = new Map(); // sink id -> the resolve of the run awaiting it

function sinkDone(sinkId) {
    const resolve = waiting.get(sinkId);
    if (resolve === undefined) {
        throw new Error(`sink ${sinkId} finished with no run waiting`);
    }
    waiting.delete(sinkId);
    resolve();
}

async function startRuntime(RED, userDir, noop) {
    fs.writeFileSync(path.join(userDir, "flows.json"), JSON.stringify(flows(noop)));
    RED.init({
        userDir,
        flowFile: "flows.json",
        nodesDir: path.join(__dirname, "nodes"),
        credentialSecret: false,
        httpAdminRoot: false,
        httpNodeRoot: false,
        disableEditor: true,
        functionGlobalContext: { flowdeskBenchDone: sinkDone },
        logging: { console: { level: "warn", metrics: false, audit: false } },
        telemetry: { enabled: false, updateNotification: false },
        externalModules: {
            autoInstall: false,
            palette: { allowInstall: false },
            modules: { allowInstall: false },
        },
    });
    const started = new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
            reject(new Error("Node-RED did not start its flows within 60 s"));
        }, 60000);
        RED.events.once("flows:started", () => {
            clearTimeout(timer);
            resolve();
        });
        RED.events.on("runtime-event", (event) => {
            if (event.id === "runtime-state" && event.payload && event.payload.error) {
                clearTimeout(timer);
                const payload = event.payload;
                const detail = JSON.stringify(payload.types || payload.modules || payload.error);
                reject(new Error(`Node-RED did not start the flows: ${payload.error} ${detail}`));
            }
        });
    });
    await RED.start();
    await started;
    const node = (id) => {
        const found = RED.nodes.getNode(id);
        if (!found) {
            throw new Error(`node ${id} is not running`);
        }
        return found;
    };
    node("chain-sink");
    node("fan-sink");
    return { chainEntry: node("chain-entry"), fanEntry: node("fan-entry") };
}

/** One run: a message into `entry`, timed until `sinkId` has seen all it expects. */
async function timedRun(entry, sinkId) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((resolve) => {
        waiting.set(sinkId, resolve);
        entry.receive({ payload: 1 });
    });
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    return [wall, (cpu.user + cpu.system) / 1e3];
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

async function bareChain() {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
        await tick();
    }
    return performance.now() - t0;
}

async function bareFan() {
    const t0 = performance.now();
    const ticks = [];
    for (let i = 0; i < N; i++) {
        ticks.push(tick());
    }
    await Promise.all(ticks);
    return performance.now() - t0;
}

function median(values) {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The first run of each flow, with an onReceive hook counting the deliveries (then removed, so the
 * timed runs take the hook-less path): the chain's message must reach all its 1,002 nodes, and the
 * fan-out's 2,001 inputs (entry, 1,000 branches, 1,000 at the sink) must all happen.
 */
async function checkedRun(RED, entry, sinkId, expected) {
    let received = 0;
    RED.hooks.add("onReceive.flowdeskBench", (receiveEvent) => {
        received += 1; // one parameter: a synchronous hook (with two, it must call back)
    });
    try {
        await timedRun(entry, sinkId);
    } finally {
        RED.hooks.remove("*.flowdeskBench");
    }
    if (received !== expected) {
        throw new Error(`${sinkId}: ${received} deliveries, expected ${expected}`);
    }
}

async function main() {
    const args = parseArgs(process.argv.slice(2));
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "flowdesk-node-red-"));
    // Removed however the process ends (process.exit() skips the `finally` below when a run is lost).
    process.on("exit", () => fs.rmSync(userDir, { recursive: true, force: true }));
    const RED = require("node-red");
    const nodeRedVersion = require("node-red/package.json").version;
    try {
        const { chainEntry, fanEntry } = await startRuntime(RED, userDir, args.noop);
        await checkedRun(RED, chainEntry, "chain-sink", N + 2);
        await checkedRun(RED, fanEntry, "fan-sink", 2 * N + 1);
        const collect = args.gc ? global.gc : () => {};
        for (let i = 0; i < args.warmup; i++) {
            await timedRun(chainEntry, "chain-sink");
            await timedRun(fanEntry, "fan-sink");
        }
        const samples = { chain: [], chain_cpu: [], bare_chain: [], fan: [], fan_cpu: [], bare_fan: [] };
        for (let i = 0; i < args.runs; i++) {
            collect();
            samples.bare_chain.push(await bareChain());
            const [chain, chainCpu] = await timedRun(chainEntry, "chain-sink");
            samples.chain.push(chain);
            samples.chain_cpu.push(chainCpu);
            collect();
            samples.bare_fan.push(await bareFan());
            const [fan, fanCpu] = await timedRun(fanEntry, "fan-sink");
            samples.fan.push(fan);
            samples.fan_cpu.push(fanCpu);
        }
        const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
        console.log(
            `Node-RED ${nodeRedVersion} on Node.js ${process.version}, ${args.noop} nodes, ` +
                `median of ${args.runs}: chain of ${N} ${m.chain.toFixed(1)} ms ` +
                `(CPU ${m.chain_cpu.toFixed(1)}), bare setImmediate ${m.bare_chain.toFixed(2)} ms; ` +
                `fan-out of ${N} ${m.fan.toFixed(1)} ms (CPU ${m.fan_cpu.toFixed(1)}), ` +
                `bare Promise.all ${m.bare_fan.toFixed(2)} ms` +
                (args.gc ? "; full collection before each pair (--gc)" : "")
        );
        console.log(
            JSON.stringify({
                chain_ms: m.chain,
                fan_ms: m.fan,
                bare_chain_ms: m.bare_chain,
                bare_fan_ms: m.bare_fan,
                chain_cpu_ms: m.chain_cpu,
                fan_cpu_ms: m.fan_cpu,
                node: process.version,
                node_red: nodeRedVersion,
                noop: args.noop,
                runs: args.runs,
                gc: args.gc,
                samples,
            })
        );
    } finally {
        await RED.stop().catch(() => {});
    }
}

// A message lost on the way leaves nothing for the event loop to do: say so instead of exiting quietly.
process.on("beforeExit", () => {
    console.error("bench.js: a run never finished (a message did not reach its sink)");
    process.exit(1);
});

main().then(
    () => process.exit(0),
    (err) => {
        console.error(`bench.js: ${err && err.message ? err.message : err}`);
        process.exit(1);
    }
);
