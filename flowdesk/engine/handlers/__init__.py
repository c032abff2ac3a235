"""Built-in node handlers, one module per node type (registered by flowdesk.engine.registry)."""
