"""The node-graph canvas: scene mirroring a WorkflowDocument, items, view, minimap, layout."""
