"""The orchestrator is generated from the services: its public methods keep the seed's names and
signatures, each offloaded method has its service method's signature (less `session=`) and
docstring, and help() shows them."""

from __future__ import annotations

import asyncio
import inspect
import pydoc

import pytest

from flowdesk import WorkflowOrchestrator
from flowdesk.services.orchestrator import HIDDEN_PARAMETERS, offload
from flowdesk.services.workflows import WorkflowService

# The seed's public API of WorkflowOrchestrator, written out once: a service change that would change
# one of these signatures shows up here.
SEED_SIGNATURES = [
    "activate_workflow(self, workflow_id: 'int') -> 'Workflow'",
    "add_connection(self, workflow_id: 'int', from_node_id: 'int', to_node_id: 'int', connection_type: 'ConnectionType | str' = <ConnectionType.SEQUENCE: 'SEQUENCE'>, condition: 'str | None' = None, config: 'dict[str, Any] | None' = None) -> 'Connection'",
    "add_node(self, workflow_id: 'int', name: 'str', node_type: 'NodeType | str', config: 'dict[str, Any] | None' = None, position_x: 'float' = 0, position_y: 'float' = 0, description: 'str' = '') -> 'Node'",
    "audit_log(self, entity: 'str | None' = None, entity_id: 'int | None' = None, limit: 'int' = 100) -> 'list[AuditEntry]'",
    "close(self) -> 'None'",
    "create_api(self, api: 'ApiDefinition | None' = None, **fields: 'Any') -> 'ApiDefinition'",
    "create_workflow(self, name: 'str', description: 'str' = '', version: 'str' = '1.0', config: 'dict[str, Any] | None' = None, tags: 'list[str] | None' = None, is_active: 'bool' = False) -> 'Workflow'",
    "delete_api(self, api_id: 'int') -> 'None'",
    "delete_connection(self, connection_id: 'int') -> 'None'",
    "delete_node(self, node_id: 'int') -> 'None'",
    "delete_workflow(self, workflow_id: 'int') -> 'None'",
    "diff_versions(self, a_id: 'int', b_id: 'int') -> 'VersionDiff'",
    "duplicate_workflow(self, workflow_id: 'int', name: 'str | None' = None) -> 'Workflow'",
    "export_workflow(self, workflow_id: 'int', path: 'str | os.PathLike[str] | None' = None) -> 'str'",
    "find_workflow(self, id_or_name: 'int | str') -> 'Workflow'",
    "get_api(self, api_id: 'int') -> 'ApiDefinition'",
    "get_connection(self, connection_id: 'int') -> 'Connection'",
    "get_execution(self, execution_id: 'int') -> 'Execution'",
    "get_execution_logs(self, execution_id: 'int') -> 'list[ExecutionLog]'",
    "get_node(self, node_id: 'int') -> 'Node'",
    "get_version(self, version_id: 'int') -> 'WorkflowVersion'",
    "get_workflow(self, workflow_id: 'int') -> 'Workflow'",
    "import_apis(self, text_or_bytes: 'str | bytes', *, source_name: 'str' = '', selected: 'Any' = None, environment: 'str' = 'default') -> 'Any'",
    "import_workflow(self, path_or_text: 'str | os.PathLike[str] | bytes', name: 'str | None' = None) -> 'WorkflowGraph'",
    "list_apis(self, search: 'str | None' = None, tag: 'str | None' = None) -> 'list[ApiDefinition]'",
    "list_connections(self, workflow_id: 'int') -> 'list[Connection]'",
    "list_executions(self, workflow_id: 'int | None' = None, status: 'str | None' = None, limit: 'int' = 100, offset: 'int' = 0) -> 'list[Execution]'",
    "list_node_types(self) -> 'list[NodeTypeDefinition]'",
    "list_nodes(self, workflow_id: 'int') -> 'list[Node]'",
    "list_versions(self, workflow_id: 'int') -> 'list[WorkflowVersion]'",
    "list_workflows(self, tag: 'str | None' = None, search: 'str | None' = None, status: 'str | WorkflowStatus | None' = None) -> 'list[Workflow]'",
    "load_graph(self, workflow_id: 'int') -> 'WorkflowGraph'",
    "open(self) -> 'WorkflowOrchestrator'",
    "preview_api_import(self, text_or_bytes: 'str | bytes', *, source_name: 'str' = '') -> 'Any'",
    "register_node_type(self, type_name: 'str', description: 'str' = '', config_schema: 'dict[str, Any] | None' = None, execution_handler: 'str | None' = None) -> 'NodeTypeDefinition'",
    "restore_version(self, version_id: 'int') -> 'WorkflowGraph'",
    "run_values(self, environment: 'str | None' = None) -> 'tuple[dict[str, str], dict[str, str]]'",
    "save_graph(self, graph: 'WorkflowGraph') -> 'WorkflowGraph'",
    "save_version(self, workflow_id: 'int', label: 'str | None' = None, note: 'str' = '') -> 'WorkflowVersion'",
    "set_environment(self, name: 'str', variables: 'dict[str, Any]', *, activate: 'bool' = False) -> 'Any'",
    "set_secret(self, name: 'str', value: 'str') -> 'None'",
    "set_status(self, workflow_id: 'int', status: 'str | WorkflowStatus') -> 'Workflow'",
    "update_api(self, api_id: 'int', **fields: 'Any') -> 'ApiDefinition'",
    "update_connection(self, connection_id: 'int', **fields: 'Any') -> 'Connection'",
    "update_node(self, node_id: 'int', **fields: 'Any') -> 'Node'",
    "update_workflow(self, workflow_id: 'int', **fields: 'Any') -> 'Workflow'",
    "validate_workflow(self, workflow_id: 'int') -> 'list[Any]'",
]


