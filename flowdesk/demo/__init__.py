"""The demo API the example workflows call (`flowdesk demo-server`): app.py holds the endpoints,
server.py serves them with the standard library."""

DEFAULT_PORT = 8765
DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}"
