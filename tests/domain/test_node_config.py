"""Renaming a node rewrites each config value the way that value is read."""

from __future__ import annotations

from flowdesk.domain.node_config import rename_in_condition, rename_in_config


def test_plain_text_that_looks_like_a_path_is_not_a_reference():
    config = {"url": "https://login.example.com/{{login.token}}", "body": {"user": "login"}}
    renamed = rename_in_config("API_CALL", config, "login", "auth")
    assert renamed == {"url": "https://login.example.com/{{auth.token}}", "body": {"user": "login"}}


def test_condition_and_output_mapping_are_expressions():
    config = {"condition": "login.ok and input.x > 1", "output_mapping": {"t": "login.token"}}
    renamed = rename_in_config("CONDITION", config, "login", "auth")
    assert renamed == {"condition": "auth.ok and input.x > 1", "output_mapping": {"t": "auth.token"}}


def test_true_and_false_paths_are_node_names():
    config = {"condition": "input.ok", "true_path": "login", "false_path": "login page"}
    renamed = rename_in_config("CONDITION", config, "login", "auth")
    assert renamed["true_path"] == "auth"
    assert renamed["false_path"] == "login page"


def test_a_name_that_is_not_an_identifier_is_reached_through_nodes():
    assert rename_in_config("DELAY", {"seconds": "{{login.wait}}"}, "login", "API 调用") == {
        "seconds": '{{nodes["API 调用"].wait}}'
    }


def test_connection_conditions_are_expressions():
    assert rename_in_condition("login.status == 200", "login", "auth") == "auth.status == 200"
    assert rename_in_condition(None, "login", "auth") is None
