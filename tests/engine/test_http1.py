"""Http1Pool (flowdesk/engine/http/http1.py) against real servers on 127.0.0.1, promise by promise.

Protocol-level cases run a raw `asyncio.start_server` in the test's own event loop that writes
exactly the bytes each test chooses (`RawServer`); the rest use the shared uvicorn `http_server`.
Then the same pool under HttpClient (its default transport, and httpx's API on it) and over TLS
with a self-signed certificate made at test time.
"""

from __future__ import annotations

import asyncio
import datetime
import gzip
import ipaddress
import json
import ssl
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yarl

from flowdesk.engine.http import (
    ConnectionFailedError,
    HttpCallError,
    HttpClient,
    HttpRequest,
    RequestTimedOutError,
    http1,
)
from flowdesk.engine.http.body import BodyError
from flowdesk.engine.http.http1 import (
    Http1Pool,
    Http1Response,
    PoolClosedError,
    ProtocolError,
    ServerDisconnectedError,
    decode_body,
    encode_head,
)
from tests.support.http_server import LocalHttpServer
from tests.support.raw_http1 import (
    Conn,
    Handler,
    RawServer,
    Seen,
    answer_once_then,
    answering,
    closed_port,
    cut_at_once,
    drop_request,
    fetch,
    never_answer,
    ok,
    open_pool,
    per_connection,
    raw_deflate,
    run_guarded,
    serve_and,
)
from tests.support.waiting import until


