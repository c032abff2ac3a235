"""Started where no window can open, the app says why in one sentence (exit 2) instead of Qt's
abort (exit 134, "Reinstalling the application may fix this problem")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowdesk import display_check
from flowdesk.display_check import display_problem, missing_xcb_library, package_for

ROOT = Path(__file__).resolve().parents[2]


def _bare_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment cleared of everything but what Python needs to find flowdesk."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    env.update(extra)
    return env


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({}, "neither DISPLAY nor WAYLAND_DISPLAY is set"),
        ({"QT_QPA_PLATFORM": "xcb"}, "QT_QPA_PLATFORM is xcb but DISPLAY is not set"),
    ],
)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the display check is Linux's")
def test_no_display_is_one_sentence_and_exit_2(tmp_path, extra, says):
    done = subprocess.run(
        [sys.executable, "-m", "flowdesk", "--db", str(tmp_path / "x.db")],
        env=_bare_env(tmp_path, **extra),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("flowdesk: No display was found") and says in lines[0]
    assert "'flowdesk run'" in lines[0]
    if not extra:
        assert "libxcb-cursor0" in lines[0]
    assert "Reinstalling" not in done.stderr and done.stdout == ""
    assert not (tmp_path / "x.db").exists()  # nothing was opened or created


def test_headless_platforms_and_other_systems_pass():
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_problem({"QT_QPA_PLATFORM": "minimal:enable_fonts"}, "linux") is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert display_problem({}, "win32") is None and display_problem({}, "darwin") is None


def test_package_names_follow_debian():
    assert package_for("libxcb-cursor.so.0") == "libxcb-cursor0"
    assert package_for("libxcb-icccm.so.4") == "libxcb-icccm4"
    assert package_for("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert package_for("libxcb-render-util.so.0.0.0") == "libxcb-render-util0"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF shared objects")
def test_a_missing_xcb_library_is_named_with_its_package(tmp_path, monkeypatch):
    real = display_check._xcb_plugin()
    assert real is not None, "PySide6's xcb plugin was not found"
    # this machine has what the plugin needs (.ci/run installs XCB_PACKAGES where it does not)
    assert missing_xcb_library(real) is None, f"install {' '.join(display_check.XCB_PACKAGES)}"
    # a copy of the plugin that needs a library no system has, next to Qt's real libraries
    qt = tmp_path / "Qt"
    (qt / "plugins" / "platforms").mkdir(parents=True)
    (qt / "lib").symlink_to(real.parents[2] / "lib")
    data = real.read_bytes()
    assert b"libxcb-cursor.so.0\x00" in data
    copy = qt / "plugins" / "platforms" / "libqxcb.so"
    copy.write_bytes(data.replace(b"libxcb-cursor.so.0\x00", b"libxcb-cursoz.so.0\x00"))
    assert missing_xcb_library(copy) == "libxcb-cursoz.so.0"
    monkeypatch.setattr(display_check, "_xcb_plugin", lambda: copy)
    problem = display_problem({"DISPLAY": ":0"}, "linux")
    assert problem is not None
    assert "needs libxcb-cursoz.so.0" in problem and "sudo apt install libxcb-cursoz0" in problem
    assert "'flowdesk run'" in problem