def public_coroutines(cls):
    return {
        name: value
        for name, value in sorted(vars(cls).items())
        if not name.startswith("_") and inspect.iscoroutinefunction(value)
    }


def test_the_public_methods_keep_the_seeds_names_and_signatures():
    found = [f"{name}{inspect.signature(fn)}" for name, fn in public_coroutines(WorkflowOrchestrator).items()]
    assert found == SEED_SIGNATURES


def test_each_offloaded_method_has_its_service_methods_signature_and_docstring():
    offloaded = {
        n: fn for n, fn in public_coroutines(WorkflowOrchestrator).items() if hasattr(fn, "__offloaded__")
    }
    assert len(offloaded) >= 35  # the plain delegations; the rest combine services or take other names
    for name, fn in offloaded.items():
        service, method_name = fn.__offloaded__
        method = getattr(service, method_name)
        expected = inspect.signature(method)
        expected = expected.replace(
            parameters=[p for p in expected.parameters.values() if p.name not in HIDDEN_PARAMETERS]
        )
        assert inspect.signature(fn) == expected, name
        assert fn.__doc__ == method.__doc__ and fn.__doc__, name
        assert (fn.__name__, fn.__qualname__) == (name, f"WorkflowOrchestrator.{name}")
        assert fn.__module__ == "flowdesk.services.orchestrator"


def test_help_shows_the_real_parameters_and_docstrings():
    text = pydoc.render_doc(WorkflowOrchestrator, renderer=pydoc.plaintext)
    assert "get_execution_logs(self, execution_id: 'int') -> 'list[ExecutionLog]'" in text
    assert "A run's step rows in the order the steps started." in text
    assert "load_graph(self, workflow_id: 'int') -> 'WorkflowGraph'" in text
    assert "session" not in text  # a session cannot cross into the worker thread
    assert "*args" not in text.split("class WorkflowOrchestrator")[1].split("_call")[0]


def test_a_wrong_call_raises_the_type_error_a_direct_call_would(db_path):
    async def scenario():
        async with WorkflowOrchestrator(db=db_path) as orchestrator:
            with pytest.raises(TypeError):
                await orchestrator.load_graph(1, session=None)
            with pytest.raises(TypeError):
                await orchestrator.get_workflow()
            with pytest.raises(TypeError):
                await orchestrator.create_workflow(name="x", colour="red")
            return await orchestrator.list_workflows()

    assert asyncio.run(scenario()) == []


def test_a_new_service_method_needs_one_line(db_path):
    class Extended(WorkflowOrchestrator):
        create_from_graph = offload(WorkflowService.create_from_graph)

    async def scenario():
        async with Extended(db=db_path) as orchestrator:
            made = await orchestrator.create_workflow(name="source")
            graph = await orchestrator.load_graph(made.id)
            copy = await orchestrator.create_from_graph(graph)
            return made, copy

    made, copy = asyncio.run(scenario())
    assert copy.workflow.id != made.id and copy.workflow.name == "source"
    assert "session" not in inspect.signature(Extended.create_from_graph).parameters


def test_offload_refuses_what_is_not_a_service_method():
    def loose(self, x: int) -> int:
        return x

    with pytest.raises(TypeError, match="a method of a service class"):
        offload(loose)
