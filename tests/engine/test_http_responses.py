"""Reading responses (engine/http/body.py and the transports reading through it), against real servers.

Every row runs through each transport the engine has: its own HTTP/1.1 pool ("http1"), aiohttp,
httpx on the pool ("httpx"), httpx on aiohttp ("httpx-aiohttp") and httpx's own transport
("httpcore"). Raw asyncio servers write the exact bytes of each case (tests/engine/test_http1.py's
RawServer); nginx, started by a fixture with a configuration in tmp_path, serves gzip, brotli and
chunked bodies as a real server does.
"""

from __future__ import annotations

import gzip
import random
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import brotli
import pytest
import zstandard

from flowdesk.engine.http import HttpCallError, HttpClient, HttpRequest, HttpResponse
from flowdesk.engine.http.body import DRAIN_LIMIT, STEP, BodyReader, decode_all
from flowdesk.engine.http.body_file import BodyFile, BodyFileError
from flowdesk.engine.http.http1 import MAX_HEADER_BYTES, MAX_HEADER_LINES
from tests.support.compression_bombs import MIB, brotli_bomb, gzip_bomb, zstd_bomb
from tests.support.nginx import NginxServer, nginx_or_skip, no_nginx
from tests.support.raw_http1 import Conn, RawServer, answering, fetch, ok, open_pool, run_guarded

TRANSPORTS = ["http1", "aiohttp", "httpx", "httpx-aiohttp", "httpcore"]
OURS = ["http1", "aiohttp", "httpx", "httpx-aiohttp"]  # httpcore parses with h11, not llhttp
LIMIT = 1024 * 1024  # the default response_body_limit
DATA = b"".join(b"line %d of a response body, somewhat compressible\n" % i for i in range(2000))


def run(coro: Any) -> Any:
    """test_http1's `run` with a guard for bodies of megabytes on a busy machine (it only catches hangs)."""
    return run_guarded(coro, guard_seconds=120.0)


def _random_bytes(size: int) -> bytes:
    return random.Random(7).randbytes(size)


