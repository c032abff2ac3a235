"""Reading one response body with bounds: Content-Encoding decoded step by step, kept up to a limit.

Every transport of the engine reads bodies through `BodyReader` (the HTTP/1.1 pool from its parser
callbacks, aiohttp and httpx from their chunk iterators, via `read_body`), so they agree on what
they decode, where they stop and what they say.

- Encodings: gzip (x-gzip), deflate (zlib-wrapped or raw), br (the `brotli` package), zstd (the
  `zstandard` package) and identity, stacked as the header lists them (`gzip, br` is undone br
  first). Any other encoding is a `BodyError` naming it: binary data is never passed on as text.
- Bounds: decoding is incremental with a bounded output per step (zlib's `max_length`, brotli's
  `output_buffer_limit`, zstd fed in small pieces), so a 2 MB gzip bomb stops at the limit with the
  memory near the limit, never at 2 GiB. Past the limit the decoded bytes are dropped and the body
  is `truncated`; the raw rest is drained (to keep the connection) only while it is small
  (`DRAIN_LIMIT`), else the reader says stop and the transport closes the connection.
- A `sink` (the `save_to` file) receives every decoded byte instead: no limit, nothing kept in memory.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

import brotli  # type: ignore[import-untyped]
import zstandard

STEP = 256 * 1024
"""At most this many decoded bytes come out of one decoding step (bounds the memory of a bomb)."""
DRAIN_LIMIT = 256 * 1024
"""Raw bytes past the limit read and dropped to keep the connection; a longer rest closes it."""
_ZSTD_PIECE = 64
"""zstd input is fed in pieces this small: a piece can finish at most 17 blocks of 128 KiB each."""
BODY_LIMIT_EXTENSION = "flowdesk.body_limit"
"""httpx request extension: decoded body bytes a flowdesk transport keeps (absent: the whole body)."""
BODY_SINK_EXTENSION = "flowdesk.body_sink"
"""httpx request extension: where a flowdesk transport streams the whole body (a BodySink)."""
BODY_EXTENSION = "flowdesk.body"
"""httpx response extension: the Body a flowdesk transport read (its content already decoded)."""
SUPPORTED_ENCODINGS = ("gzip", "x-gzip", "deflate", "br", "zstd", "identity")


class BodyError(ValueError):
    """A body that cannot be decoded (an unknown encoding, corrupt data): one plain sentence."""


class BodySink(Protocol):
    """Where a whole body is streamed instead of memory (body_file.BodyFile)."""

    def write(self, data: bytes, /) -> int: ...

    def seek(self, offset: int, /) -> int: ...

    def truncate(self, size: int | None = None, /) -> int: ...


class _Stage(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]: ...

    def flush(self) -> Iterator[bytes]: ...


class _Zlib:
    """gzip or deflate; deflate without the zlib wrapper (sent by some servers) is detected."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.raw_deflate_tried = name != "deflate"
        self.decoder = zlib.decompressobj(16 + zlib.MAX_WBITS if name != "deflate" else zlib.MAX_WBITS)
        self.started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self.decoder.eof or not data:
            return  # bytes after the end of the stream are ignored, as zlib and browsers do
        try:
            out = self.decoder.decompress(data, STEP)
        except zlib.error as exc:
            if self.started or self.raw_deflate_tried:
                raise BodyError(f"the {self.name} body could not be decoded ({exc})") from None
            self.raw_deflate_tried = True
            self.decoder = zlib.decompressobj(-zlib.MAX_WBITS)
            yield from self.feed(data)
            return
        self.started = True
        yield out
        while self.decoder.unconsumed_tail and not self.decoder.eof:
            try:
                out = self.decoder.decompress(self.decoder.unconsumed_tail, STEP)
            except zlib.error as exc:
                raise BodyError(f"the {self.name} body could not be decoded ({exc})") from None
            yield out

    def flush(self) -> Iterator[bytes]:
        if self.started and not self.decoder.eof:
            raise BodyError(f"the {self.name} body could not be decoded (the stream ended early)")
        return iter(())


class _Brotli:
    name = "br"

    def __init__(self) -> None:
        self.decoder = brotli.Decompressor()
        self.started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not data:
            return
        self.started = True
        try:
            out = self.decoder.process(data, output_buffer_limit=STEP)
            yield out
            # More output may wait inside the decoder even when it says it can take more input:
            # ask with empty input until it gives nothing (output_buffer_limit is approximate:
            # a step can give about twice STEP).
            while not self.decoder.is_finished() and (out or not self.decoder.can_accept_more_data()):
                out = self.decoder.process(b"", output_buffer_limit=STEP)
                yield out
        except brotli.error as exc:
            raise BodyError(f"the br body could not be decoded ({exc or 'corrupt data'})") from None

    def flush(self) -> Iterator[bytes]:
        if self.started and not self.decoder.is_finished():
            raise BodyError("the br body could not be decoded (the stream ended early)")
        return iter(())


class _Zstd:
    name = "zstd"

    def __init__(self) -> None:
        self.decoder = zstandard.ZstdDecompressor().decompressobj()
        self.started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        view = memoryview(data)
        try:
            for start in range(0, len(view), _ZSTD_PIECE):
                if self.decoder.eof:
                    return
                self.started = True
                yield self.decoder.decompress(view[start : start + _ZSTD_PIECE])
        except zstandard.ZstdError as exc:
            raise BodyError(f"the zstd body could not be decoded ({exc})") from None

    def flush(self) -> Iterator[bytes]:
        if self.started and not self.decoder.eof:
            raise BodyError("the zstd body could not be decoded (the stream ended early)")
        return iter(())


Headers = Iterable[tuple[str, str]] | Mapping[str, str]


