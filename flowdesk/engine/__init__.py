"""The asyncio execution engine: scheduler, node handlers, events, plugins, execution writer.

Public entry points: `flowdesk.engine.executor.WorkflowExecutor`, `register_node_handler` (in
`flowdesk.engine.registry`), `NodeContext` (in `flowdesk.engine.context`) and `NodeFailure` (in
`flowdesk.engine.errors`). docs/semantics.md is the reference of what a run does.
"""