@pytest.fixture
def feeds(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every chunk of bytes a pool connection receives, in order (to show a split really happened)."""
    received: list[bytes] = []
    original = http1._Connection.data_received

    def recording(self: http1._Connection, data: bytes) -> None:
        received.append(bytes(data))
        original(self, data)

    monkeypatch.setattr(http1._Connection, "data_received", recording)
    return received


# -- bodies -----------------------------------------------------------------------------------


def test_a_content_length_body_split_across_writes_is_read_whole(feeds):
    pieces = (b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhel", b"lo wo", b"rld")

    async def handler(conn: Conn) -> None:
        await conn.request()
        await conn.send(*pieces)
        await conn.until_closed()

    async def body(server: RawServer, pool: Http1Pool) -> Http1Response:
        return await fetch(pool, server.url("/cl"))

    response = run_guarded(serve_and(handler, body))
    assert feeds == list(pieces), "the pieces were not received separately: the test proves nothing"
    assert (response.status, response.reason, response.body) == (200, "OK", b"hello world")
    assert response.headers == [("Content-Length", "11")]


def test_a_chunked_body_split_inside_status_line_header_and_chunk_size_is_read_whole(feeds):
    pieces = (
        b"HTTP/1.1 2",  # inside the status line
        b"00 OK\r\nTransfer-Enc",  # inside a header name
        b"oding: chunked\r\nX-Note: a",  # inside a header value
        b"b\r\n\r\n1",  # inside a chunk size
        b"a\r\nabcdefghijklmnopqrstuvwxyz\r\n5\r",  # between CR and LF
        b"\n01234\r\n10\r\n0123456789abcdef\r\n0\r\n",
        b"\r\n",
    )

    async def handler(conn: Conn) -> None:
        await conn.request()
        await conn.send(*pieces)
        await answering(ok(b"next"))(conn)

    async def body(server: RawServer, pool: Http1Pool) -> tuple[Http1Response, Http1Response, int]:
        first = await fetch(pool, server.url("/chunked"))
        second = await fetch(pool, server.url("/next"))
        return first, second, server.accepted

    first, second, accepted = run_guarded(serve_and(handler, body))
    assert feeds[: len(pieces)] == list(pieces), "the pieces were not received separately"
    assert first.body == b"abcdefghijklmnopqrstuvwxyz" + b"01234" + b"0123456789abcdef"
    assert first.headers == [("Transfer-Encoding", "chunked"), ("X-Note", "ab")]
    assert (second.body, accepted) == (b"next", 1), "the connection was not reusable after the chunked body"


def test_a_body_without_length_or_chunking_is_read_until_the_server_closes(feeds):
    pieces = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst ", b"and last")

    async def handler(conn: Conn) -> None:
        await conn.request()
        await conn.send(*pieces)
        conn.close()

    async def body(server: RawServer, pool: Http1Pool) -> tuple[Http1Response, int]:
        response = await fetch(pool, server.url("/until-close"))
        return response, pool.open_connections

    response, open_after = run_guarded(serve_and(handler, body))
    assert feeds == list(pieces), "the pieces were not received separately"
    assert (response.status, response.body) == (200, b"first and last")
    assert open_after == 0


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (ok(b""), 200),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 200),
        (b"HTTP/1.1 204 No Content\r\n\r\n", 204),
        (b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n', 304),
        # A 304 may carry the Content-Length the full answer would have had: still no body.
        (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", 304),
    ],
    ids=["content-length-0", "chunked-empty", "204", "304", "304-with-content-length"],
)
def test_an_empty_body_completes_and_the_connection_is_reused(answer, expected):
    async def body(server: RawServer, pool: Http1Pool) -> tuple[Http1Response, Http1Response, int]:
        empty = await fetch(pool, server.url("/empty"))
        after = await fetch(pool, server.url("/after"))
        return empty, after, server.accepted

    empty, after, accepted = run_guarded(serve_and(answering(answer, ok(b"after")), body))
    assert (empty.status, empty.body) == (expected, b"")
    assert after.body == b"after", "bytes of the next answer were taken as the empty body"
    assert accepted == 1


def test_requests_reach_the_server_exactly_as_encode_head_writes_them():
    big = bytes(range(256)) * 300  # over 64 KiB: written as head and body separately

    async def body(server: RawServer, pool: Http1Pool) -> tuple[list[Seen], bytes]:
        url = server.url("/small?a=1")
        await fetch(pool, url, "POST", b'{"k":1}', {"X-A": "1"})
        await fetch(pool, server.url("/big"), "PUT", big, {"Content-Type": "application/octet-stream"})
        return server.requests, encode_head("POST", yarl.URL(url), {"X-A": "1"}, b'{"k":1}')

    (small, large), expected_head = run_guarded(serve_and(answering(ok(b"ok")), body))
    assert small.head == expected_head
    assert small.body == b'{"k":1}'
    assert (large.method, large.body) == ("PUT", big)


# -- content encodings --------------------------------------------------------------------------

DATA = b'{"message": "' + b"compressible " * 200 + b'"}'


@pytest.mark.parametrize(
    ("encoding", "wire"),
    [
        ("gzip", gzip.compress(DATA)),
        ("x-gzip", gzip.compress(DATA)),
        ("deflate", zlib.compress(DATA)),
        ("deflate", raw_deflate(DATA)),
        ("GZip", gzip.compress(DATA)),
        ("identity", DATA),
    ],
    ids=["gzip", "x-gzip", "deflate-zlib", "deflate-raw", "gzip-mixed-case", "identity"],
)
def test_encoded_bodies_are_decoded_and_the_header_is_kept(encoding, wire):
    async def body(server: RawServer, pool: Http1Pool) -> Http1Response:
        return await fetch(pool, server.url("/encoded"))

    response = run_guarded(serve_and(answering(ok(wire, f"Content-Encoding: {encoding}")), body))
    assert response.body == DATA
    assert ("Content-Encoding", encoding) in response.headers


def test_header_values_are_read_as_utf_8_where_they_are_and_byte_for_byte_otherwise():
    async def body(server: RawServer, pool: Http1Pool) -> Http1Response:
        return await fetch(pool, server.url("/names"))

    answer = (
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Name: "
        + "名字".encode()
        + b"\r\nX-Latin: caf\xe9\r\n\r\n"
    )
    response = run_guarded(serve_and(answering(answer), body))
    assert ("X-Name", "名字") in response.headers
    assert ("X-Latin", "café") in response.headers


def test_trailers_of_a_chunked_body_are_not_taken_for_headers():
    async def body(server: RawServer, pool: Http1Pool) -> Http1Response:
        return await fetch(pool, server.url("/trailers"))

    answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n3\r\nabc\r\n0\r\nX-Checksum: 9\r\n\r\n"
    response = run_guarded(serve_and(answering(answer), body))
    assert response.body == b"abc"
    assert response.headers == [("Transfer-Encoding", "chunked"), ("Trailer", "X-Checksum")]


def test_a_gzip_body_sent_chunked_is_decoded():
    wire = gzip.compress(DATA)
    half = len(wire) // 2
    answer = (
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (half, wire[:half], len(wire) - half, wire[half:])
    )

    async def body(server: RawServer, pool: Http1Pool) -> Http1Response:
        return await fetch(pool, server.url("/gzip-chunked"))

    assert run_guarded(serve_and(answering(answer), body)).body == DATA


def test_an_unknown_encoding_is_an_error_naming_it():
    async def body(server: RawServer, pool: Http1Pool) -> Http1Response:
        return await fetch(pool, server.url("/compress"))

    with pytest.raises(BodyError) as info:
        run_guarded(serve_and(answering(ok(b"\x1f\x9dopaque", "Content-Encoding: compress")), body))
    assert str(info.value) == (
        "the answer's Content-Encoding 'compress' is not one flowdesk can decode (gzip, deflate, br, zstd)"
    )


def test_decode_false_leaves_the_bytes_alone():
    wire = gzip.compress(DATA)

    async def body(server: RawServer, pool: Http1Pool) -> Http1Response:
        return await fetch(pool, server.url("/gzip"), decode=False)

    response = run_guarded(serve_and(answering(ok(wire, "Content-Encoding: gzip")), body))
    assert response.body == wire


@pytest.mark.parametrize(
    ("encoding", "wire"),
    [
        ("gzip", b"\x1f\x8b\x08\x00 this is not gzip data at all"),
        ("gzip", gzip.compress(DATA)[:-12]),  # truncated
        ("deflate", b"neither zlib nor raw deflate \xff\xff"),
        ("br", b"\x8b\x00opaque"),
        ("zstd", b"\x28\xb5\x2f\xfd not zstd"),
    ],
    ids=["gzip-garbage", "gzip-truncated", "deflate-garbage", "br-garbage", "zstd-garbage"],
)
def test_a_corrupt_encoded_body_is_a_body_error_with_a_plain_message(encoding, wire):
    async def body(server: RawServer, pool: Http1Pool) -> None:
        await fetch(pool, server.url("/corrupt"))

    with pytest.raises(BodyError) as info:
        run_guarded(serve_and(answering(ok(wire, f"Content-Encoding: {encoding}")), body))
    message = str(info.value)
    assert message.startswith(f"the {encoding} body could not be decoded ("), message
    assert "\n" not in message and info.value.__cause__ is None


def test_decode_body_leaves_an_empty_body_alone_whatever_the_encoding():
    assert decode_body(b"", [("Content-Encoding", "gzip")]) == b""


# -- HEAD ---------------------------------------------------------------------------------------


def test_a_head_answer_with_content_length_but_no_body_completes_and_is_not_reused():
    head_answer = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Encoding: gzip\r\n\r\n"

    async def body(server: RawServer, pool: Http1Pool) -> tuple[Http1Response, int, int]:
        head = await fetch(pool, server.url("/head"), "HEAD")
        open_after_head = pool.open_connections
        await fetch(pool, server.url("/get"))
        await server.wait_until(lambda: 1 in server.client_closed, "the client closing the HEAD connection")
        return head, open_after_head, server.accepted

    handler = per_connection(answering(head_answer), answering(ok(b"got")))
    head, open_after_head, accepted = run_guarded(serve_and(handler, body))
    assert (head.status, head.body) == (200, b"")
    assert ("Content-Length", "1000") in head.headers
    assert open_after_head == 0
    assert accepted == 2


def test_head_against_the_test_server(http_server):
    async def main() -> tuple[Http1Response, Http1Response]:
        async with open_pool() as pool:
            head = await fetch(pool, f"{http_server.url}/large/5000", "HEAD")
            get = await fetch(pool, f"{http_server.url}/large/5000")
            return head, get

    head, get = run_guarded(main())
    assert (head.status, head.body, get.body) == (200, b"", b"x" * 5000)


# -- keep-alive ---------------------------------------------------------------------------------


def test_sequential_requests_to_one_origin_share_one_connection():
    async def body(server: RawServer, pool: Http1Pool) -> tuple[list[bytes], int, int]:
        bodies = [(await fetch(pool, server.url(f"/n/{i}"))).body for i in range(25)]
        return bodies, server.accepted, pool.open_connections

    bodies, accepted, open_now = run_guarded(serve_and(answering(ok(b"same")), body))
    assert bodies == [b"same"] * 25
    assert (accepted, open_now) == (1, 1)


def test_keep_alive_against_the_test_server(http_server):
    async def main() -> tuple[list[int], set[int]]:
        async with open_pool() as pool:
            counts, open_seen = [], set()
            for _ in range(20):
                response = await fetch(pool, f"{http_server.url}/hit/test_http1_keep_alive")
                counts.append(json.loads(response.body)["count"])
                open_seen.add(pool.open_connections)
            return counts, open_seen

    counts, open_seen = run_guarded(main())
    assert counts == list(range(1, 21))
    assert open_seen == {1}


@pytest.mark.parametrize(
    "answer",
    [
        ok(b"bye", "Connection: close"),
        b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold",
    ],
    ids=["connection-close", "http-1.0"],
)
def test_an_answer_that_ends_the_connection_is_not_reused(answer):
    # The server keeps reading: it is the client that must not send on that connection again.
    async def body(server: RawServer, pool: Http1Pool) -> tuple[int, list[tuple[int, str, str]]]:
        await fetch(pool, server.url("/one"))
        await fetch(pool, server.url("/two"))
        await server.wait_until(lambda: 1 in server.client_closed, "the client closing connection 1")
        return server.accepted, server.seen()

    accepted, seen = run_guarded(serve_and(answering(answer), body))
    assert seen == [(1, "GET", "/one"), (2, "GET", "/two")]
    assert accepted == 2


def test_an_http_1_0_answer_without_length_is_read_until_close():
    async def handler(conn: Conn) -> None:
        await conn.request()
        await conn.send(b"HTTP/1.0 200 OK\r\n\r\n", b"old style")
        conn.close()

    async def body(server: RawServer, pool: Http1Pool) -> Http1Response:
        return await fetch(pool, server.url("/old"))

    assert run_guarded(serve_and(handler, body)).body == b"old style"


def test_an_idle_connection_older_than_keepalive_expiry_is_not_reused():
    async def body(server: RawServer, pool: Http1Pool) -> tuple[int, list[tuple[int, str, str]]]:
        await fetch(pool, server.url("/before"))
        await asyncio.sleep(0.08)  # the thing under test: idle for longer than keepalive_expiry (0.04 s)
        await fetch(pool, server.url("/after"))
        await server.wait_until(
            lambda: 1 in server.client_closed, "the client closing the expired connection"
        )
        return server.accepted, server.seen()

    accepted, seen = run_guarded(serve_and(answering(ok(b"x")), body, keepalive_expiry=0.04))
    assert seen == [(1, "GET", "/before"), (2, "GET", "/after")]
    assert accepted == 2


def test_an_idle_connection_is_closed_once_keepalive_expiry_has_passed():
    async def body(server: RawServer, pool: Http1Pool) -> None:
        await fetch(pool, server.url("/once"))
        await server.wait_until(lambda: 1 in server.client_closed, "the expired idle connection closed")

    run_guarded(serve_and(answering(ok(b"x")), body, keepalive_expiry=0.05))


def test_an_idle_connection_the_server_closed_is_dropped_and_the_next_request_uses_a_new_one():
    async def body(server: RawServer, pool: Http1Pool) -> tuple[Http1Response, list[tuple[int, str, str]]]:
        await fetch(pool, server.url("/first"))
        await until(lambda: pool.open_connections == 0, "the pool noticing the server's close")
        post = await fetch(pool, server.url("/post"), "POST", b"data")
        return post, server.seen()

    handler = per_connection(lambda conn: answer_once_then(conn, "close"), answering(ok(b"fresh")))
    post, seen = run_guarded(serve_and(handler, body))
    assert post.body == b"fresh"
    assert seen == [(1, "GET", "/first"), (2, "POST", "/post")]


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"])
def test_an_idempotent_request_on_a_connection_the_server_dropped_is_sent_once_more(method):
    async def body(server: RawServer, pool: Http1Pool) -> tuple[Http1Response, list[tuple[int, str, str]]]:
        await fetch(pool, server.url("/first"))
        again = await fetch(pool, server.url("/again"), method, b"put-body" if method == "PUT" else None)
        return again, server.seen()

    handler = per_connection(lambda conn: answer_once_then(conn, "drop"), answering(ok(b"")))
    # One connection at most: the dropped one must be given back before the new one is made.
    again, seen = run_guarded(serve_and(handler, body, max_connections=1))
    assert again.status == 200
    assert seen == [(1, "GET", "/first"), (1, method, "/again"), (2, method, "/again")]


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_non_idempotent_request_on_a_connection_the_server_dropped_is_not_resent(method):
    async def body(server: RawServer, pool: Http1Pool) -> list[tuple[int, str, str]]:
        await fetch(pool, server.url("/first"))
        with pytest.raises(ServerDisconnectedError) as info:
            await fetch(pool, server.url("/once"), method, b"payload")
        assert info.value.answered is False
        return server.seen()

    handler = per_connection(lambda conn: answer_once_then(conn, "drop"), answering(ok(b"")))
    assert run_guarded(serve_and(handler, body)) == [(1, "GET", "/first"), (1, method, "/once")]


def test_a_request_is_resent_at_most_once():
    async def body(server: RawServer, pool: Http1Pool) -> list[tuple[int, str, str]]:
        await fetch(pool, server.url("/first"))
        with pytest.raises(ServerDisconnectedError):
            await fetch(pool, server.url("/again"))
        return server.seen()

    handler = per_connection(lambda conn: answer_once_then(conn, "drop"), drop_request, answering(ok(b"")))
    assert run_guarded(serve_and(handler, body)) == [
        (1, "GET", "/first"),
        (1, "GET", "/again"),
        (2, "GET", "/again"),
    ]


def test_a_new_connection_closed_without_an_answer_is_not_resent():
    async def body(server: RawServer, pool: Http1Pool) -> list[tuple[int, str, str]]:
        with pytest.raises(ServerDisconnectedError) as info:
            await fetch(pool, server.url("/only"))
        assert info.value.answered is False
        return server.seen()

    assert run_guarded(serve_and(per_connection(drop_request, answering(ok(b""))), body)) == [
        (1, "GET", "/only")
    ]


def test_a_connection_closed_mid_answer_is_answered_true_and_never_resent():
    async def body(server: RawServer, pool: Http1Pool) -> tuple[bool, list[tuple[int, str, str]]]:
        await fetch(pool, server.url("/first"))
        with pytest.raises(ServerDisconnectedError) as info:
            await fetch(pool, server.url("/cut"))
        return info.value.answered, server.seen()

    handler = per_connection(lambda conn: answer_once_then(conn, "cut"), answering(ok(b"")))
    answered, seen = run_guarded(serve_and(handler, body))
    assert answered is True
    assert seen == [(1, "GET", "/first"), (1, "GET", "/cut")]


def test_a_chunked_answer_cut_before_its_last_chunk_is_a_disconnect():
    async def handler(conn: Conn) -> None:
        await conn.request()
        await conn.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        conn.close()

    async def body(server: RawServer, pool: Http1Pool) -> None:
        await fetch(pool, server.url("/cut-chunked"))

    with pytest.raises(ServerDisconnectedError) as info:
        run_guarded(serve_and(handler, body))
    assert info.value.answered is True


# -- interim answers and answers that are not HTTP -------------------------------------------------

INTERIM = (
    b"HTTP/1.1 100 Continue\r\n\r\n",
    b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Final: yes\r\n\r\nok",
)


@pytest.mark.parametrize("split", [True, False], ids=["separate-writes", "one-write"])
def test_interim_1xx_answers_before_the_real_one_are_skipped(split):
    async def handler(conn: Conn) -> None:
        await conn.request()
        await conn.send(*INTERIM) if split else await conn.send(b"".join(INTERIM))
        await answering(ok(b"next"))(conn)

    async def body(server: RawServer, pool: Http1Pool) -> tuple[Http1Response, bytes, int]:
        final = await fetch(pool, server.url("/interim"))
        after = await fetch(pool, server.url("/after"))
        return final, after.body, server.accepted

    final, after, accepted = run_guarded(serve_and(handler, body))
    assert (final.status, final.reason, final.body) == (200, "OK", b"ok")
    assert final.headers == [("Content-Length", "2"), ("X-Final", "yes")], (
        "an interim answer's headers leaked"
    )
    assert (after, accepted) == (b"next", 1)


def test_an_interim_answer_then_a_close_is_a_disconnect_not_a_response():
    async def handler(conn: Conn) -> None:
        await conn.request()
        await conn.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        conn.close()

    async def body(server: RawServer, pool: Http1Pool) -> None:
        with pytest.raises(ServerDisconnectedError) as info:
            await fetch(pool, server.url("/interim-then-close"))
        assert info.value.answered is True

    run_guarded(serve_and(handler, body))


def test_garbage_instead_of_http_is_a_protocol_error_and_the_connection_is_closed():
    async def handler(conn: Conn) -> None:
        await conn.request()
        await conn.send(b"SSH-2.0-OpenSSH_9.6\r\n")
        await conn.until_closed()

    async def body(server: RawServer, pool: Http1Pool) -> int:
        with pytest.raises(ProtocolError) as info:
            await fetch(pool, server.url("/ssh"))
        assert str(info.value).startswith("the server's answer was not valid HTTP ("), str(info.value)
        await server.wait_until(lambda: 1 in server.client_closed, "the client closing the connection")
        return pool.open_connections

    assert run_guarded(serve_and(handler, body)) == 0


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
    ],
    ids=["with-upgrade-headers", "bare"],
)
def test_a_101_switching_protocols_is_a_protocol_error(answer):
    async def handler(conn: Conn) -> None:
        await conn.request()
        await conn.send(answer)
        await conn.until_closed()

    async def body(server: RawServer, pool: Http1Pool) -> int:
        with pytest.raises(ProtocolError):
            await fetch(pool, server.url("/ws"))
        return pool.open_connections

    assert run_guarded(serve_and(handler, body)) == 0


def test_a_101_with_upgrade_headers_says_the_server_switched_protocols():
    async def handler(conn: Conn) -> None:
        await conn.request()
        await conn.send(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n")
        await conn.until_closed()

    async def body(server: RawServer, pool: Http1Pool) -> None:
        await fetch(pool, server.url("/h2c"))

    with pytest.raises(ProtocolError) as info:
        run_guarded(serve_and(handler, body))
    assert str(info.value) == "the server switched protocols, which flowdesk does not speak"


# -- limits -------------------------------------------------------------------------------------


def test_ten_concurrent_requests_never_open_more_than_max_connections():
    in_flight = 0
    peak_in_flight = 0
    pool_seen: list[int] = []
    pool_ref: list[Http1Pool] = []

    async def handler(conn: Conn) -> None:
        nonlocal in_flight, peak_in_flight
        while (seen := await conn.request()) is not None:
            in_flight += 1
            peak_in_flight = max(peak_in_flight, in_flight)
            pool_seen.append(pool_ref[0].open_connections)
            await asyncio.sleep(0.01)  # the answer takes a while, so requests overlap
            in_flight -= 1
            await conn.send(ok(seen.target.encode()))

    async def body(server: RawServer, pool: Http1Pool) -> tuple[list[bytes], int, int, int]:
        pool_ref.append(pool)
        responses = await asyncio.gather(*(fetch(pool, server.url(f"/slow/{i}")) for i in range(10)))
        return [r.body for r in responses], server.accepted, server.max_open, pool.open_connections

    bodies, accepted, max_open, open_after = run_guarded(serve_and(handler, body, max_connections=2))
    assert bodies == [f"/slow/{i}".encode() for i in range(10)]
    assert (accepted, max_open, peak_in_flight) == (2, 2, 2)
    assert len(pool_seen) == 10 and max(pool_seen) <= 2
    assert open_after == 2


def test_with_the_limit_full_of_idle_connections_another_origin_closes_one_and_proceeds():
    async def a_handler(conn: Conn) -> None:
        await conn.request()
        await conn.server.wait_until(lambda: conn.server.accepted == 2, "two connections to A")
        await conn.send(ok(b"A"))
        await conn.until_closed()

    async def main() -> tuple[bytes, int, int, int]:
        async with RawServer(a_handler) as a, RawServer(answering(ok(b"B"))) as b:
            async with open_pool(max_connections=2) as pool:
                await asyncio.gather(fetch(pool, a.url("/1")), fetch(pool, a.url("/2")))
                assert pool.open_connections == 2, "the two requests to A did not open two connections"
                answer = await fetch(pool, b.url("/b"))
                await a.wait_until(lambda: len(a.client_closed) == 1, "one idle A connection closed")
                return answer.body, pool.open_connections, len(a.client_closed), b.accepted

    body, open_now, a_closed, b_accepted = run_guarded(main())
    assert (body, open_now, a_closed, b_accepted) == (b"B", 2, 1, 1)


def _held_handler(release: asyncio.Event) -> Handler:
    """Answers /hold once `release` is set, anything else at once."""

    async def handler(conn: Conn) -> None:
        while (seen := await conn.request()) is not None:
            if seen.target == "/hold":
                await release.wait()
            await conn.send(ok(seen.target.encode()))

    return handler


def test_a_waiter_cancelled_while_waiting_for_a_connection_leaks_no_slot():
    release = asyncio.Event()

    async def body(server: RawServer, pool: Http1Pool) -> tuple[list[bytes], int, int]:
        held = asyncio.create_task(fetch(pool, server.url("/hold")))
        await server.wait_until(lambda: len(server.requests) == 1, "the held request")
        waiting = asyncio.create_task(fetch(pool, server.url("/never-sent")))
        await asyncio.sleep(0)  # `waiting` now waits for the only connection
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        release.set()
        bodies = [(await held).body]
        for path in ("/third", "/fourth"):
            bodies.append((await fetch(pool, server.url(path))).body)
        return bodies, server.seen(), pool.open_connections

    bodies, seen, open_now = run_guarded(serve_and(_held_handler(release), body, max_connections=1))
    assert bodies == [b"/hold", b"/third", b"/fourth"]
    assert seen == [(1, "GET", "/hold"), (1, "GET", "/third"), (1, "GET", "/fourth")]
    assert open_now == 1


def test_a_waiter_cancelled_just_as_it_is_woken_passes_its_turn_on():
    # Reads the pool's private queue of waiters: only so the cancel lands between the wake-up
    # and the moment the woken caller runs (otherwise the third request would wait forever).
    release = asyncio.Event()

    async def body(server: RawServer, pool: Http1Pool) -> tuple[bytes, bytes]:
        held = asyncio.create_task(fetch(pool, server.url("/hold")))
        await server.wait_until(lambda: len(server.requests) == 1, "the held request")
        second = asyncio.create_task(fetch(pool, server.url("/second")))
        third = asyncio.create_task(fetch(pool, server.url("/third")))
        await until(lambda: len(pool._waiters) == 2, "two callers waiting")
        woken_first = pool._waiters[0]
        release.set()
        while not woken_first.done():  # one loop turn at a time: `second` has not run yet
            await asyncio.sleep(0)
        second.cancel()
        with pytest.raises(asyncio.CancelledError):
            await second
        return (await held).body, (await third).body

    assert run_guarded(serve_and(_held_handler(release), body, max_connections=1)) == (b"/hold", b"/third")


# -- cancellation and timeouts --------------------------------------------------------------------


def test_a_timed_out_request_closes_its_connection_and_later_requests_work():
    async def body(server: RawServer, pool: Http1Pool) -> tuple[int, Http1Response, int]:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.1):
                await fetch(pool, server.url("/silent"))
        open_after_timeout = pool.open_connections
        await server.wait_until(
            lambda: 1 in server.client_closed, "the client closing the timed-out connection"
        )
        later = await fetch(pool, server.url("/later"))
        return open_after_timeout, later, server.accepted

    open_after_timeout, later, accepted = run_guarded(
        serve_and(per_connection(never_answer, answering(ok(b"later"))), body)
    )
    assert open_after_timeout == 0
    assert (later.body, accepted) == (b"later", 2)


def test_a_cancelled_request_closes_its_connection():
    async def body(server: RawServer, pool: Http1Pool) -> int:
        task = asyncio.create_task(fetch(pool, server.url("/silent")))
        await server.wait_until(lambda: len(server.requests) == 1, "the request")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await server.wait_until(
            lambda: 1 in server.client_closed, "the client closing the cancelled connection"
        )
        return pool.open_connections

    assert run_guarded(serve_and(never_answer, body)) == 0


# -- closing the pool, bad URLs ---------------------------------------------------------------------


def test_aclose_closes_idle_connections_and_in_use_ones_once_their_exchange_ends():
    release = asyncio.Event()

    async def main() -> tuple[bytes, int]:
        async with RawServer(_held_handler(release)) as server:
            pool = Http1Pool()
            held = asyncio.create_task(fetch(pool, server.url("/hold")))
            await server.wait_until(lambda: len(server.requests) == 1, "the held request")
            await fetch(pool, server.url("/idle"))  # on a second connection, idle from now on
            assert server.seen() == [(1, "GET", "/hold"), (2, "GET", "/idle")]
            await pool.aclose()
            await server.wait_until(lambda: 2 in server.client_closed, "the idle connection closed")
            assert 1 not in server.client_closed, "the connection in use was closed under its exchange"
            release.set()
            answer = await held
            await server.wait_until(lambda: 1 in server.client_closed, "the used connection closed after")
            return answer.body, pool.open_connections

    assert run_guarded(main()) == (b"/hold", 0)


def test_a_caller_waiting_for_a_connection_when_the_pool_closes_is_refused():
    release = asyncio.Event()

    async def body(server: RawServer, pool: Http1Pool) -> None:
        held = asyncio.create_task(fetch(pool, server.url("/hold")))
        await server.wait_until(lambda: len(server.requests) == 1, "the held request")
        waiting = asyncio.create_task(fetch(pool, server.url("/after-close")))
        await asyncio.sleep(0)  # `waiting` now waits for the only connection
        await pool.aclose()
        release.set()
        await held
        with pytest.raises(PoolClosedError, match="the HTTP connection pool is closed"):
            await waiting
        assert server.accepted == 1, "a new connection was opened on the closed pool"

    run_guarded(serve_and(_held_handler(release), body, max_connections=1))


def test_a_closed_pool_refuses_requests():
    async def main() -> None:
        pool = Http1Pool()
        await pool.aclose()
        await fetch(pool, f"http://127.0.0.1:{closed_port()}/")

    with pytest.raises(PoolClosedError, match="the HTTP connection pool is closed"):
        run_guarded(main())


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/file", "/relative/path", "http:///no-host"])
def test_a_url_that_is_not_absolute_http_is_a_value_error(url):
    async def main() -> None:
        async with open_pool() as pool:
            await fetch(pool, url)

    with pytest.raises(ValueError, match="the URL is not an absolute http"):
        run_guarded(main())


def test_a_refused_connection_is_connection_refused_error():
    async def main() -> int:
        async with open_pool() as pool:
            with pytest.raises(ConnectionRefusedError):
                await fetch(pool, f"http://127.0.0.1:{closed_port()}/")
            return pool.open_connections

    assert run_guarded(main()) == 0


# -- encode_head ----------------------------------------------------------------------------------


def head_lines(
    method: str,
    url: str,
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    body: bytes | None = None,
    *,
    encoded: bool = False,
) -> list[str]:
    """The lines of encode_head's request head, without the blank line that ends it."""
    raw = encode_head(method, yarl.URL(url, encoded=encoded), headers or {}, body)
    assert raw.endswith(b"\r\n\r\n")
    return raw.decode().split("\r\n")[:-2]


def test_encode_head_writes_request_line_host_and_headers_exactly():
    raw = encode_head("GET", yarl.URL("http://127.0.0.1:8080/x?a=1"), {"Accept": "*/*"}, None)
    assert raw == b"GET /x?a=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAccept: */*\r\n\r\n"


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://api.test:8080/x", "api.test:8080"),
        ("http://api.test/x", "api.test"),
        ("http://api.test:80/x", "api.test"),
        ("https://api.test/x", "api.test"),
        ("https://api.test:443/x", "api.test"),
        ("https://api.test:8443/x", "api.test:8443"),
        ("https://api.test:80/x", "api.test:80"),
        ("http://[::1]:8080/x", "[::1]:8080"),
        ("http://[::1]/x", "[::1]"),
        ("http://127.0.0.1:9/x", "127.0.0.1:9"),
    ],
)
def test_encode_head_host_carries_the_port_only_when_it_is_not_the_default(url, host):
    assert head_lines("GET", url)[1] == f"Host: {host}"