def _deflate_raw(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def _zstd(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


ENCODED = {
    "gzip": gzip.compress(DATA),
    "x-gzip": gzip.compress(DATA),
    "deflate": zlib.compress(DATA),
    "deflate-raw": _deflate_raw(DATA),
    "br": brotli.compress(DATA),
    "zstd": _zstd(DATA),
    "gzip, br": brotli.compress(gzip.compress(DATA)),
    "br, zstd, gzip": gzip.compress(_zstd(brotli.compress(DATA))),
    "identity": DATA,
}


def header_for(name: str) -> str:
    return "deflate" if name == "deflate-raw" else name


def chunked(body: bytes, size: int = 4096, *headers: str) -> bytes:
    """A whole chunked answer, in chunks of `size`."""
    head = "\r\n".join(["HTTP/1.1 200 OK", *headers, "Transfer-Encoding: chunked"]) + "\r\n\r\n"
    parts = [head.encode()]
    for start in range(0, len(body), size):
        piece = body[start : start + size]
        parts.append(b"%x\r\n%s\r\n" % (len(piece), piece))
    parts.append(b"0\r\n\r\n")
    return b"".join(parts)


async def send(url: str, transport: str, **request: Any) -> HttpResponse:
    async with HttpClient(transport=transport) as client:
        return await client.send(HttpRequest("GET", url, timeout=30, **request))


async def send_error(url: str, transport: str, **request: Any) -> HttpCallError:
    with pytest.raises(HttpCallError) as info:
        await send(url, transport, **request)
    return info.value


# -- encodings ----------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("encoding", list(ENCODED))
@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_each_encoding_is_decoded_by_each_transport(transport, encoding, framing):
    wire = ENCODED[encoding]
    header = f"Content-Encoding: {header_for(encoding)}"
    answer = ok(wire, header) if framing == "length" else chunked(wire, 1000, header)

    async def main() -> HttpResponse:
        async with RawServer(answering(answer)) as server:
            return await send(server.url("/encoded"), transport)

    response = run(main())
    assert response.body == DATA
    assert response.headers["content-encoding"] == header_for(encoding)  # kept as received
    assert not response.truncated


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_unknown_encoding_fails_the_call_naming_it(transport):
    async def main() -> tuple[HttpCallError, str]:
        async with RawServer(answering(ok(b"\x1f\x9d\x90opaque", "Content-Encoding: compress"))) as server:
            url = server.url("/compress")
            return await send_error(url, transport), url

    error, url = run(main())
    assert str(error) == (
        f"GET {url} failed: the answer's Content-Encoding 'compress' is not one flowdesk can decode"
        " (gzip, deflate, br, zstd)"
    )
    assert error.error_type == "other"  # not retried: the same answer would come again


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("encoding", ["br", "zstd"])
def test_corrupt_br_and_zstd_bodies_fail_plainly(transport, encoding):
    async def main() -> tuple[HttpCallError, str]:
        wire = ok(b"\x8b\x00 this is not compressed at all", f"Content-Encoding: {encoding}")
        async with RawServer(answering(wire)) as server:
            url = server.url("/corrupt")
            return await send_error(url, transport), url

    error, url = run(main())
    assert str(error).startswith(f"GET {url} failed: the {encoding} body could not be decoded ("), str(error)
    assert "\n" not in str(error)


def test_the_client_asks_for_every_encoding_it_decodes():
    async def main() -> bytes:
        async with RawServer(answering(ok(b"x"))) as server:
            await send(server.url("/"), "http1")
            return server.requests[0].head

    assert b"\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n" in run(main())


# -- the body limit, bombs and big bodies --------------------------------------------------------


BOMBS = {
    "gzip": lambda: gzip_bomb(2048),  # 2 GiB of zeros in about 2 MB (the bomb)
    "br": lambda: brotli_bomb(64),
    "zstd": lambda: zstd_bomb(256),
}


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("encoding", list(BOMBS))
def test_a_compression_bomb_stops_at_the_body_limit(transport, encoding):
    bomb = BOMBS[encoding]()

    async def main() -> HttpResponse:
        async with RawServer(answering(ok(bomb, f"Content-Encoding: {encoding}"))) as server:
            return await send(server.url("/bomb"), transport)

    response = run(main())
    assert response.truncated is True
    assert response.body == bytes(LIMIT)  # exactly the limit, all zeros
    out = response.to_dict(LIMIT)
    assert out["truncated"] is True and "size" not in out  # never decoded to the end: unknown


def test_the_pool_stops_reading_a_bomb_from_the_socket_and_closes_the_connection():
    bomb = gzip_bomb(2048)

    async def main() -> tuple[int, bool, set[int]]:
        async with RawServer(answering(ok(bomb, "Content-Encoding: gzip"))) as server, open_pool() as pool:
            raw = await fetch(pool, server.url("/bomb"), body_limit=LIMIT)
            await server.wait_until(lambda: 1 in server.client_closed, "the client closing the connection")
            return raw.raw_size, raw.truncated, server.client_closed

    raw_size, truncated, closed = run(main())
    assert truncated and closed == {1}
    # 1 MiB of zeros takes about 1 KB of this gzip: the reading stopped within the first reads,
    # far from the 2 MB sent (a read is at most 256 KiB).
    assert raw_size <= 256 * 1024 < len(bomb)


def test_the_reader_keeps_at_most_the_limit_and_decodes_in_bounded_steps():
    reader = BodyReader(["gzip"], limit=5 * MIB)
    sizes: list[int] = []
    stages = reader.stages
    original = stages[0].feed

    def spy(data: bytes) -> Iterator[bytes]:
        for piece in original(data):
            sizes.append(len(piece))
            yield piece

    stages[0].feed = spy  # type: ignore[method-assign]
    bomb = gzip_bomb(2048)
    reader.expected = len(bomb)
    fed = 0
    while reader.feed(bomb[fed : fed + 65536]):  # False: cut, and the rest too long to drain
        fed += 65536
    assert fed < len(bomb) // 2
    body = reader.finish(complete=False)
    assert body.truncated and len(body.content) == 5 * MIB and body.size is None
    assert max(sizes) <= STEP and sum(sizes) <= 5 * MIB + STEP  # never decoded past the limit


def big_answer(total: int, *, head: bytes | None = None):
    """A handler answering one request with `total` bytes (Content-Length), written 1 MiB at a
    time until done or the client goes; `written` counts what the server could write."""
    written: list[int] = [0]

    async def handler(conn: Conn) -> None:
        if await conn.request() is None:
            return
        conn.writer.write(head or b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % total)
        block = b"y" * MIB
        try:
            while written[0] < total:
                conn.writer.write(block[: total - written[0]])
                await conn.writer.drain()
                written[0] += min(MIB, total - written[0])
        except ConnectionError:
            pass
        await conn.until_closed()

    return handler, written


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_200_mb_answer_is_cut_at_the_limit_and_its_connection_closed(transport):
    total = 200 * MIB
    handler, written = big_answer(total)

    async def main() -> tuple[HttpResponse, int]:
        async with RawServer(handler) as server:
            response = await send(server.url("/big"), transport)
            await server.wait_until(lambda: 1 in server.client_closed, "the client closing the connection")
            return response, written[0]

    response, sent = run(main())
    assert response.truncated and response.body == b"y" * LIMIT
    assert response.to_dict(LIMIT)["size"] == total  # known from Content-Length
    # The client stopped reading: the server could not write more than the socket buffers take.
    assert sent < total // 4


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_small_rest_past_the_limit_is_drained_and_the_connection_kept(transport):
    body = b"z" * (LIMIT + DRAIN_LIMIT // 2)

    async def main() -> tuple[HttpResponse, HttpResponse, int]:
        async with RawServer(answering(ok(body), ok(b"second"))) as server:
            async with HttpClient(transport=transport) as client:
                first = await client.send(HttpRequest("GET", server.url("/a"), timeout=30))
                second = await client.send(HttpRequest("GET", server.url("/b"), timeout=30))
            return first, second, server.accepted

    first, second, accepted = run(main())
    assert first.truncated and len(first.body) == LIMIT and first.to_dict(LIMIT)["size"] == len(body)
    assert second.body == b"second"
    assert accepted == 1  # the rest was read and dropped: the connection served the next call


@pytest.mark.parametrize("transport", OURS)
def test_an_endless_chunked_answer_is_cut_and_closed(transport):
    async def endless(conn: Conn) -> None:
        if await conn.request() is None:
            return
        conn.writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n%s\r\n" % (MIB, b"e" * MIB)
        try:
            while True:  # only the client closing ends this
                conn.writer.write(chunk)
                await conn.writer.drain()
        except ConnectionError:
            pass

    async def main() -> HttpResponse:
        async with RawServer(endless) as server:
            response = await send(server.url("/endless"), transport)
            await server.wait_until(lambda: 1 in server.client_closed or server.open_now == 0, "the close")
            return response

    response = run(main())
    assert response.truncated and len(response.body) == LIMIT
    assert "size" not in response.to_dict(LIMIT)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_per_request_limit_is_what_the_transport_keeps(transport):
    async def main() -> HttpResponse:
        async with RawServer(answering(ok(gzip.compress(DATA), "Content-Encoding: gzip"))) as server:
            return await send(server.url("/limited"), transport, body_limit=1000)

    response = run(main())
    assert response.truncated and response.body == DATA[:1000]


# -- save_to ------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_save_to_streams_the_whole_decoded_body_to_the_file(transport, tmp_path):
    data = _random_bytes(3 * MIB) + DATA  # beyond the limit: the file gets it all
    target = tmp_path / "body.bin"

    async def main() -> HttpResponse:
        async with RawServer(
            answering(chunked(gzip.compress(data), 65536, "Content-Encoding: gzip"))
        ) as server:
            return await send(server.url("/file"), transport, save_to=str(target))

    response = run(main())
    assert response.body == b"" and not response.truncated
    assert response.body_file is not None
    path, size = response.body_file.commit()
    assert (path, size) == (str(target), len(data))
    assert target.read_bytes() == data
    assert [p.name for p in tmp_path.iterdir()] == ["body.bin"]  # no temporary file left


def test_save_to_after_a_redirect_keeps_only_the_final_body(tmp_path):
    target = tmp_path / "final.txt"
    redirect = b"HTTP/1.1 302 Found\r\nLocation: /final\r\nContent-Length: 14\r\n\r\nredirect body!"

    async def main() -> HttpResponse:
        async with RawServer(answering(redirect, ok(b"the final body"))) as server:
            return await send(server.url("/start"), "http1", save_to=str(target))

    response = run(main())
    assert response.body_file is not None and response.body_file.commit()[1] == 14
    assert target.read_bytes() == b"the final body"


def test_a_body_file_is_written_atomically_or_not_at_all(tmp_path):
    target = tmp_path / "kept.txt"
    target.write_bytes(b"previous")
    discarded = BodyFile(str(target))
    discarded.write(b"half of a new bo")
    discarded.discard()
    assert target.read_bytes() == b"previous" and sorted(p.name for p in tmp_path.iterdir()) == ["kept.txt"]
    committed = BodyFile(str(target))
    committed.write(b"new")
    assert target.read_bytes() == b"previous"  # nothing shows before the rename
    committed.commit()
    assert target.read_bytes() == b"new"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "{tmp}/missing/out.bin",
            "save_to '{tmp}/missing/out.bin': the folder '{tmp}/missing' does not exist",
        ),
        ("{tmp}", "save_to '{tmp}' is a folder, not a file"),
        ("  ", "save_to is empty: give the path of the file to write the body to"),
    ],
    ids=["no-folder", "a-folder", "empty"],
)
def test_a_bad_save_to_path_is_one_sentence(tmp_path, path, message):
    with pytest.raises(BodyFileError) as info:
        BodyFile(path.format(tmp=tmp_path))
    assert str(info.value) == message.format(tmp=tmp_path)


