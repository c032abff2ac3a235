"""Memory of reading big and bomb responses: peak RSS above the idle process, per transport.

A raw asyncio server in a separate process serves:

- `/big`: 200 MB of text with a Content-Length, written 1 MiB at a time until the client goes;
- `/bomb`: the issue's gzip bomb, 2 MB expanding to 2 GiB of zeros (tests/support/compression_bombs.py);
- `/bomb-br`, `/bomb-zstd`: brotli and zstd bombs expanding to 2 GiB.

Each case runs in a fresh subprocess: it imports everything, makes one small call (pools, TLS-free
connections and parsers warmed), reads `ru_maxrss` (the idle peak), makes the call, reads
`ru_maxrss` again; the difference is what the call cost at its peak. Cases: flowdesk's HttpClient
on each transport with the default body limit (1 MB), the 200 MB body with `save_to` (streamed to a
file), and side by side what reading the whole body costs: bare aiohttp `read()` and bare httpx
`aread()` (how every transport read bodies before body.py), each with its own decoder.

    python benchmarks/bench_http_memory.py [--runs 3] [--cases big,bomb,...] [--transports http1,...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MIB = 1024 * 1024
BIG = 200 * 1000 * 1000
TRANSPORTS = ["http1", "aiohttp", "httpx", "httpx-aiohttp", "httpcore"]
CASES = ["big", "bomb", "bomb-br", "bomb-zstd"]


# -- the server process ------------------------------------------------------------------------


async def serve(port: int) -> None:
    from tests.support.compression_bombs import brotli_bomb, gzip_bomb, zstd_bomb

    bombs = {
        "/bomb": (gzip_bomb(2048), "gzip"),
        "/bomb-br": (brotli_bomb(2048), "br"),
        "/bomb-zstd": (zstd_bomb(2048), "zstd"),
    }
    block = b"y" * MIB

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode()
                if path in bombs:
                    body, encoding = bombs[path]
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n"
                        % (encoding.encode(), len(body))
                    )
                    writer.write(body)
                    await writer.drain()
                elif path == "/big":
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % BIG
                    )
                    sent = 0
                    while sent < BIG:
                        piece = block[: BIG - sent]
                        writer.write(piece)
                        await writer.drain()
                        sent += len(piece)
                else:
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


# -- one measured case (a subprocess) ----------------------------------------------------------


def peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


async def measure(base: str, case: str, transport: str) -> dict[str, object]:
    url = f"{base}/{case}"
    if transport in ("bare-aiohttp", "bare-httpx"):
        import aiohttp
        import httpx

        if transport == "bare-aiohttp":
            async with aiohttp.ClientSession() as session:
                async with session.get(f"{base}/small") as warm:
                    await warm.read()
                idle = peak_kib()
                started = time.perf_counter()
                try:
                    async with session.get(url) as response:
                        kept = len(await response.read())
                    error = None
                except Exception as exc:  # aiohttp's own limits, if any, are part of the figure
                    kept, error = 0, type(exc).__name__
        else:
            async with httpx.AsyncClient() as client:
                await client.get(f"{base}/small")
                idle = peak_kib()
                started = time.perf_counter()
                try:
                    kept = len((await client.get(url)).content)
                    error = None
                except Exception as exc:
                    kept, error = 0, type(exc).__name__
        return {
            "idle": idle,
            "peak": peak_kib(),
            "kept": kept,
            "truncated": False,
            "error": error,
            "seconds": time.perf_counter() - started,
        }

    from flowdesk.engine.http import HttpClient, HttpRequest

    save_to = None
    if transport.endswith("+save_to"):
        transport = transport.removesuffix("+save_to")
        save_to = os.path.join(tempfile.mkdtemp(prefix="flowdesk-bench-"), "body.bin")
    async with HttpClient(transport=transport) as client:
        await client.send(HttpRequest("GET", f"{base}/small"))
        idle = peak_kib()
        started = time.perf_counter()
        response = await client.send(HttpRequest("GET", url, timeout=600, save_to=save_to))
        seconds = time.perf_counter() - started
        saved = None
        if response.body_file is not None:
            saved = response.body_file.commit()[1]
            os.unlink(response.body_file.target)
        return {
            "idle": idle,
            "peak": peak_kib(),
            "kept": len(response.body),
            "truncated": response.truncated,
            "saved": saved,
            "error": None,
            "seconds": seconds,
        }


def run_case(port: int, case: str, transport: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", str(port), case, transport],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- main --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--transports", default=",".join(TRANSPORTS))
    parser.add_argument(
        "--baseline", default="bare-aiohttp,bare-httpx", help="whole-body readers to compare with"
    )
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve))
        return
    if args.measure:
        port, case, transport = args.measure
        print(json.dumps(asyncio.run(measure(f"http://127.0.0.1:{port}", case, transport))))
        return

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores here are shared)")
        print(f"{'case':<10} {'reader':<24} {'peak RSS above idle':>20} {'kept':>12} {'time':>8}  note")
        for case in args.cases.split(","):
            readers = [*args.transports.split(",")]
            if case == "big":
                readers += [f"{t}+save_to" for t in args.transports.split(",")]
            readers += [r for r in args.baseline.split(",") if r]
            for reader in readers:
                results = [run_case(port, case, reader) for _ in range(args.runs)]
                good = [r for r in results if not r.get("error") or "peak" in r]
                if not good:
                    print(f"{case:<10} {reader:<24} {'failed':>20}  {results[-1].get('error')}")
                    continue
                above = statistics.median((int(r["peak"]) - int(r["idle"])) / 1024 for r in good)
                seconds = statistics.median(float(r["seconds"]) for r in good)
                last = good[-1]
                note = []
                if last.get("truncated"):
                    note.append("truncated")
                if last.get("saved") is not None:
                    note.append(f"saved {int(last['saved']) / 1e6:.0f} MB")
                if last.get("error"):
                    note.append(f"error {last['error']}")
                print(
                    f"{case:<10} {reader:<24} {above:>17.1f} MB {int(last['kept']) / 1e6:>9.1f} MB {seconds:>7.2f}s  "
                    f"{', '.join(note)}",
                    flush=True,
                )
        print(
            f"load average after: {os.getloadavg()[0]:.2f}; median of {args.runs} runs, each in a fresh process"
        )
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
