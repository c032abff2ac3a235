"""The seed's conditions and the issue's examples, evaluated as written."""

from __future__ import annotations

import pytest

from flowdesk.domain.expressions import Scope, evaluate, evaluate_condition, render


def make_scope() -> Scope:
    return Scope(
        {
            "input": {
                "score": 75,
                "type": "premium",
                "age": 20,
                "verified": True,
                "email": "a@example.com",
                "max_count": 3,
                "update_data": {"name": "Ann", "tags": ["x"]},
                "data": [10, 20, 30],
            },
            "response": {"status": 201, "data": {"message": "login success"}, "headers": {}},
            "loop": {"index": 1, "item": {"id": 7}},
            "execution": {
                "id": 12,
                "name": "run",
                "workflow_id": 3,
                "started_at": "2026-01-01T10:00:00+00:00",
            },
            "env": {"base": "https://api.example.com"},
            "params": {"user_id": 42},
        },
        {"登录": {"token": "T0K"}, "login": {"user_id": 5}, "API 调用": {"x": 1}},
    )


# Every condition the seed and the issue give, with what it yields in make_scope().
SEED_CONDITIONS = [
    ("{{input.score}} >= 60", True),
    ("{{response.status}} == 200", False),
    ("{{input.type}} == 'premium'", True),
    ("{{response.data.message}}.contains('success')", True),
    ("{{input.age}} >= 18 and {{input.verified}} == true", True),
    ("{{response.status}} == 200 or {{response.status}} == 201", True),
    ("{{input.email}} is not null", True),
    ("{{response.data}} is not empty", True),
    ("{{loop.index}} < {{input.max_count}}", True),
    ("input.score >= 60", True),
]


@pytest.mark.parametrize(("text", "expected"), SEED_CONDITIONS)
def test_seed_conditions(text: str, expected: bool) -> None:
    scope = make_scope()
    assert evaluate_condition(text, scope) is expected
    assert scope.warnings == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("execution.id", 12),
        ("execution.workflow_id", 3),
        ("loop.item.id", 7),
        ("登录.token", "T0K"),
        ("login.user_id", 5),
        ('nodes["API 调用"].x', 1),
        ("nodes.login.user_id", 5),
        ("input.data[0]", 10),
        ("input.data[loop.index]", 20),
        ('input["type"]', "premium"),
        ("env.base", "https://api.example.com"),
    ],
)
def test_issue_paths(text: str, expected: object) -> None:
    scope = make_scope()
    assert evaluate(text, scope) == expected
    assert scope.warnings == []


def test_whole_template_passes_the_object() -> None:
    scope = make_scope()
    body = {"data": "{{input.update_data}}", "url": "{{env.base}}/users/{{params.user_id}}"}
    assert render(body, scope) == {
        "data": {"name": "Ann", "tags": ["x"]},
        "url": "https://api.example.com/users/42",
    }