# -- lenient parsing, still refusing smuggling shapes ------------------------------------------


LENIENT = {
    "bare-lf": (b"HTTP/1.1 200 OK\nContent-Type: text/plain\nX-Case: lf\nContent-Length: 2\n\nok", "lf"),
    "obs-fold": (b"HTTP/1.1 200 OK\r\nX-Case: one\r\n two\r\nContent-Length: 2\r\n\r\nok", "one two"),
    "control-bytes": (
        b"HTTP/1.1 200 OK\r\nX-Case: a\x01b\x7fc\r\nContent-Length: 2\r\n\r\nok",
        "a\x01b\x7fc",
    ),
    "bare-lf-chunked": (
        b"HTTP/1.1 200 OK\nX-Case: chunks\nTransfer-Encoding: chunked\n\n2\r\nok\r\n0\r\n\r\n",
        "chunks",
    ),
}


@pytest.mark.parametrize("transport", OURS)
@pytest.mark.parametrize("case", list(LENIENT))
def test_slightly_off_spec_answers_are_accepted_as_aiohttp_accepts_them(transport, case):
    wire, header = LENIENT[case]

    async def main() -> HttpResponse:
        async with RawServer(answering(wire)) as server:
            return await send(server.url("/lenient"), transport)

    response = run(main())
    assert response.status == 200 and response.headers["x-case"] == header
    assert response.body == b"ok"


