"""The `cache` option of API definitions in flowdesk's workflow files and, as the `x-flowdesk-cache`
extension, in the OpenAPI documents flowdesk exports and imports (docs/semantics.md §2.12)."""

from __future__ import annotations

import json

import pytest

from flowdesk.domain.errors import FileFormatError
from flowdesk.domain.models import ApiDefinition, Connection, Node, Workflow, WorkflowGraph
from flowdesk.interchange.api_export import library_to_openapi
from flowdesk.interchange.api_import import import_api_spec
from flowdesk.interchange.workflow_file import read_workflow_file, write_workflow_file

CACHE = {"ttl": 120, "persist": True, "vary": ["accept-language"]}


def _graph() -> WorkflowGraph:
    return WorkflowGraph(
        workflow=Workflow(name="w"),
        nodes=[
            Node(name="s", node_type="START"),
            Node(name="a", node_type="API_CALL", config={"api_id": 5, "cache": {"ttl": 5}}),
            Node(name="e", node_type="END"),
        ],
        connections=[Connection(from_node="s", to_node="a"), Connection(from_node="a", to_node="e")],
    )


def test_a_workflow_file_carries_the_definitions_and_the_nodes_cache_option():
    api = ApiDefinition(id=5, name="users", url="https://api.example.com/users", cache=CACHE)
    text = write_workflow_file(_graph(), [api])
    assert json.loads(text)["apis"][0]["cache"] == CACHE
    again = read_workflow_file(text)
    assert again.apis[0].cache == CACHE
    assert again.graph.nodes[1].config["cache"] == {"ttl": 5}
    without = write_workflow_file(_graph(), [ApiDefinition(id=5, name="users", url="https://x/")])
    assert "cache" not in json.loads(without)["apis"][0]


def test_a_bad_cache_option_in_a_file_is_one_located_problem():
    api = ApiDefinition(id=5, name="users", url="https://api.example.com/users")
    document = json.loads(write_workflow_file(_graph(), [api]))
    document["apis"][0]["cache"] = {"ttl": "soon"}
    with pytest.raises(FileFormatError) as refused:
        read_workflow_file(json.dumps(document), source="w.json")
    found = [(p.path, p.message) for p in refused.value.problems]
    assert found == [("apis[0].cache", found[0][1])], found
    assert found[0][1].startswith("the cache option is not valid: ttl: expected a number above 0")


def test_openapi_export_writes_x_flowdesk_cache_and_the_import_reads_it_back():
    apis = [
        ApiDefinition(name="list users", url="{{env.base_url}}/users", cache=CACHE),
        ApiDefinition(name="list orders", url="{{env.base_url}}/orders"),
    ]
    document = library_to_openapi(apis)
    assert document["paths"]["/users"]["get"]["x-flowdesk-cache"] == CACHE
    assert "x-flowdesk-cache" not in document["paths"]["/orders"]["get"]
    again = import_api_spec(json.dumps(document))
    assert [a.cache for a in again.definitions] == [CACHE, None]
    document["paths"]["/users"]["get"]["x-flowdesk-cache"] = {"ttl": 0}
    broken = import_api_spec(json.dumps(document))
    assert broken.definitions[0].cache is None
    assert [p.message for p in broken.problems] == [
        "x-flowdesk-cache is not a valid cache option (ttl: expected a number above 0 and at most "
        "31,536,000, found the number 0); it was left out"
    ]


def test_an_imported_file_s_cache_option_reaches_the_library(tmp_path):
    from flowdesk.services.apis import ApiService
    from flowdesk.services.transfer import TransferService
    from flowdesk.store import Database

    api = ApiDefinition(id=5, name="users", url="https://api.example.com/users", cache=CACHE)
    text = write_workflow_file(_graph(), [api])
    fresh, bare = Database(tmp_path / "fresh.db"), Database(tmp_path / "bare.db")
    TransferService(fresh).import_file(text)
    assert [a.cache for a in ApiService(fresh).list_apis()] == [CACHE]
    # an identical definition already stored without a cache option takes the file's
    stored = ApiService(bare).create_api(name="users", url="https://api.example.com/users")
    TransferService(bare).import_file(text)
    assert [a.cache for a in ApiService(bare).list_apis()] == [CACHE]
    assert ApiService(bare).get_api(stored.id).cache == CACHE
    fresh.close()
    bare.close()