def test_encode_head_keeps_the_callers_host():
    lines = head_lines("GET", "http://127.0.0.1:8080/x", {"X-A": "1", "host": "virtual.test"})
    assert lines == ["GET /x HTTP/1.1", "Host: virtual.test", "X-A: 1"]


def test_encode_head_drops_the_callers_framing_headers_and_computes_content_length():
    headers = {"Content-Length": "999", "transfer-encoding": "chunked", "Connection": "close", "X-A": "1"}
    lines = head_lines("POST", "http://127.0.0.1/p", headers, b"abc")
    assert lines == ["POST /p HTTP/1.1", "Host: 127.0.0.1", "X-A: 1", "Content-Length: 3"]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_encode_head_sends_content_length_0_for_a_bodiless_method_that_normally_has_a_body(method):
    assert head_lines(method, "http://127.0.0.1/p")[-1] == "Content-Length: 0"


@pytest.mark.parametrize("method", ["GET", "HEAD", "DELETE", "OPTIONS"])
def test_encode_head_sends_no_content_length_for_a_bodiless_get(method):
    assert not any(
        line.lower().startswith("content-length") for line in head_lines(method, "http://127.0.0.1/p")
    )


def test_encode_head_keeps_repeated_headers_in_order():
    lines = head_lines("GET", "http://127.0.0.1/", [("Accept", "a"), ("X-Tag", "1"), ("X-Tag", "2")])
    assert lines[2:] == ["Accept: a", "X-Tag: 1", "X-Tag: 2"]


