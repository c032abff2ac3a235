"""ApiService and NodeTypeService: round trips, use checks, identical-API matching."""

from __future__ import annotations

from datetime import UTC

import pytest

from flowdesk.domain import ApiDefinition, ConflictError, InvalidInputError, NodeType, NotFoundError
from flowdesk.domain.models import ApiParameter
from flowdesk.services import ApiService, NodeTypeService


@pytest.fixture
def apis(db):
    return ApiService(db)


def _api(**extra) -> ApiDefinition:
    values = dict(
        name="get user",
        method="get",
        url="{{input.base}}/users/{{params.user_id}}",
        headers={"Accept": "application/json"},
        query={"verbose": True},
        body=None,
        timeout=12.5,
        auth={"type": "bearer", "token": "{{secrets.token}}"},
        description="用户",
        tags=["crm"],
        parameters=[ApiParameter(name="user_id", location="path", required=True, example=7)],
        content_type="application/json",
        source="openapi:crm#getUser",
    )
    values.update(extra)
    return ApiDefinition(**values)


def test_api_round_trip(apis):
    created = apis.create_api(_api())
    assert created.id and created.method == "GET"  # methods are stored upper-case
    assert created.created_at.tzinfo is UTC
    got = apis.get_api(created.id)
    assert got == created
    assert got.parameters == [ApiParameter(name="user_id", location="path", required=True, example=7)]
    assert (got.headers, got.query, got.auth, got.timeout, got.source) == (
        {"Accept": "application/json"},
        {"verbose": True},
        {"type": "bearer", "token": "{{secrets.token}}"},
        12.5,
        "openapi:crm#getUser",
    )
    by_fields = apis.create_api(name="post", method="POST", url="http://127.0.0.1/x", body={"a": [1, 2]})
    assert apis.get_api(by_fields.id).body == {"a": [1, 2]}


def test_update_list_and_delete(apis):
    a = apis.create_api(_api(name="Alpha"))
    b = apis.create_api(_api(name="beta", tags=["billing"], url="http://127.0.0.1/invoices"))
    assert [x.id for x in apis.list_apis()] == [a.id, b.id]
    assert [x.id for x in apis.list_apis(tag="billing")] == [b.id]
    assert [x.id for x in apis.list_apis(search="INVOICES")] == [b.id]
    updated = apis.update_api(a.id, timeout=3, headers={}, description="new")
    assert (updated.timeout, updated.headers, updated.description) == (3.0, {}, "new")
    assert updated.updated_at >= a.updated_at
    with pytest.raises(InvalidInputError, match="no field colour"):
        apis.update_api(a.id, colour="red")
    with pytest.raises(InvalidInputError, match="needs a URL"):
        apis.update_api(a.id, url=" ")
    apis.delete_api(a.id)
    with pytest.raises(NotFoundError, match=f"API {a.id} does not exist."):
        apis.get_api(a.id)


def test_delete_refused_while_a_workflow_uses_it(apis, workflows):
    api = apis.create_api(_api())
    w1 = workflows.create_workflow("one")
    w2 = workflows.create_workflow("two")
    workflows.add_node(w1.id, "call", NodeType.API_CALL, config={"api_id": api.id})
    workflows.add_node(w2.id, "call", NodeType.API_CALL, config={"api_id": str(api.id)})
    workflows.add_node(w2.id, "other", NodeType.API_CALL, config={"api_id": api.id + 100})
    with pytest.raises(ConflictError) as err:
        apis.delete_api(api.id)
    assert str(err.value) == (
        f"API 'get user' is used by workflow(s) 'one' (id {w1.id}), 'two' (id {w2.id}); change those nodes first."
    )
    assert apis.workflows_using(api.id) == [(w1.id, "one"), (w2.id, "two")]
    workflows.delete_workflow(w1.id)
    workflows.delete_workflow(w2.id)
    apis.delete_api(api.id)


def test_find_identical(apis):
    stored = apis.create_api(_api())
    assert apis.find_identical(_api(name="another name", description="ignored")).id == stored.id
    assert apis.find_identical(_api(method="GET")).id == stored.id
    for change in (
        {"timeout": 13},
        {"headers": {}},
        {"query": {"verbose": False}},
        {"body": {"x": 1}},
        {"auth": None},
        {"url": "http://127.0.0.1/other"},
        {"method": "POST"},
    ):
        assert apis.find_identical(_api(**change)) is None, change


def test_api_writes_are_audited(apis, audit):
    api = apis.create_api(_api())
    apis.update_api(api.id, timeout=1)
    apis.delete_api(api.id)
    assert [(e.entity, e.action) for e in reversed(audit.list_entries())] == [
        ("api", "create"),
        ("api", "update"),
        ("api", "delete"),
    ]
    assert audit.list_entries()[1].summary == "Updated API 'get user': timeout."


def test_node_types_register_list_update_delete(db, workflows):
    service = NodeTypeService(db)
    made = service.register_node_type("SLACK", "post a message", {"type": "object"}, "plugins.slack:handle")
    assert made.id and made.config_schema == {"type": "object"}
    again = service.register_node_type("SLACK", "post to a channel")
    assert again.id == made.id and again.description == "post to a channel"
    assert [t.type_name for t in service.list_node_types()] == ["SLACK"]
    assert "SLACK" in service.known_types() and "START" in service.known_types()
    with pytest.raises(ConflictError, match="built-in"):
        service.register_node_type("START")
    wf = workflows.create_workflow("w")
    node = workflows.add_node(wf.id, "post", "SLACK")
    with pytest.raises(ConflictError, match="used by 1 node"):
        service.delete_node_type("SLACK")
    workflows.delete_node(node.id)
    service.delete_node_type("SLACK")
    assert service.list_node_types() == []
    with pytest.raises(NotFoundError):
        service.get_node_type("SLACK")


def test_connection_settings_round_trip_beside_the_auth(apis):
    connection = {"verify": "/etc/pki/internal.pem", "client_cert": "/etc/pki/me.pem", "http2": True}
    created = apis.create_api(_api(connection=connection))
    got = apis.get_api(created.id)
    assert got.connection == connection
    assert got.auth == {"type": "bearer", "token": "{{secrets.token}}"}  # the auth is as it was
    changed = apis.update_api(created.id, connection={"verify": False})
    assert (changed.connection, changed.auth) == ({"verify": False}, got.auth)
    no_auth = apis.create_api(_api(name="open", auth=None, connection={"http2": True}))
    assert apis.get_api(no_auth.id).auth is None and apis.get_api(no_auth.id).connection == {"http2": True}
    cleared = apis.update_api(no_auth.id, connection={})
    assert (cleared.auth, cleared.connection) == (None, {})
