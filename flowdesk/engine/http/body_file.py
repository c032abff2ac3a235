"""The file an API_CALL's `save_to` streams a whole response body into, written atomically.

The body goes to a temporary file beside the target (same folder, so the rename is atomic) while it
is read; only a call that succeeded renames it over the target. A failed, retried or cancelled call
removes its temporary file, so the target is either the previous file or the whole new body.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


class BodyFileError(OSError):
    """The `save_to` path cannot be written: one plain sentence naming it."""


class BodyFile:
    """A temporary file beside `path` that becomes `path` on `commit()`, or disappears on `discard()`."""

    def __init__(self, path: str) -> None:
        text = str(path).strip()
        if not text:
            raise BodyFileError("save_to is empty: give the path of the file to write the body to")
        self.target = Path(text).expanduser()
        folder = self.target.parent
        if self.target.is_dir():
            raise BodyFileError(f"save_to {text!r} is a folder, not a file")
        if not folder.is_dir():
            raise BodyFileError(f"save_to {text!r}: the folder {str(folder)!r} does not exist")
        try:
            fd, temp = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=".part", dir=folder)
        except OSError as exc:
            raise BodyFileError(f"save_to {text!r} cannot be written ({exc.strerror or exc})") from None
        self.temp = Path(temp)
        self.file = os.fdopen(fd, "wb")
        self.size = 0
        self.done = False

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return self.file.write(data)

    def seek(self, offset: int) -> int:
        """Start again (a redirect's body was written before the final answer's)."""
        self.size = offset
        return self.file.seek(offset)

    def truncate(self, size: int | None = None) -> int:
        return self.file.truncate(size)

    def commit(self) -> tuple[str, int]:
        """Rename the whole body over the target; returns (path, size)."""
        if self.done:
            return str(self.target), self.size
        self.done = True
        try:
            self.file.close()
            os.replace(self.temp, self.target)
        except OSError as exc:
            self._remove_temp()
            raise BodyFileError(
                f"save_to {str(self.target)!r} cannot be written ({exc.strerror or exc})"
            ) from None
        return str(self.target), self.size

    def discard(self) -> None:
        """Remove the temporary file (the call failed or is sent again)."""
        if self.done:
            return
        self.done = True
        self.file.close()
        self._remove_temp()

    def _remove_temp(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.temp.unlink()