SMUGGLING = {
    "transfer-encoding-and-content-length": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 7\r\n\r\n2\r\nok\r\n0\r\n\r\n"
    ),
    "two-content-lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!",
    "bad-chunk-size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2x\r\nok\r\n0\r\n\r\n",
}


@pytest.mark.parametrize("transport", OURS)
@pytest.mark.parametrize("case", list(SMUGGLING))
def test_request_smuggling_shapes_are_still_refused(transport, case):
    async def main() -> tuple[HttpCallError, str]:
        async with RawServer(answering(SMUGGLING[case])) as server:
            url = server.url("/smuggle")
            return await send_error(url, transport), url

    error, url = run(main())
    assert str(error).startswith(f"GET {url} failed: the server's answer was not valid HTTP ("), str(error)
    assert error.error_type == "connection"


# -- the header cap -----------------------------------------------------------------------------


def many_headers(count: int, value: bytes = b"v") -> bytes:
    lines = b"".join(b"X-H%d: %s\r\n" % (i, value) for i in range(count - 1))
    return b"HTTP/1.1 200 OK\r\n" + lines + b"Content-Length: 2\r\n\r\nok"


@pytest.mark.parametrize("transport", OURS)
def test_an_answer_with_the_most_header_lines_allowed_is_read(transport):
    async def main() -> HttpResponse:
        async with RawServer(answering(many_headers(MAX_HEADER_LINES))) as server:
            return await send(server.url("/h"), transport)

    assert run(main()).body == b"ok"


@pytest.mark.parametrize("transport", OURS)
@pytest.mark.parametrize(
    ("wire", "what"),
    [
        (many_headers(MAX_HEADER_LINES + 1), f"more than {MAX_HEADER_LINES} header lines"),
        (many_headers(100_004), f"more than {MAX_HEADER_LINES} header lines"),
        (many_headers(20, b"v" * 4000), f"more than {MAX_HEADER_BYTES} bytes of headers"),
    ],
    ids=["one-line-too-many", "100004-lines", "too-many-bytes"],
)
def test_an_answer_past_the_header_cap_is_one_clear_error(transport, wire, what):
    async def main() -> tuple[HttpCallError, str]:
        async with RawServer(answering(wire)) as server:
            url = server.url("/h")
            return await send_error(url, transport), url

    error, url = run(main())
    assert str(error) == (
        f"GET {url} failed: the server's answer has {what} (flowdesk's limit; see docs/http.md)"
    )