@pytest.mark.parametrize(
    ("url", "target", "encoded"),
    [
        ("http://h.test/x?sig=a%2Bb%3D&s=%2F&n=%C3%A9&sp=%20", "/x?sig=a%2Bb%3D&s=%2F&n=%C3%A9&sp=%20", True),
        (
            "http://h.test/a%20b/c?q=x%20y&amp=%26&pct=%25&plus=%2B&eq=%3D",
            "/a%20b/c?q=x%20y&amp=%26&pct=%25&plus=%2B&eq=%3D",
            False,
        ),
        ("http://h.test/é?q=a b", "/%C3%A9?q=a+b", False),
        ("http://h.test", "/", False),
        ("http://h.test?x=1", "/?x=1", False),
    ],
    ids=["encoded-url-byte-for-byte", "escapes-kept", "raw-text-encoded", "no-path", "query-without-path"],
)
def test_encode_head_sends_the_target_percent_encoded(url, target, encoded):
    assert head_lines("GET", url, encoded=encoded)[0] == f"GET {target} HTTP/1.1"


# -- through HttpClient (the default transport, and httpx on the pool) -------------------------------


@pytest.fixture(scope="module")
def second_server() -> Iterator[LocalHttpServer]:
    """A second test server: another origin (another port) than `http_server`."""
    server = LocalHttpServer().start()
    try:
        yield server
    finally:
        server.stop()


