"""Copy and paste of nodes as workflow-file JSON, so they travel between tabs, windows and editors.

Copy writes the selection (nodes, the connections among them and the APIs they use) with the file
format's own writer. Paste reads that document shape back. A fragment has no START or END, which a
file *import* refuses, so paste reads the shape with the domain models and leaves the graph rules
to live validation, like any other edit. Pasted names are made unique and references among the
pasted nodes follow the renames.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from flowdesk.domain.enums import ConnectionType
from flowdesk.domain.errors import InvalidInputError
from flowdesk.domain.models import ApiDefinition, WorkflowGraph
from flowdesk.interchange.workflow_file import FORMAT_VERSION, write_workflow_file

from .document import ConnectionState, NodeState, WorkflowDocument


@dataclass
class Fragment:
    """Nodes and connections read from the clipboard, with the APIs the nodes use (file-local ids)."""

    nodes: list[dict[str, Any]] = field(default_factory=list)
    connections: list[dict[str, Any]] = field(default_factory=list)
    apis: list[ApiDefinition] = field(default_factory=list)

    @classmethod
    def from_graph(cls, graph: WorkflowGraph, apis: list[ApiDefinition] | None = None) -> Fragment:
        """The fragment of a whole graph, in the file format's node and connection shape."""
        nodes = [
            {
                "name": n.name,
                "node_type": n.node_type,
                "config": n.config,
                "position_x": n.position_x,
                "position_y": n.position_y,
                "description": n.description,
            }
            for n in graph.nodes
        ]
        connections = [
            {
                "from": c.from_node,
                "to": c.to_node,
                "connection_type": c.connection_type.value,
                "condition": c.condition,
                "config": c.config,
            }
            for c in graph.connections
        ]
        return cls(nodes, connections, list(apis or []))


def fragment_text(
    graph: WorkflowGraph, apis: list[ApiDefinition], node_types: dict[str, Any] | None = None
) -> str:
    """The clipboard text of `graph` (a selection) in the workflow file format (`node_types`: the
    custom types' descriptors, whose `x-secret` fields are masked like any export's)."""
    known = {a.id for a in apis}
    nodes = []
    for node in graph.nodes:
        api_id = node.config.get("api_id")
        if isinstance(api_id, int) and api_id not in known:
            # An API missing from the library cannot be embedded: paste the node without it.
            node = node.model_copy(update={"config": {k: v for k, v in node.config.items() if k != "api_id"}})
        nodes.append(node)
    return write_workflow_file(graph.model_copy(update={"nodes": nodes}), apis, node_types)


def read_fragment(text: str) -> Fragment:
    """Parse clipboard text in the workflow file shape; raise InvalidInputError if it is not one."""
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, TypeError) as err:
        raise InvalidInputError(f"The clipboard does not hold workflow JSON ({err}).") from None
    if not isinstance(document, dict) or not isinstance(document.get("nodes"), list):
        raise InvalidInputError("The clipboard does not hold flowdesk nodes.")
    version = document.get("flowdesk")
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise InvalidInputError(f"The clipboard holds a newer workflow format ({version}).")
    nodes, names = [], set()
    for i, n in enumerate(document["nodes"]):
        if (
            not isinstance(n, dict)
            or not isinstance(n.get("name"), str)
            or not isinstance(n.get("node_type"), str)
        ):
            raise InvalidInputError(f"nodes[{i}] needs a name and a node_type.")
        if n["name"] in names:
            raise InvalidInputError(f"nodes[{i}]: the name '{n['name']}' is used twice.")
        names.add(n["name"])
        nodes.append(n)
    connections = []
    for i, c in enumerate(document.get("connections") or []):
        if not isinstance(c, dict) or c.get("from") not in names or c.get("to") not in names:
            raise InvalidInputError(f"connections[{i}] must join two of the pasted nodes.")
        try:
            ConnectionType(c.get("connection_type", "SEQUENCE"))
        except ValueError:
            raise InvalidInputError(f"connections[{i}].connection_type is not a connection type.") from None
        connections.append(c)
    apis = []
    for i, a in enumerate(document.get("apis") or []):
        try:
            apis.append(ApiDefinition.model_validate(a))
        except ValidationError as err:
            raise InvalidInputError(
                f"apis[{i}] is not an API definition ({err.errors()[0]['msg']})."
            ) from None
    return Fragment(nodes, connections, apis)


def fragment_states(
    doc: WorkflowDocument,
    fragment: Fragment,
    api_ids: dict[int, int],
    at: tuple[float, float] | None,
) -> tuple[list[NodeState], list[ConnectionState]]:
    """New document states for a fragment: unique names, references renamed, api ids mapped to the
    library's (`api_ids`: file id -> library id), and the group's top-left moved to `at`."""
    from flowdesk.domain.node_config import rename_in_condition, rename_in_config

    taken = {n.name for n in doc.nodes()}
    renames: dict[str, str] = {}
    for n in fragment.nodes:
        name = n["name"]
        if name in taken:
            base, i = name, 2
            while f"{base} {i}" in taken:
                i += 1
            name = f"{base} {i}"
        taken.add(name)
        renames[n["name"]] = name

    def rename_config(node_type: str, config: dict[str, Any]) -> dict[str, Any]:
        for old, new in renames.items():
            config = rename_in_config(node_type, config, old, new)
        return config

    def rename_condition(condition: str | None) -> str | None:
        for old, new in renames.items():
            condition = rename_in_condition(condition, old, new)
        return condition

    xs = [float(n.get("position_x", 0) or 0) for n in fragment.nodes] or [0.0]
    ys = [float(n.get("position_y", 0) or 0) for n in fragment.nodes] or [0.0]
    dx, dy = (at[0] - min(xs), at[1] - min(ys)) if at is not None else (0.0, 0.0)
    uids: dict[str, int] = {}
    nodes: list[NodeState] = []
    for n in fragment.nodes:
        config = rename_config(n["node_type"], copy.deepcopy(n.get("config") or {}))
        if isinstance(config.get("api_id"), int) and config["api_id"] in api_ids:
            config["api_id"] = api_ids[config["api_id"]]
        uid = doc.new_uid()
        uids[n["name"]] = uid
        nodes.append(
            NodeState(
                uid,
                renames[n["name"]],
                n["node_type"],
                config,
                float(n.get("position_x", 0) or 0) + dx,
                float(n.get("position_y", 0) or 0) + dy,
                str(n.get("description") or ""),
            )
        )
    conns = [
        ConnectionState(
            doc.new_uid(),
            uids[c["from"]],
            uids[c["to"]],
            ConnectionType(c.get("connection_type", "SEQUENCE")),
            rename_condition(c.get("condition")),
            copy.deepcopy(c.get("config") or {}),
        )
        for c in fragment.connections
    ]
    return nodes, conns
