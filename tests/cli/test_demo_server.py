"""`flowdesk demo-server` runs from the installed program alone (no uvicorn, nothing from tests/),
and every example workflow (and template) completes against it with its declared defaults."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from flowdesk.demo import DEFAULT_URL
from flowdesk.domain.workflow_inputs import declared_inputs

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_FILES = sorted(
    [*(ROOT / "resources" / "examples").glob("*.json"), *(ROOT / "resources" / "templates").glob("*.json")]
)
EXPECTED_OUTPUT = {
    "loop.json": lambda out: (
        out["count"] == 3 and [u["name"] for u in out["users"]] == ["User 1", "User 2", "User 3"]
    ),
    "conditional.json": lambda out: out == {"passed": True},
    "parallel.json": lambda out: isinstance(out["summary_id"], int),
    "login.json": lambda out: out == {"username": "demo"},
}

# uvicorn and the tests' package are made unimportable: the demo server must not need them.
SERVE = (
    "import sys; sys.modules['uvicorn'] = None; sys.modules['tests'] = None; "
    "from flowdesk.cli import main; raise SystemExit(main(['demo-server', '--port', '0']))"
)


@pytest.fixture(scope="module")
def demo_server():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=str(ROOT / "resources"),  # not the checkout's root: `tests` must not be found by accident
    )
    line = process.stdout.readline()  # waits for the server to listen (or to fail)
    if not line.startswith("Demo server listening on "):
        process.kill()
        raise AssertionError(f"the demo server did not start: {line!r} {process.communicate()[1]}")
    url = line.split(" on ", 1)[1].split(" ", 1)[0]
    yield url
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Demo server stopped." in err and "Traceback" not in err


def test_every_example_declares_inputs_defaulting_to_the_demo_server():
    assert WORKFLOW_FILES and {p.name for p in WORKFLOW_FILES} >= set(EXPECTED_OUTPUT)
    for path in WORKFLOW_FILES:
        document = json.loads(path.read_text(encoding="utf-8"))
        schema = declared_inputs(document["workflow"].get("config"))
        assert schema is not None, f"{path.name} declares no inputs"
        for name, prop in schema["properties"].items():
            assert "default" in prop, f"{path.name}: input '{name}' has no default"
        assert schema["properties"]["base_url"]["default"] == DEFAULT_URL


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_each_example_completes_against_the_demo_server(demo_server, path, tmp_path, capsys):
    from flowdesk.cli import main

    code = main(
        [
            "run",
            str(path),
            "--input",
            json.dumps({"base_url": demo_server}),
            "--json",
            "--db",
            str(tmp_path / "d.db"),
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err + out.out
    report = json.loads(out.out)
    assert report["status"] == "completed"
    assert report["warnings"] == 0, [s["warnings"] for s in report["steps"]]
    check = EXPECTED_OUTPUT.get(path.name)
    assert check is None or check(report["output_data"]), report["output_data"]


def test_a_port_in_use_is_one_sentence(demo_server, capsys):
    from flowdesk.cli import main

    port = demo_server.rsplit(":", 1)[1]
    assert main(["demo-server", "--port", port]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"flowdesk: cannot listen on 127.0.0.1:{port}: ") and err.count("\n") == 1


def test_the_standard_library_server_speaks_enough_http():
    """Keep-alive, a chunked request body, HEAD, and a malformed request answered 400."""
    import asyncio

    from flowdesk.demo.app import DemoApp
    from flowdesk.demo.server import start_server

    async def exchange(reader, writer, request: bytes) -> tuple[str, dict[str, str], bytes]:
        writer.write(request)
        await writer.drain()
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in head[1:] if line)
        body = (
            await reader.readexactly(int(headers.get("content-length", "0")))
            if not request.startswith(b"HEAD")
            else b""
        )
        return head[0], headers, body

    async def main():
        server = await start_server(DemoApp(), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            chunked = (
                b"POST /anything/x?a=1 HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
                b'Transfer-Encoding: chunked\r\n\r\n5\r\n{"k":\r\n3\r\n 1}\r\n0\r\n\r\n'
            )
            status, headers, body = await exchange(reader, writer, chunked)
            assert status == "HTTP/1.1 200 OK" and headers["connection"] == "keep-alive"
            echoed = json.loads(body)
            assert echoed["json"] == {"k": 1} and echoed["query"] == {"a": "1"} and echoed["method"] == "POST"
            status, headers, body = await exchange(
                reader, writer, b"HEAD /users/2 HTTP/1.1\r\nHost: h\r\n\r\n"
            )
            assert status == "HTTP/1.1 200 OK" and int(headers["content-length"]) > 0 and body == b""
            status, _, body = await exchange(
                reader, writer, b"GET /users/2 HTTP/1.1\r\nConnection: close\r\n\r\n"
            )
            assert json.loads(body)["name"] == "User 2"
            assert await reader.read() == b""  # closed as asked
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            status, _, body = await exchange(reader, writer, b"NONSENSE\r\n\r\n")
            assert status == "HTTP/1.1 400 Bad Request" and b"bad request line" in body
            writer.close()
        finally:
            server.close()
            await server.wait_closed()

    asyncio.run(main())


def test_a_held_call_hangs_for_the_seconds_asked():
    """`/hold/{key}?seconds=S` keeps the first calls in flight for S seconds (tests that cancel a run
    hold it for minutes, so a busy machine cannot let it finish first); later calls answer at once."""
    import asyncio

    from flowdesk.demo.app import DemoApp
    from flowdesk.demo.server import start_server

    async def get(port: int, path: str) -> dict:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        raw = await reader.read()
        writer.close()
        return json.loads(raw.split(b"\r\n\r\n", 1)[1])

    async def main():
        server = await start_server(DemoApp(), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            held = asyncio.ensure_future(get(port, "/hold/k?times=1&seconds=600"))
            while (await get(port, "/count/k"))["count"] == 0:  # the first call has arrived
                await asyncio.sleep(0.005)
            assert (await get(port, "/hold/k?times=1&seconds=600"))["count"] == 2  # the second: at once
            assert not held.done()  # the first is still in flight
            held.cancel()
            assert (await get(port, "/hold/z?seconds=0"))["count"] == 1  # held for 0 s
        finally:
            server.close()
            await server.wait_closed()

    asyncio.run(main())


def test_sigterm_stops_the_demo_server_like_ctrl_c():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout.readline().startswith("Demo server listening on ")
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0 and "Demo server stopped." in err and "Traceback" not in err, err
