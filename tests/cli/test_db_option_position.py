"""`--db` is accepted before the command (as docs/cli.md shows), after it, and after the action, for every command."""

from __future__ import annotations

import pytest

from flowdesk import cli
from flowdesk.services.apis import ApiService
from flowdesk.store import Database

CURL = "curl -X POST https://e.test/items -d a=1"


def _positions(command: list[str], db: str) -> list[list[str]]:
    head, rest = command[:1], command[1:]
    return [
        ["--db", db, *command],
        [f"--db={db}", *command],
        [*head, "--db", db, *rest],
        [*command, "--db", db],
    ]


def test_api_import_with_db_before_the_command_imports_into_that_database(tmp_path, capsys):
    db = str(tmp_path / "x.db")
    spec = tmp_path / "one.sh"
    spec.write_text(CURL)
    code = cli.main(["--db", db, "api", "import", str(spec)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "unrecognized arguments" not in err
    with Database(db) as opened:
        assert [a.name for a in ApiService(opened).list_apis()] == ["POST e.test/items"]


@pytest.mark.parametrize(
    "command",
    [
        ["list"],
        ["api", "list"],
        ["env", "list"],
        ["secret", "list"],
    ],
)
def test_every_position_of_db_reaches_the_same_database(tmp_path, capsys, command):
    db = tmp_path / "pos.db"
    for argv in _positions(command, str(db)):
        code = cli.main(argv)
        _, err = capsys.readouterr()
        assert code == 0, (argv, err)
        assert db.exists(), argv
        db.unlink()


def test_db_after_the_action_wins_over_none_given_before(tmp_path, capsys):
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    spec = tmp_path / "one.sh"
    spec.write_text(CURL)
    assert cli.main(["--db", str(first), "api", "import", str(spec), "--db", str(second)]) == 0
    capsys.readouterr()
    with Database(str(second)) as opened:
        assert len(ApiService(opened).list_apis()) == 1
    assert not first.exists()


def test_global_options_alone_still_open_the_app(monkeypatch):
    opened = []
    monkeypatch.setattr(cli, "open_app", lambda argv: opened.append(list(argv)) or 0)
    assert cli.main(["--db", "x.db"]) == 0
    assert opened == [["--db", "x.db"]]