def content_encodings(headers: Headers) -> list[str]:
    """The Content-Encoding codings of a response in the order applied (identity left out)."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    codings: list[str] = []
    for name, value in pairs:
        if name.lower() == "content-encoding":
            codings.extend(c.strip().lower() for c in value.split(",") if c.strip())
    return [c for c in codings if c != "identity"]


def _stage(coding: str) -> _Stage:
    if coding in ("gzip", "x-gzip", "deflate"):
        return _Zlib("gzip" if coding == "x-gzip" else coding)
    if coding == "br":
        return _Brotli()
    if coding == "zstd":
        return _Zstd()
    raise BodyError(
        f"the answer's Content-Encoding {coding!r} is not one flowdesk can decode (gzip, deflate, br, zstd)"
    )


@dataclass(slots=True)
class Body:
    """A body as read: the decoded bytes kept, whether some were cut, the whole size when known."""

    content: bytes
    truncated: bool = False
    size: int | None = None  # decoded bytes of the whole body, when known (None: cut before the end)
    raw_size: int = 0  # bytes read from the connection for this body
    saved: int | None = None  # bytes written to the sink, when there was one


class BodyReader:
    """Decodes and keeps one body fed raw piece by piece; `feed` returns False when reading should stop.

    `limit` bounds the decoded bytes kept (None: no bound); `expected` is the Content-Length when
    the server sent one; `sink`, when given, receives the whole decoded body instead of memory.
    """

    __slots__ = (
        "stages",
        "limit",
        "expected",
        "sink",
        "kept",
        "kept_size",
        "decoded",
        "raw_size",
        "truncated",
        "drained",
        "encoded",
        "plain",
    )

    def __init__(
        self,
        encodings: list[str],
        *,
        limit: int | None = None,
        expected: int | None = None,
        sink: BodySink | None = None,
    ) -> None:
        self.stages = [_stage(coding) for coding in reversed(encodings)]
        self.encoded = bool(self.stages)
        self.plain = not self.stages and sink is None
        self.limit = None if sink is not None else limit
        self.expected = expected
        self.sink = sink
        if sink is not None:  # a new answer (after a redirect): its body replaces the previous one's
            sink.seek(0)
            sink.truncate()
        self.kept: list[bytes] = []
        self.kept_size = 0
        self.decoded = 0
        self.raw_size = 0
        self.truncated = False
        self.drained = 0  # raw bytes read past the limit

    def _decoded(self, data: bytes, index: int = 0) -> Iterator[bytes]:
        if index == len(self.stages):
            yield data
            return
        for piece in self.stages[index].feed(data):
            if piece:
                yield from self._decoded(piece, index + 1)

    def _flushed(self, index: int = 0) -> Iterator[bytes]:
        if index == len(self.stages):
            return
        for piece in self.stages[index].flush():
            if piece:
                yield from self._decoded(piece, index + 1)
        yield from self._flushed(index + 1)

    def _take(self, pieces: Iterator[bytes]) -> None:
        for piece in pieces:
            self.decoded += len(piece)
            if self.sink is not None:
                self.sink.write(piece)
                continue
            room = len(piece) if self.limit is None else self.limit - self.kept_size
            if room < len(piece):
                if room > 0:
                    self.kept.append(piece[:room])
                    self.kept_size += room
                self.truncated = True
                return  # stop decoding: a bomb's rest is never expanded
            self.kept.append(piece)
            self.kept_size += len(piece)

    def feed(self, raw: bytes) -> bool:
        """Take the next raw bytes; False: the body is cut and its rest too long to drain."""
        size = len(raw)
        self.raw_size += size
        if self.plain and (self.limit is None or self.kept_size + size <= self.limit):
            self.kept.append(raw)  # the common case: nothing to decode, under the limit
            self.kept_size += size
            self.decoded += size
            return True
        if self.truncated:
            self.drained += len(raw)
            return self.drained <= DRAIN_LIMIT
        self._take(self._decoded(raw))
        if not self.truncated:
            return True
        if self.expected is not None:
            return self.expected - self.raw_size <= DRAIN_LIMIT
        return True  # unknown length: drain up to DRAIN_LIMIT more

    def finish(self, *, complete: bool = True) -> Body:
        """The body read so far; `complete` when the message ended (then the decoders are flushed)."""
        if complete and not self.truncated:
            self._take(self._flushed())
        content = self.kept[0] if len(self.kept) == 1 else b"".join(self.kept)
        self.kept = []
        size: int | None = self.decoded
        if self.truncated:
            # Decoding stopped at the limit: only an identity body's size is known (its length).
            if self.encoded:
                size = None
            elif complete:
                size = self.raw_size
            else:
                size = self.expected
        return Body(
            content,
            truncated=self.truncated,
            size=size,
            raw_size=self.raw_size,
            saved=self.decoded if self.sink is not None else None,
        )


def decode_all(body: bytes, headers: Headers, limit: int | None = None) -> Body:
    """A whole body at once (read by a library that had it all): decoded under the same bounds."""
    reader = BodyReader(content_encodings(headers), limit=limit)
    reader.feed(body)
    return reader.finish()


async def read_body(
    chunks: AsyncIterable[bytes],
    headers: Headers,
    *,
    limit: int | None,
    sink: BodySink | None = None,
    expected: int | None = None,
) -> tuple[Body, bool]:
    """Read a library's raw body stream through a `BodyReader`; returns the body and whether the
    stream was read to its end (False: stopped early, so the caller closes the connection)."""
    reader = BodyReader(content_encodings(headers), limit=limit, expected=expected, sink=sink)
    async for chunk in chunks:
        if not reader.feed(chunk):
            return reader.finish(complete=False), False
    return reader.finish(), True
