"""Small real file systems for tests: a tmpfs of a given size, remounted read-only on demand.

Root (or CAP_SYS_ADMIN) is needed to mount; where mounting is refused the tests that need it are
skipped with the reason, unless FLOWDESK_REQUIRE_MOUNT=1 (CI), where that is a failure. Every mount
is undone when the test ends, whatever happened in it. This is the one place the tests mount
anything (the store's read-only and full-disk tests, the engine's full-disk runs on SQLite and on a
PostgreSQL tablespace).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


class SmallDisk:
    """A mounted tmpfs at `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read_only(self) -> None:
        """Remount it read-only: nobody, root included, can write to it until `writable()`."""
        _mount("-o", "remount,ro", str(self.path))

    def writable(self) -> None:
        _mount("-o", "remount,rw", str(self.path))

    def fill(self) -> None:
        """Write a file until no byte is left on it."""
        fd = os.open(self.path / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            size = 1 << 16
            while size:
                try:
                    os.write(fd, b"\0" * size)
                except OSError:
                    size //= 2  # the last blocks, smaller and smaller, down to one byte
        finally:
            os.close(fd)


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=True, timeout=30)


@contextmanager
def small_disk(where: Path, size: str = "4m", options: str = "mode=0777") -> Iterator[SmallDisk]:
    """A tmpfs of `size` mounted at `where` (created), unmounted afterwards; `options` are the other
    tmpfs options (owner, mode)."""
    where.mkdir(parents=True, exist_ok=True)
    refused = None
    if shutil.which("mount") is None:
        refused = "the mount command is not installed"
    else:
        try:
            _mount("-t", "tmpfs", "-o", f"size={size},{options}", "tmpfs", str(where))
        except subprocess.CalledProcessError as err:
            refused = f"mounting a tmpfs was refused: {err.stderr.strip() or err}"
    if refused is not None:
        if os.environ.get("FLOWDESK_REQUIRE_MOUNT") == "1":
            pytest.fail(f"FLOWDESK_REQUIRE_MOUNT=1 but {refused}")
        pytest.skip(refused)
    try:
        yield SmallDisk(where)
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30)