async def send(request: HttpRequest, **client_options: Any) -> Any:
    async with HttpClient(**client_options) as client:
        return await client.send(request)


@pytest.mark.parametrize(
    ("method", "status", "method_after", "body_kept"),
    [
        ("POST", 301, "GET", False),
        ("POST", 302, "GET", False),
        ("POST", 303, "GET", False),
        ("PUT", 303, "GET", False),
        ("GET", 303, "GET", False),
        ("PUT", 301, "PUT", True),
        ("PUT", 302, "PUT", True),
        ("POST", 307, "POST", True),
        ("POST", 308, "POST", True),
        ("PATCH", 307, "PATCH", True),
    ],
)
def test_redirect_method_and_body_rules(http_server, method, status, method_after, body_kept):
    url = f"{http_server.url}/redirect-to?url=/anything/landed&status={status}"
    json = None if method == "GET" else {"a": 1}
    response = run_guarded(send(HttpRequest(method, url, json=json)))
    echoed = response.data
    assert (response.status, echoed["path"], echoed["method"]) == (200, "/anything/landed", method_after)
    if body_kept:
        assert (echoed["json"], echoed["headers"].get("content-type")) == ({"a": 1}, "application/json")
    else:
        assert (echoed["body"], echoed["headers"].get("content-type")) == ("", None)
    assert response.url == f"{http_server.url}/anything/landed"


