"""Property-based import: mutated and random documents either import or fail with located problems,
and a failed import leaves no rows behind."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from flowdesk.domain.errors import FileFormatError
from flowdesk.interchange.workflow_file import read_workflow_file, write_workflow_file

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
BASES = [json.loads(p.read_text("utf-8")) for p in sorted(EXAMPLES.glob("*.json"))]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["START", "END", "API_CALL", "LOOP", "SEQUENCE", "LOOP", "{{input.x", "{{ a + }}", ""])
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def paths_of(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path inside a JSON value (the root excluded)."""
    out = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return out
    for key, child in items:
        out.append((*prefix, key))
        out.extend(paths_of(child, (*prefix, key)))
    return out


def parent_of(doc: Any, path: tuple) -> Any:
    target = doc
    for part in path[:-1]:
        target = target[part]
    return target


@st.composite
def mutated_documents(draw) -> str:
    doc = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = paths_of(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, key = parent_of(doc, path), path[-1]
        op = draw(st.sampled_from(["delete", "replace", "text", "retype", "insert", "duplicate", "rename"]))
        if op == "delete":
            del parent[key]
        elif op == "replace":
            parent[key] = draw(json_values)
        elif op == "text":
            parent[key] = draw(st.text(max_size=20))
        elif op == "retype":
            value = parent[key]
            parent[key] = (
                [value]
                if not isinstance(value, list)
                else {"x": value}
                if draw(st.booleans())
                else str(value)
            )
        elif op == "insert" and isinstance(parent[key], dict):
            parent[key][draw(st.text(max_size=10))] = draw(json_values)
        elif op == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["name", "node_type", "from", "to", "id", "api_id", "flowdesk"]))] = (
                parent.pop(key)
            )
    return json.dumps(doc, indent=draw(st.sampled_from([None, 1, 2])), ensure_ascii=draw(st.booleans()))


random_documents = st.one_of(
    json_values.map(json.dumps),
    st.fixed_dictionaries(
        {},
        optional={
            "flowdesk": json_values,
            "workflow": json_values,
            "nodes": st.lists(json_values, max_size=4),
            "connections": st.lists(json_values, max_size=4),
            "apis": st.lists(json_values, max_size=3),
        },
    ).map(json.dumps),
    st.text(max_size=60),
    st.binary(max_size=60),
)


def check_located(data: str | bytes):
    """Import `data` without a database: a WorkflowFile, or FileFormatError whose problems are all located."""
    try:
        result = read_workflow_file(data, source="fuzz.json")
    except FileFormatError as err:
        assert err.problems, "FileFormatError without problems"
        for problem in err.problems:
            assert problem.path is not None or problem.line is not None, problem
            assert problem.message and "\n" not in problem.message
        assert str(err)
        return None
    for problem in result.problems:
        assert problem.path is not None and problem.line is not None, problem
    # A document that imports re-exports to a document that imports to the same export.
    text = write_workflow_file(result.graph, result.apis)
    again = read_workflow_file(text)
    assert write_workflow_file(again.graph, again.apis) == text
    return result


@settings(max_examples=300, deadline=None)
@given(mutated_documents())
def test_mutated_documents_import_or_fail_with_located_problems(text):
    check_located(text)


@settings(max_examples=200, deadline=None)
@given(random_documents)
def test_random_documents_import_or_fail_with_located_problems(data):
    check_located(data)


# -- with a database: failures leave no rows behind ------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_db(tmp_path_factory):
    from flowdesk.store import Database

    database = Database(tmp_path_factory.mktemp("fuzz") / "fuzz.db")
    yield database
    database.close()


def row_counts(db) -> dict[str, int]:
    from flowdesk.store.tables import TABLES

    with db.session(read_only=True) as session:
        return {
            name: session.scalar(select(func.count()).select_from(table)) for name, table in TABLES.items()
        }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=mutated_documents(), fail_late=st.booleans())
def test_import_is_all_or_nothing(fuzz_db, text, fail_late):
    from flowdesk.services.transfer import TransferService

    transfer = TransferService(fuzz_db)
    before = row_counts(fuzz_db)
    if fail_late:
        # Fail after the file's APIs were written, inside the same transaction.
        with mock.patch.object(transfer.workflows, "create_from_graph", side_effect=RuntimeError("injected")):
            with pytest.raises((FileFormatError, RuntimeError)):
                transfer.import_file(text)
        assert row_counts(fuzz_db) == before
        return
    try:
        graph = transfer.import_file(text)
    except FileFormatError as err:
        assert all(p.path is not None or p.line is not None for p in err.problems)
        assert row_counts(fuzz_db) == before
        return
    after = row_counts(fuzz_db)
    assert after["workflow_definitions"] == before["workflow_definitions"] + 1
    assert after["workflow_nodes"] == before["workflow_nodes"] + len(graph.nodes)
    assert after["workflow_connections"] == before["workflow_connections"] + len(graph.connections)
    exported = transfer.export_workflow(graph.workflow.id)
    assert read_workflow_file(exported).graph.workflow.name == graph.workflow.name
