"""Secrets: named values (tokens, passwords) kept encrypted at rest, reached as `{{secrets.NAME}}`.

The values live in the `secrets` table as Fernet ciphertext (AES-128-CBC + HMAC-SHA256, `cryptography`).
The Fernet key is kept outside the database: in the OS keyring when a usable one exists (Secret Service,
macOS Keychain, Windows Credential Locker), else in a key file readable only by the user (mode 0600)
under `platformdirs.user_config_dir("flowdesk")`. A copied database file alone reveals nothing.

`FLOWDESK_KEY_FILE` names another key file (tests point it into tmp_path) and `FLOWDESK_KEYRING=0`
turns the keyring off; both can also be passed to `SecretService`.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from flowdesk.domain.errors import FlowdeskError, InvalidInputError, NotFoundError
from flowdesk.store import Database
from flowdesk.store.audit_trail import record_audit
from flowdesk.store.plain_reads import secret_ciphertexts
from flowdesk.store.tables import SecretRow, utcnow

from .transaction import transaction

if TYPE_CHECKING:  # pragma: no cover
    from cryptography.fernet import Fernet

log = logging.getLogger(__name__)

KEYRING_SERVICE = "flowdesk"
KEYRING_USER = "secrets-key"
KEY_FILE_NAME = "secrets.key"
NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,254}$")


class SecretKeyError(FlowdeskError):
    """The key that encrypts the secrets cannot be read, or does not open a stored secret."""


def default_key_file() -> Path:
    """$FLOWDESK_KEY_FILE, else secrets.key in the user config folder."""
    return _named_key_file() or _config_key_file()


def _named_key_file() -> Path | None:
    named = os.environ.get("FLOWDESK_KEY_FILE")
    return Path(named) if named else None


def _config_key_file() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("flowdesk", appauthor=False)) / KEY_FILE_NAME


def usable_keyring() -> Any | None:
    """The OS keyring backend when a real one is available (not the 'fail' or 'null' backends), else None."""
    if os.environ.get("FLOWDESK_KEYRING", "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
    except Exception:  # noqa: BLE001 - any broken keyring setup means "no keyring"
        log.info("no OS keyring available", exc_info=True)
        return None
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) <= 0:
        return None
    return backend


class KeyStore:
    """Finds or creates the Fernet key: the OS keyring first (when usable), else a 0600 key file."""

    def __init__(self, key_file: str | os.PathLike[str] | None = None, *, use_keyring: bool | None = None):
        # $FLOWDESK_KEY_FILE is read now; the user config folder only when the key is first needed
        # (platformdirs costs some 15 ms of a run that has no secrets).
        self._key_file = Path(key_file) if key_file is not None else _named_key_file()
        self._use_keyring = use_keyring in (None, True)
        self._backend: Any = None
        self._backend_known = False
        self._key: bytes | None = None

    @property
    def key_file(self) -> Path:
        """The file that holds the key when no OS keyring is used."""
        if self._key_file is None:
            self._key_file = _config_key_file()
        return self._key_file

    @property
    def backend(self) -> Any | None:
        """The OS keyring backend in use, or None (looked up on first use: importing keyring and
        probing its backends costs some 0.3 s, which a run without secrets never needs)."""
        if not self._backend_known:
            self._backend = usable_keyring() if self._use_keyring else None
            self._backend_known = True
        return self._backend

    @backend.setter
    def backend(self, value: Any | None) -> None:
        self._backend, self._backend_known = value, True

    @property
    def location(self) -> str:
        """Where the key is kept, in words (for the docs, the CLI and the secrets dialog)."""
        if self.backend is not None:
            return f"the OS keyring ({type(self.backend).__name__})"
        return f"the key file {self.key_file}"

    def key(self) -> bytes:
        """The key, created on first use."""
        if self._key is None:
            self._key = self._from_keyring() if self.backend is not None else self._from_file()
        return self._key

    def _from_keyring(self) -> bytes:
        backend = self.backend
        assert backend is not None
        from cryptography.fernet import Fernet

        try:
            stored = backend.get_password(KEYRING_SERVICE, KEYRING_USER)
            if stored:
                return stored.encode("ascii")
            key = Fernet.generate_key()
            backend.set_password(KEYRING_SERVICE, KEYRING_USER, key.decode("ascii"))
            return key
        except Exception as err:  # noqa: BLE001 - a locked or broken keyring: fall back to the file
            log.warning("the OS keyring cannot be used (%s); using the key file", type(err).__name__)
            self.backend = None
            return self._from_file()

    def _from_file(self) -> bytes:
        from cryptography.fernet import Fernet

        path = self.key_file
        try:
            if path.exists():
                mode = stat.S_IMODE(path.stat().st_mode)
                if os.name == "posix" and mode & 0o077:
                    os.chmod(path, 0o600)
                    log.warning("the key file %s was readable by others; now 0600", path)
                key = path.read_bytes().strip()
                Fernet(key)  # raises ValueError on a damaged file
                return key
            path.parent.mkdir(parents=True, exist_ok=True)
            key = Fernet.generate_key()
            # Created with 0600 from the start (O_EXCL: never overwrite a key another process just made).
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(key)
            return key
        except FileExistsError:
            return path.read_bytes().strip()
        except ValueError:
            raise SecretKeyError(f"The key file {path} is damaged; secrets cannot be read.") from None
        except OSError as err:
            raise SecretKeyError(f"The key file {path} cannot be used: {err.strerror or err}.") from None


def check_secret_name(name: str) -> str:
    """`name` if it can be a secret's name (letters, digits, _ . -; starting with a letter or _)."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise InvalidInputError(
            f"'{name}' cannot be a secret name: use letters, digits, '_', '.' or '-', starting with a letter or '_'."
        )
    return name


