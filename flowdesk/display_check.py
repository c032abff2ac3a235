"""Can the desktop app open a window here? Asked before Qt is, because Qt's own answer to "no
display" or "a library of the xcb plugin is missing" is an abort (exit 134) with "Reinstalling the
application may fix this problem", which helps nobody.

Stands outside the layers (standard library only, imports nothing of ours), like text_width.py.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

# Qt platform plugins that need no display server
HEADLESS_PLATFORMS = frozenset(
    {"offscreen", "minimal", "minimalegl", "vnc", "eglfs", "linuxfb", "vkkhrdisplay"}
)
# What Qt 6's xcb plugin loads beyond a desktop's usual libraries, as Debian/Ubuntu packages
XCB_PACKAGES = (
    "libxcb-cursor0",
    "libxkbcommon-x11-0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxcb-image0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libegl1",
)
# shared library -> the Debian/Ubuntu package that installs it, where the name does not say
_PACKAGE_OF = {
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libX11-xcb.so.1": "libx11-xcb1",
}
COMMANDS_WITHOUT_DISPLAY = "'flowdesk run' and the other subcommands ('flowdesk --help') work without one"


def package_for(library: str) -> str:
    """The Debian/Ubuntu package that installs `library` (libxcb-cursor.so.0 -> libxcb-cursor0)."""
    if library in _PACKAGE_OF:
        return _PACKAGE_OF[library]
    match = re.fullmatch(r"(lib[\w+.-]*?)\.so\.(\d+)(?:\.\d+)*", library)
    if match is None:
        return library
    name, version = match.group(1).lower(), match.group(2)
    return f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}"


def _xcb_plugin() -> Path | None:
    spec = importlib.util.find_spec("PySide6")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        plugin = Path(folder) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if plugin.exists():
            return plugin
    return None


def missing_xcb_library(plugin: Path | None = None) -> str | None:
    """The first shared library Qt's xcb plugin needs and cannot find, or None when it loads."""
    plugin = plugin if plugin is not None else _xcb_plugin()
    if plugin is None:
        return None  # not a PySide6 wheel layout we know: let Qt speak
    try:
        ctypes.CDLL(str(plugin), mode=getattr(os, "RTLD_LAZY", 1) | getattr(os, "RTLD_LOCAL", 0))
    except OSError as err:
        match = re.search(r"([\w+.-]+\.so[\w.]*): cannot open shared object file", str(err))
        return match.group(1) if match else str(err)
    return None


def display_problem(environ: Mapping[str, str] | None = None, platform: str | None = None) -> str | None:
    """One sentence saying why the desktop app cannot open a window here, or None when it can."""
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return None  # Windows and macOS always have their display plugin
    wanted = (env.get("QT_QPA_PLATFORM") or "").split(";")[0].split(":")[0].strip().lower()
    if wanted in HEADLESS_PLATFORMS:
        return None
    has_x11, has_wayland = bool(env.get("DISPLAY")), bool(env.get("WAYLAND_DISPLAY"))
    if wanted == "xcb" and not has_x11 or wanted.startswith("wayland") and not has_wayland:
        variable = "DISPLAY" if wanted == "xcb" else "WAYLAND_DISPLAY"
        return (
            f"no display was found (QT_QPA_PLATFORM is {wanted} but {variable} is not set), so the desktop "
            f"app cannot open; {COMMANDS_WITHOUT_DISPLAY}."
        )
    if not wanted and not has_x11 and not has_wayland:
        return (
            "no display was found (neither DISPLAY nor WAYLAND_DISPLAY is set), so the desktop app cannot "
            f"open; {COMMANDS_WITHOUT_DISPLAY}, and on Linux the app needs an X11 or Wayland session plus "
            f"the packages Qt's xcb plugin loads (Debian/Ubuntu: {' '.join(XCB_PACKAGES)})."
        )
    if wanted == "xcb" or (not wanted and has_x11 and not has_wayland):
        library = missing_xcb_library()
        if library is not None:
            return (
                f"the desktop app cannot open a window: Qt's xcb plugin needs {library}, which is not "
                f"installed (Debian/Ubuntu: sudo apt install {package_for(library)}; all it needs: "
                f"{' '.join(XCB_PACKAGES)}); {COMMANDS_WITHOUT_DISPLAY}."
            )
    return None
