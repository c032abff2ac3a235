"""Secrets: encrypted at rest, key in a 0600 file (or the OS keyring), names listed without values."""

from __future__ import annotations

import stat

import pytest

from flowdesk.domain.errors import InvalidInputError, NotFoundError
from flowdesk.services.secrets import KeyStore, SecretKeyError, SecretService, usable_keyring

from .conftest import raw_database_bytes

VALUE = "tok-Zq8vX2-very-secret"


def test_set_get_list_delete(db):
    s = SecretService(db)
    assert s.set_secret("api_token", VALUE) is True
    assert s.set_secret("api_token", VALUE + "2") is False
    s.set_secret("other", "pw-1234")
    assert s.get_secret("api_token") == VALUE + "2"
    assert s.list_secret_names() == ["api_token", "other"]
    assert s.resolve_all() == {"api_token": VALUE + "2", "other": "pw-1234"}
    s.delete_secret("other")
    assert s.list_secret_names() == ["api_token"]
    with pytest.raises(NotFoundError, match="no secret named 'other'"):
        s.get_secret("other")


def test_value_is_not_plaintext_in_the_database_file(db, db_path):
    SecretService(db).set_secret("api_token", VALUE)
    db.close()
    raw = raw_database_bytes(db_path)
    assert b"api_token" in raw  # the name is stored...
    assert VALUE.encode() not in raw  # ...the value only encrypted


def test_key_file_is_created_readable_only_by_the_user(db, key_file):
    SecretService(db).set_secret("x_token", VALUE)
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert VALUE.encode() not in key_file.read_bytes()


def test_a_loose_key_file_is_tightened(db, key_file):
    SecretService(db).set_secret("x_token", VALUE)
    key_file.chmod(0o644)
    assert SecretService(db).get_secret("x_token") == VALUE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_another_key_cannot_read_and_says_so(db, tmp_path):
    SecretService(db).set_secret("x_token", VALUE)
    other = SecretService(db, key_file=tmp_path / "other.key")
    with pytest.raises(SecretKeyError) as err:
        other.get_secret("x_token")
    assert "x_token" in str(err.value) and VALUE not in str(err.value)


def test_damaged_key_file_is_one_sentence(db, key_file):
    key_file.parent.mkdir(parents=True)
    key_file.write_bytes(b"not a key")
    with pytest.raises(SecretKeyError, match="damaged"):
        SecretService(db).set_secret("x_token", VALUE)


def test_bad_names_and_empty_values_are_refused(db):
    s = SecretService(db)
    with pytest.raises(InvalidInputError, match="cannot be a secret name"):
        s.set_secret("has space", VALUE)
    with pytest.raises(InvalidInputError, match="needs a value"):
        s.set_secret("ok", "")


def test_the_fail_keyring_means_the_key_file(monkeypatch):
    import keyring
    from keyring.backends import fail

    monkeypatch.setenv("FLOWDESK_KEYRING", "1")
    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    assert usable_keyring() is None
    assert "key file" in KeyStore().location


def test_a_usable_keyring_holds_the_key(db, monkeypatch, key_file):
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1
        store: dict = {}

        def get_password(self, service, username):
            return self.store.get((service, username))

        def set_password(self, service, username, password):
            self.store[(service, username)] = password

        def delete_password(self, service, username):
            self.store.pop((service, username), None)

    monkeypatch.setenv("FLOWDESK_KEYRING", "1")
    monkeypatch.setattr(keyring, "get_keyring", lambda: MemoryKeyring())
    s = SecretService(db)
    assert "keyring" in s.keys.location
    s.set_secret("x_token", VALUE)
    assert not key_file.exists()
    assert MemoryKeyring.store
    assert SecretService(db).get_secret("x_token") == VALUE
