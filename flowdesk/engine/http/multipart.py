"""multipart/form-data bodies: text fields and files streamed from disk, never read whole.

A node's `body` with `body_type: "multipart"` is an object; each value is a text field (a string,
number or boolean), a file part `{"path": ..., "filename": ..., "content_type": ...}` (filename and
content_type optional), or a list of those (the name repeated). The step row shows the fields, and
of each file its name and size only.
"""

from __future__ import annotations

import mimetypes
import os
import secrets
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from flowdesk.domain.errors import InvalidInputError

CHUNK_SIZE = 64 * 1024


@dataclass(frozen=True, slots=True)
class FilePart:
    """One file of a multipart body: where it is on disk and how it is labelled."""

    path: str
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class MultipartBody:
    """The parts of a multipart body, in order: (name, text) fields and (name, FilePart) files."""

    parts: tuple[tuple[str, str | FilePart], ...]

    def describe(self) -> dict[str, Any]:
        """What the step row shows: text fields as they are, files as name, size and type."""
        shown: dict[str, Any] = {}
        for name, part in self.parts:
            value: Any = part
            if isinstance(part, FilePart):
                value = {"filename": part.filename, "size": part.size, "content_type": part.content_type}
            if name in shown:
                previous = shown[name]
                shown[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
            else:
                shown[name] = value
        return shown

    def content_type(self, boundary: str) -> str:
        return f"multipart/form-data; boundary={boundary}"

    def _heads(self, boundary: str) -> list[bytes]:
        heads = []
        for name, part in self.parts:
            lines = [f"--{boundary}", f'Content-Disposition: form-data; name="{_quoted(name)}"']
            if isinstance(part, FilePart):
                lines[1] += f'; filename="{_quoted(part.filename)}"'
                lines.append(f"Content-Type: {part.content_type}")
            heads.append(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))
        return heads

    def length(self, boundary: str) -> int:
        """The body's size in bytes (sent as Content-Length: no chunked upload)."""
        total = 0
        for head, (_, part) in zip(self._heads(boundary), self.parts, strict=True):
            size = part.size if isinstance(part, FilePart) else len(part.encode("utf-8"))
            total += len(head) + size + 2
        return total + len(f"--{boundary}--\r\n")

    async def stream(self, boundary: str) -> AsyncIterator[bytes]:
        """The body, files read from disk in 64 KB pieces as it is sent (never whole in memory)."""
        for head, (name, part) in zip(self._heads(boundary), self.parts, strict=True):
            yield head
            if isinstance(part, FilePart):
                sent = 0
                try:
                    with open(part.path, "rb") as handle:
                        while chunk := handle.read(CHUNK_SIZE):
                            sent += len(chunk)
                            yield chunk
                except OSError as exc:
                    raise InvalidInputError(
                        f"the file of multipart part '{name}' cannot be read: {part.path}"
                        f" ({exc.strerror or type(exc).__name__})"
                    ) from None
                if sent != part.size:
                    raise InvalidInputError(
                        f"the file of multipart part '{name}' changed while it was sent: {part.path}"
                    )
            else:
                yield part.encode("utf-8")
            yield b"\r\n"
        yield f"--{boundary}--\r\n".encode()


def new_boundary() -> str:
    return secrets.token_hex(16)


def _quoted(text: str) -> str:
    """A name or file name inside quotes, escaped as browsers do (WHATWG HTML's form encoding)."""
    return text.replace("\n", "%0A").replace("\r", "%0D").replace('"', "%22")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _file_part(name: str, spec: Mapping[str, Any]) -> FilePart:
    path = spec.get("path")
    if not isinstance(path, str) or not path.strip():
        raise InvalidInputError(f"the file of multipart part '{name}' needs a 'path'")
    path = os.path.expanduser(path)
    if not os.path.isfile(path):
        raise InvalidInputError(f"the file of multipart part '{name}' does not exist: {path}")
    filename = str(spec.get("filename") or os.path.basename(path))
    content_type = str(
        spec.get("content_type") or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    )
    return FilePart(path, filename, content_type, os.path.getsize(path))


def multipart_body(body: Any) -> MultipartBody:
    """The parts of a rendered multipart `body`; one sentence naming the part when one is unusable."""
    if not isinstance(body, Mapping):
        raise InvalidInputError(
            f"a multipart body must be an object of part names to values, got {type(body).__name__}"
        )
    parts: list[tuple[str, str | FilePart]] = []
    for name, value in body.items():
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            if isinstance(item, Mapping):
                parts.append((str(name), _file_part(str(name), item)))
            elif isinstance(item, str | int | float | bool):
                parts.append((str(name), _text(item)))
            else:
                raise InvalidInputError(
                    f"multipart part '{name}' must be text or a file object, got {type(item).__name__}"
                )
    return MultipartBody(tuple(parts))
