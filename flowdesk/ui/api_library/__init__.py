"""The API library in the app: a dock with the list, an editor form, import with preview, "Send"
with the active environment, copy as cURL, drag onto the canvas; environments and secrets dialog."""

from __future__ import annotations

from .dock import API_MIME, ApiLibraryPanel, install_api_library

__all__ = ["API_MIME", "ApiLibraryPanel", "install_api_library"]
