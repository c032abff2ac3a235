"""Which ports a node type has, and which connection type leaving each port makes.

A CONDITION has `true` and `false` outputs; a PARALLEL has `branches` (PARALLEL) and `then`
(SEQUENCE, after the branches); a LOOP has `body` (LOOP) and `done` (SEQUENCE, after the last
iteration); END has none; every other node one `out` (SEQUENCE). ERROR and CONDITIONAL
connections are made by changing a connection's type; they leave the node's first output.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowdesk.domain.enums import ConnectionType, NodeType


@dataclass(frozen=True)
class OutputPort:
    """An output port: its name (shown when a node has several) and the type it starts."""

    name: str
    connection_type: ConnectionType


_OUT = (OutputPort("out", ConnectionType.SEQUENCE),)
_OUTPUTS: dict[str, tuple[OutputPort, ...]] = {
    NodeType.END: (),
    NodeType.CONDITION: (
        OutputPort("true", ConnectionType.CONDITIONAL_TRUE),
        OutputPort("false", ConnectionType.CONDITIONAL_FALSE),
    ),
    NodeType.PARALLEL: (
        OutputPort("branches", ConnectionType.PARALLEL),
        OutputPort("then", ConnectionType.SEQUENCE),
    ),
    NodeType.LOOP: (
        OutputPort("body", ConnectionType.LOOP),
        OutputPort("done", ConnectionType.SEQUENCE),
    ),
}


def output_ports(node_type: str) -> tuple[OutputPort, ...]:
    return _OUTPUTS.get(node_type, _OUT)


def has_input(node_type: str) -> bool:
    return node_type != NodeType.START


def port_index_for(node_type: str, connection_type: ConnectionType) -> int:
    """Index of the output port a connection of this type is drawn from."""
    for i, port in enumerate(output_ports(node_type)):
        if port.connection_type == connection_type:
            return i
    return 0