@pytest.mark.parametrize(
    ("wire", "what"),
    [
        (many_headers(MAX_HEADER_LINES + 1), f"more than {MAX_HEADER_LINES} header lines"),
        (many_headers(20, b"v" * 4000), f"more than {MAX_HEADER_BYTES} bytes of headers"),
    ],
    ids=["one-line-too-many", "too-many-bytes"],
)
def test_the_header_cap_holds_on_httpx_own_transport_too(wire, what):
    # httpcore (h11) reads up to 100 KB of headers itself; the client checks what it read.
    async def main() -> tuple[HttpCallError, str]:
        async with RawServer(answering(wire)) as server:
            url = server.url("/h")
            return await send_error(url, "httpcore"), url

    error, url = run(main())
    assert str(error) == (
        f"GET {url} failed: the server's answer has {what} (flowdesk's limit; see docs/http.md)"
    )


@pytest.mark.parametrize("transport", OURS)
def test_the_header_cap_is_a_setting(transport, monkeypatch):
    monkeypatch.setenv("FLOWDESK_MAX_HEADER_LINES", "300")

    async def main() -> bytes:
        async with RawServer(answering(many_headers(250))) as server:
            async with HttpClient(transport=transport) as client:
                assert client.max_header_lines == 300
                response = await client.send(HttpRequest("GET", server.url("/h"), timeout=30))
                return response.body

    assert run(main()) == b"ok"


# -- nginx ---------------------------------------------------------------------------------------

BIG = _random_bytes(2 * MIB).hex().encode()  # 4 MiB of text: gzip halves it, past the limit either way
NGINX_FILES = {"data.txt": DATA, "big.txt": BIG}


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NginxServer]:
    yield from nginx_or_skip(tmp_path_factory.mktemp("nginx"), NGINX_FILES)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    ("location", "encoding", "framing"),
    [
        ("plain", None, "content-length"),
        ("gzip", "gzip", "transfer-encoding"),
        ("br", "br", "transfer-encoding"),
        ("chunked", None, "transfer-encoding"),
    ],
)
def test_nginx_bodies_are_read_whole(nginx, transport, location, encoding, framing):
    if location == "br" and not nginx.has_brotli:
        no_nginx("nginx's brotli module is not installed (Debian: libnginx-mod-http-brotli-filter)")
    response = run(send(nginx.url(f"/{location}/data.txt"), transport))
    assert response.status == 200 and response.body == DATA
    assert response.headers.get("content-encoding") == encoding
    assert framing in response.headers


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("location", ["plain", "gzip", "br", "chunked"])
def test_nginx_bodies_past_the_limit_are_cut_and_saved_whole(nginx, transport, location, tmp_path):
    if location == "br" and not nginx.has_brotli:
        no_nginx("nginx's brotli module is not installed (Debian: libnginx-mod-http-brotli-filter)")
    cut = run(send(nginx.url(f"/{location}/big.txt"), transport))
    assert cut.truncated and cut.body == BIG[:LIMIT]
    target = tmp_path / "big.txt"
    saved = run(send(nginx.url(f"/{location}/big.txt"), transport, save_to=str(target)))
    assert saved.body_file is not None and saved.body_file.commit()[1] == len(BIG)
    assert target.read_bytes() == BIG


def test_decode_all_reads_a_whole_body_under_the_same_rules():
    body = decode_all(ENCODED["gzip, br"], {"Content-Encoding": "gzip, br"}, limit=100)
    assert body.content == DATA[:100] and body.truncated and body.size is None


def test_the_nginx_fixture_skips_or_fails_by_the_environment(monkeypatch, tmp_path: Path):
    from tests.support import nginx as support

    monkeypatch.setattr(support, "find_nginx", lambda: None)
    monkeypatch.delenv(support.REQUIRE_NGINX, raising=False)
    with pytest.raises(pytest.skip.Exception, match="nginx is not installed"):
        next(support.nginx_or_skip(tmp_path, {}))
    monkeypatch.setenv(support.REQUIRE_NGINX, "1")
    with pytest.raises(pytest.fail.Exception, match="FLOWDESK_REQUIRE_NGINX=1 requires the nginx tests"):
        next(support.nginx_or_skip(tmp_path, {}))
