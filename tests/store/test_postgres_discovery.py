"""How the tests find a PostgreSQL server, and what they do without one (skip, or fail on CI)."""

from __future__ import annotations

import pytest

from tests.support import plugin, postgres


def test_binaries_on_path_win_and_links_are_followed(monkeypatch, tmp_path):
    real = tmp_path / "pg" / "16" / "bin"
    real.mkdir(parents=True)
    for name in ("initdb", "pg_ctl"):
        (real / name).touch()
        (tmp_path / name).symlink_to(real / name)
    monkeypatch.setattr(postgres.shutil, "which", lambda name: str(tmp_path / name))
    assert postgres.find_bindir() == real


def test_without_path_the_newest_package_folder_is_taken(monkeypatch, tmp_path):
    for version in ("9.6", "13", "15"):
        folder = tmp_path / version / "bin"
        folder.mkdir(parents=True)
        for name in ("initdb", "pg_ctl"):
            (folder / name).touch()
    (tmp_path / "17" / "bin").mkdir(parents=True)  # a client-only install: no initdb
    monkeypatch.setattr(postgres.shutil, "which", lambda name: None)
    monkeypatch.setattr(postgres, "BINDIR_GLOBS", (str(tmp_path / "*" / "bin"),))
    assert postgres.find_bindir() == tmp_path / "15" / "bin"


def test_nothing_found(monkeypatch, tmp_path):
    monkeypatch.setattr(postgres.shutil, "which", lambda name: None)
    monkeypatch.setattr(postgres, "BINDIR_GLOBS", (str(tmp_path / "*" / "bin"),))
    assert postgres.find_bindir() is None


def test_no_server_skips_unless_it_is_required(monkeypatch):
    monkeypatch.delenv(plugin.REQUIRE_POSTGRES, raising=False)
    with pytest.raises(pytest.skip.Exception, match="No server here"):
        plugin._no_postgres("No server here")
    monkeypatch.setenv(plugin.REQUIRE_POSTGRES, "1")
    with pytest.raises(
        pytest.fail.Exception, match="No server here, and FLOWDESK_REQUIRE_POSTGRES=1 requires"
    ):
        plugin._no_postgres("No server here")
