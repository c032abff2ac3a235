"""Environments: named variable sets, one active; run_values gives a run its env and secrets."""

from __future__ import annotations

import pytest

from flowdesk.domain.errors import ConflictError, NotFoundError
from flowdesk.services.environments import EnvironmentService, run_values
from flowdesk.services.secrets import SecretService


def test_crud_and_the_first_environment_is_active(db):
    envs = EnvironmentService(db)
    assert envs.get_active() is None
    dev = envs.create_environment("dev", {"base_url": "http://dev", "n": 3})
    assert dev.is_active and dev.variables == {"base_url": "http://dev", "n": "3"}
    prod = envs.create_environment("prod", {"base_url": "https://prod"})
    assert not prod.is_active
    with pytest.raises(ConflictError):
        envs.create_environment("dev")
    envs.activate("prod")
    assert envs.get_active().name == "prod"
    assert [e.is_active for e in envs.list_environments()] == [False, True]
    envs.set_variables("dev", {"extra": "1"})
    assert envs.get_environment("dev").variables == {"base_url": "http://dev", "n": "3", "extra": "1"}
    envs.set_variables("dev", {"only": "x"}, replace=True)
    assert envs.get_environment("dev").variables == {"only": "x"}
    envs.unset_variable("dev", "only")
    assert envs.get_environment("dev").variables == {}
    envs.rename_environment("dev", "staging")
    envs.delete_environment("staging")
    with pytest.raises(NotFoundError, match="no environment named 'staging'"):
        envs.get_environment("staging")


def test_run_values_takes_the_active_or_the_named_environment(db):
    envs = EnvironmentService(db)
    envs.create_environment("dev", {"base_url": "http://dev"})
    envs.create_environment("prod", {"base_url": "https://prod"})
    SecretService(db).set_secret("tok", "s3cr3t-value")
    assert run_values(db) == ({"base_url": "http://dev"}, {"tok": "s3cr3t-value"})
    assert run_values(db, "prod")[0] == {"base_url": "https://prod"}
    with pytest.raises(NotFoundError):
        run_values(db, "nope")