@pytest.mark.parametrize("status", [302, 307])
def test_authorization_is_kept_on_the_same_origin_and_dropped_on_another(http_server, second_server, status):
    auth = {"Authorization": "Bearer secret-token", "X-Other": "kept"}
    same = f"{http_server.url}/redirect-to?url=/anything/same&status={status}"
    other = f"{http_server.url}/redirect-to?url={second_server.url}/anything/other&status={status}"
    kept = run_guarded(send(HttpRequest("POST", same, headers=auth, json={"n": 1}))).data
    dropped = run_guarded(send(HttpRequest("POST", other, headers=auth, json={"n": 1}))).data
    assert kept["headers"]["authorization"] == "Bearer secret-token"
    assert dropped["headers"]["host"] == second_server.url.removeprefix("http://")
    assert "authorization" not in dropped["headers"]
    assert dropped["headers"]["x-other"] == "kept"


def test_twenty_redirects_are_followed_and_the_twenty_first_is_one_plain_sentence(http_server):
    assert run_guarded(send(HttpRequest("GET", f"{http_server.url}/redirect/20"))).status == 200
    url = f"{http_server.url}/redirect/21"
    with pytest.raises(HttpCallError) as info:
        run_guarded(send(HttpRequest("GET", url)))
    assert type(info.value) is HttpCallError
    assert str(info.value) == f"GET {url} redirected more than 20 times"


