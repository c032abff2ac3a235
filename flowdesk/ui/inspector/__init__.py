"""The inspector dock: forms for the selected node, connection, or the workflow itself."""
