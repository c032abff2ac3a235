"""Tables without a service yet (environments, secrets) and the schema rules they carry."""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from flowdesk.store.tables import EnvironmentRow, SecretRow


def test_environments_round_trip_with_unique_names(db):
    with db.session() as session:
        session.add(
            EnvironmentRow(
                name="staging", variables={"base": "http://127.0.0.1:8000", "n": 1}, is_active=True
            )
        )
    with db.session(read_only=True) as session:
        env = session.scalar(select(EnvironmentRow))
        assert (env.name, env.variables, env.is_active) == (
            "staging",
            {"base": "http://127.0.0.1:8000", "n": 1},
            True,
        )
        assert env.created_at.tzinfo is UTC and env.updated_at.tzinfo is UTC
    with pytest.raises(IntegrityError):
        with db.session() as session:
            session.add(EnvironmentRow(name="staging", variables={}))


def test_secrets_store_bytes_with_unique_names(db):
    blob = bytes(range(256))
    with db.session() as session:
        session.add(SecretRow(name="token", ciphertext=blob))
    with db.session(read_only=True) as session:
        assert session.scalar(select(SecretRow.ciphertext)) == blob
    with pytest.raises(IntegrityError):
        with db.session() as session:
            session.add(SecretRow(name="token", ciphertext=b"x"))


def test_foreign_keys_are_enforced(db):
    from flowdesk.store.tables import NodeRow

    with pytest.raises(IntegrityError):
        with db.session() as session:
            session.add(NodeRow(workflow_id=12345, name="orphan", node_type="START"))