CLIENT_TRANSPORTS = ["http1", "httpx"]


@pytest.mark.parametrize("transport", CLIENT_TRANSPORTS)
def test_client_says_a_refused_connection_was_refused(transport):
    url = f"http://127.0.0.1:{closed_port()}/users/1"
    with pytest.raises(ConnectionFailedError) as info:
        run_guarded(send(HttpRequest("GET", url), transport=transport))
    assert str(info.value) == f"GET {url} failed: the connection was refused (is the server running?)"


@pytest.mark.parametrize("transport", CLIENT_TRANSPORTS)
def test_client_says_a_silent_server_timed_out_and_closes_the_connection(transport):
    async def main() -> tuple[str, str]:
        async with RawServer(never_answer) as server:
            url = server.url("/silent")
            with pytest.raises(RequestTimedOutError) as info:
                await send(HttpRequest("GET", url, timeout=0.1), transport=transport)
            await server.wait_until(lambda: 1 in server.client_closed, "the client closing the connection")
            return str(info.value), url

    message, url = run_guarded(main())
    assert message == f"GET {url} timed out after 0.1 s"


@pytest.mark.parametrize("transport", CLIENT_TRANSPORTS)
@pytest.mark.parametrize(
    ("handler", "sentence"),
    [
        (drop_request, "failed: the server closed the connection without answering"),
        (
            cut_at_once,
            "failed: the server closed the connection before its answer was complete",
        ),
    ],
    ids=["without-answering", "mid-answer"],
)
def test_client_says_the_server_closed_the_connection(transport, handler, sentence):
    async def main() -> tuple[str, str]:
        async with RawServer(handler) as server:
            url = server.url("/closing")
            with pytest.raises(ConnectionFailedError) as info:
                await send(HttpRequest("POST", url, json={}), transport=transport)
            return str(info.value), url

    message, url = run_guarded(main())
    assert message == f"POST {url} {sentence}"


@pytest.mark.parametrize(
    "transport",
    [
        "http1",
        "httpx",
    ],
)
def test_client_says_garbage_was_not_valid_http(transport):
    async def main() -> tuple[ConnectionFailedError, str]:
        async with RawServer(answering(b"SSH-2.0-OpenSSH_9.6\r\n")) as server:
            url = server.url("/ssh")
            with pytest.raises(ConnectionFailedError) as info:
                await send(HttpRequest("GET", url), transport=transport)
            return info.value, url

    error, url = run_guarded(main())
    assert str(error).startswith(f"GET {url} failed: the server's answer was not valid HTTP ("), str(error)


@pytest.mark.parametrize(
    "transport",
    [
        "http1",
        "httpx",
    ],
)
def test_client_says_a_corrupt_gzip_body_could_not_be_decoded(transport):
    async def main() -> tuple[HttpCallError, str]:
        async with RawServer(answering(ok(b"\x1f\x8bnope", "Content-Encoding: gzip"))) as server:
            url = server.url("/gz")
            with pytest.raises(HttpCallError) as info:
                await send(HttpRequest("GET", url), transport=transport)
            return info.value, url

    error, url = run_guarded(main())
    message = str(error)  # the http1 transport: "failed: the gzip body could not be decoded (<zlib's words>)"
    assert message.startswith(f"GET {url} failed: ") and "body could not be decoded" in message, message