class SecretService:
    """Store, read and delete secrets; values are encrypted before they reach the database."""

    def __init__(
        self,
        db: Database,
        *,
        key_file: str | os.PathLike[str] | None = None,
        use_keyring: bool | None = None,
        keys: KeyStore | None = None,
    ) -> None:
        self.db = db
        self.keys = keys or KeyStore(key_file, use_keyring=use_keyring)

    def _fernet(self) -> Fernet:
        # cryptography is imported only when a value is encrypted or decrypted: a run without
        # secrets never loads it (some 15 ms).
        from cryptography.fernet import Fernet

        return Fernet(self.keys.key())

    def encrypt(self, value: str) -> bytes:
        """Ciphertext of `value` with this machine's key."""
        return self._fernet().encrypt(value.encode("utf-8"))

    def _decrypt(self, name: str, ciphertext: bytes) -> str:
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet().decrypt(bytes(ciphertext)).decode("utf-8")
        except InvalidToken:
            raise SecretKeyError(
                f"Secret '{name}' cannot be decrypted with the key in {self.keys.location}; "
                "it was stored with another key. Set it again."
            ) from None

    def set_secret(self, name: str, value: str, *, session: Session | None = None) -> bool:
        """Store (or replace) a secret; True when it is new."""
        check_secret_name(name)
        if not isinstance(value, str) or value == "":
            raise InvalidInputError(f"Secret '{name}' needs a value.")
        ciphertext = self.encrypt(value)
        with transaction(self.db, session) as s:
            row = s.scalars(select(SecretRow).where(SecretRow.name == name)).first()
            now = utcnow()
            if row is None:
                row = SecretRow(name=name, ciphertext=ciphertext, created_at=now, updated_at=now)
                s.add(row)
                s.flush()
                record_audit(s, "secret", row.id, "create", f"Stored secret '{name}'.")
                return True
            row.ciphertext = ciphertext
            row.updated_at = now
            record_audit(s, "secret", row.id, "update", f"Changed secret '{name}'.")
            return False

    def get_secret(self, name: str) -> str:
        """The decrypted value of one secret."""
        with self.db.session(read_only=True) as s:
            row = s.scalars(select(SecretRow).where(SecretRow.name == name)).first()
            if row is None:
                raise NotFoundError(f"There is no secret named '{name}'.")
            ciphertext = row.ciphertext
        return self._decrypt(name, ciphertext)

    def has_secret(self, name: str, *, session: Session | None = None) -> bool:
        """Whether a secret of this name is stored."""
        with transaction(self.db, session, read_only=True) as s:
            return s.scalars(select(SecretRow.id).where(SecretRow.name == name)).first() is not None

    def delete_secret(self, name: str) -> None:
        """Remove a secret."""
        with self.db.session() as s:
            row = s.scalars(select(SecretRow).where(SecretRow.name == name)).first()
            if row is None:
                raise NotFoundError(f"There is no secret named '{name}'.")
            sid = row.id
            s.execute(delete(SecretRow).where(SecretRow.id == sid))
            record_audit(s, "secret", sid, "delete", f"Deleted secret '{name}'.")

    def list_secret_names(self) -> list[str]:
        """The names of the stored secrets, sorted (never their values)."""
        with self.db.session(read_only=True) as s:
            return list(s.scalars(select(SecretRow.name).order_by(SecretRow.name)))

    def resolve_all(self) -> dict[str, str]:
        """Every secret, decrypted: what a run's `{{secrets.NAME}}` reads (and its masker hides)."""
        with self.db.session(read_only=True) as s:
            rows = secret_ciphertexts(s)
        if not rows:
            return {}
        return {name: self._decrypt(name, ct) for name, ct in rows}
