"""flowdesk's REST server (`flowdesk serve`): FastAPI over the same services, store and engine the app
and the CLI use. `flowdesk.server.app.create_app` builds the application; docs/server.md describes it.

This module imports nothing, so the CLI can read the defaults without loading FastAPI.
"""

DEFAULT_PORT = 8001
DEFAULT_BODY_LIMIT = 20 * 1024 * 1024