def test_httpx_client_raises_connect_error_for_a_refused_connection():
    async def main() -> None:
        async with HttpClient() as client:
            await client.httpx_client.get(f"http://127.0.0.1:{closed_port()}/")

    with pytest.raises(httpx.ConnectError) as info:
        run_guarded(main())
    assert isinstance(info.value.__cause__, ConnectionRefusedError)


def test_httpx_client_raises_remote_protocol_error_for_a_server_closing_without_answering():
    async def main() -> None:
        async with RawServer(drop_request) as server, HttpClient() as client:
            await client.httpx_client.get(server.url("/drop"))

    with pytest.raises(httpx.RemoteProtocolError) as info:
        run_guarded(main())
    assert isinstance(info.value.__cause__, ServerDisconnectedError)


def test_httpx_client_raises_read_timeout_for_a_silent_server():
    async def main() -> set[int]:
        async with RawServer(never_answer) as server, HttpClient() as client:
            with pytest.raises(httpx.ReadTimeout):
                await client.httpx_client.get(server.url("/silent"), timeout=0.1)
            await server.wait_until(lambda: 1 in server.client_closed, "the client closing the connection")
            return server.client_closed

    assert run_guarded(main()) == {1}


INNER = gzip.compress(b"the content is itself a gzip file")  # decoded twice, it would come out as text


def test_httpx_client_decodes_a_gzip_body_once():
    async def main() -> httpx.Response:
        async with RawServer(answering(ok(gzip.compress(INNER), "Content-Encoding: gzip"))) as server:
            async with HttpClient() as client:
                return await client.httpx_client.get(server.url("/gz"))

    response = run_guarded(main())
    assert response.content == INNER
    assert response.headers["content-encoding"] == "gzip"


@pytest.mark.parametrize("transport", CLIENT_TRANSPORTS)
def test_client_decodes_a_gzip_body_once(transport):
    async def main() -> Any:
        async with RawServer(answering(ok(gzip.compress(INNER), "Content-Encoding: gzip"))) as server:
            return await send(HttpRequest("GET", server.url("/gz")), transport=transport)

    response = run_guarded(main())
    assert response.body == INNER
    assert response.headers["content-encoding"] == "gzip"


# -- HTTPS --------------------------------------------------------------------------------------


@dataclass
class Certificate:
    cert_file: Path
    key_file: Path
    pem: str


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for localhost and 127.0.0.1, made now."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "flowdesk test server")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (folder / "cert.pem").write_bytes(pem)
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return Certificate(folder / "cert.pem", folder / "key.pem", pem.decode())


def server_context(certificate: Certificate, names: list[str | None]) -> ssl.SSLContext:
    """The TLS server's context; `names` collects the server names clients send (SNI)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.cert_file, certificate.key_file)
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)  # type: ignore[assignment,return-value]
    return context


def trusting_context(certificate: Certificate) -> ssl.SSLContext:
    return ssl.create_default_context(cadata=certificate.pem)


def test_https_with_a_context_trusting_the_certificate_succeeds_with_sni(certificate):
    names: list[str | None] = []

    async def main() -> tuple[Http1Response, Http1Response, int]:
        async with RawServer(
            answering(ok(b"secure")), ssl_context=server_context(certificate, names)
        ) as server:
            async with open_pool(ssl_context=trusting_context(certificate)) as pool:
                first = await fetch(pool, server.url("/tls", host="localhost"))
                second = await fetch(pool, server.url("/tls-again", host="localhost"))
                return first, second, server.accepted

    first, second, accepted = run_guarded(main())
    assert (first.status, first.body, second.body) == (200, b"secure", b"secure")
    assert names == ["localhost"]
    assert accepted == 1, "the TLS connection was not kept alive"


def test_https_body_read_until_close_over_tls(certificate):
    async def handler(conn: Conn) -> None:
        await conn.request()
        await conn.send(b"HTTP/1.1 200 OK\r\n\r\n", b"until the TLS close")
        conn.close()

    async def main() -> Http1Response:
        async with RawServer(handler, ssl_context=server_context(certificate, [])) as server:
            async with open_pool(ssl_context=trusting_context(certificate)) as pool:
                return await fetch(pool, server.url("/tls"))

    assert run_guarded(main()).body == b"until the TLS close"


def test_https_with_the_default_verifying_context_refuses_a_self_signed_certificate(certificate):
    async def main() -> int:
        async with RawServer(answering(ok(b"secure")), ssl_context=server_context(certificate, [])) as server:
            async with open_pool() as pool:
                with pytest.raises(ssl.SSLCertVerificationError, match="CERTIFICATE_VERIFY_FAILED"):
                    await fetch(pool, server.url("/tls", host="localhost"))
                return pool.open_connections

    assert run_guarded(main()) == 0


@pytest.mark.parametrize("transport", CLIENT_TRANSPORTS)
def test_client_says_the_tls_handshake_failed_for_a_self_signed_certificate(certificate, transport):
    async def main() -> tuple[str, str]:
        async with RawServer(answering(ok(b"secure")), ssl_context=server_context(certificate, [])) as server:
            url = server.url("/tls")
            with pytest.raises(ConnectionFailedError) as info:
                await send(HttpRequest("GET", url), transport=transport)
            return str(info.value), url

    message, url = run_guarded(main())
    assert message.startswith(f"GET {url} failed: the TLS handshake failed ("), message
    assert "CERTIFICATE_VERIFY_FAILED" in message


def test_client_with_verify_false_accepts_a_self_signed_certificate(certificate):
    async def main() -> Any:
        async with RawServer(answering(ok(b"secure")), ssl_context=server_context(certificate, [])) as server:
            return await send(HttpRequest("GET", server.url("/tls")), verify=False)

    response = run_guarded(main())
    assert (response.status, response.body) == (200, b"secure")
