"""The REST API's routers, one module per resource family; each route parses, calls one service or
engine function, and formats the answer (no rule lives here)."""
