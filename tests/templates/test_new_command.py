"""`flowdesk new --template NAME [FILE]` and templates installed by packages through the entry-point
group `flowdesk.templates`: a real dist (a package and its .dist-info with entry_points.txt) built in
tmp_path and put on sys.path."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from flowdesk import cli
from flowdesk.interchange.templates import BUILTIN_DIR, load_templates
from flowdesk.interchange.workflow_file import read_workflow_file
from tests.support.template_dists import make_dist, template_text

BUILTIN = sorted(p.stem for p in BUILTIN_DIR.glob("*.json"))


@pytest.fixture
def run(capsys, monkeypatch, tmp_path):
    """`flowdesk ...` in this process, in tmp_path: (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))

    def call(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        assert "Traceback" not in err, err
        return code, out, err

    return call


def test_without_a_name_it_lists_the_templates_in_one_sentence(run):
    code, out, err = run("new")
    assert code == 0 and err == ""
    assert out == (
        f"The templates are: {', '.join(BUILTIN)}. Write one with: flowdesk new --template NAME [FILE]\n"
    )
    assert run("new", "--template")[1] == out


def test_an_unknown_name_is_one_sentence_naming_the_known_ones(run, tmp_path):
    code, out, err = run("new", "--template", "paginat")
    assert code == 2 and out == ""
    assert err == (
        f"flowdesk: 'paginat' is not a template (did you mean paginate?). The templates are: {', '.join(BUILTIN)}.\n"
    )
    assert list(tmp_path.glob("*.json")) == []


def test_it_writes_the_template_and_refuses_to_overwrite(run, tmp_path):
    code, out, err = run("new", "--template", "poll-job")
    assert code == 0, err
    written = tmp_path / "poll-job.json"
    assert written.read_text(encoding="utf-8") == (BUILTIN_DIR / "poll-job.json").read_text(encoding="utf-8")
    assert out.startswith(
        "Wrote poll-job.json from the template 'poll-job' (Poll a job until done); its inputs: "
    )
    assert read_workflow_file(written.read_bytes()).graph.workflow.name == "Poll a job until done"

    target = tmp_path / "flows" / "mine.json"
    target.parent.mkdir()
    target.write_text("my own work", encoding="utf-8")
    code, out, err = run("new", "--template", "paginate", str(target))
    assert code == 2 and err == f"flowdesk: {target} exists already: add --force to overwrite it\n"
    assert target.read_text(encoding="utf-8") == "my own work"
    assert run("new", "--template", "paginate", str(target), "--force")[0] == 0
    assert (
        json.loads(target.read_text(encoding="utf-8"))["workflow"]["name"]
        == "Paginate until there is no next page"
    )
    assert sorted(p.name for p in target.parent.iterdir()) == ["mine.json"]  # no temporary file left


def test_an_unwritable_place_is_one_sentence(run, tmp_path):
    code, _out, err = run("new", "--template", "paginate", str(tmp_path / "missing" / "x.json"))
    assert code == 2 and err.startswith("flowdesk: cannot write ") and err.count("\n") == 1


def test_a_package_adds_templates_through_the_entry_point_group(run, tmp_path, monkeypatch):
    site = make_dist(
        tmp_path / "site",
        "acme_flows",
        "acme_flows:TEMPLATES",
        {
            "templates/acme-login.json": template_text("ACME login"),
            "templates/paginate.json": template_text("ACME pages"),
        },
        "from pathlib import Path\nTEMPLATES = Path(__file__).parent / 'templates'\n",
    )
    monkeypatch.syspath_prepend(str(site))
    library = load_templates()
    assert library.problems == []
    acme = library.get("acme-login")
    assert acme.origin == "acme_flows" and acme.title == "ACME login"
    # a name the built-ins have is qualified by the entry point's name
    assert library.get("paginate").origin == "built-in"
    assert library.get("acme_flows/paginate").title == "ACME pages"

    code, out, err = run("new", "--template", "acme-login", "acme.json")
    assert code == 0, err
    assert (
        json.loads((tmp_path / "acme.json").read_text(encoding="utf-8"))["workflow"]["name"] == "ACME login"
    )
    assert "acme-login" in run("new")[1]


def test_a_list_of_files_and_a_broken_file_in_a_package(tmp_path, monkeypatch):
    site = make_dist(
        tmp_path / "site",
        "beta_flows",
        "beta_flows:files",
        {"one.json": template_text("Beta one"), "broken.json": '{"flowdesk": 1, "nodes": ['},
        "from pathlib import Path\nHERE = Path(__file__).parent\n"
        "def files():\n    return [HERE / 'one.json', str(HERE / 'broken.json'), HERE / 'gone.json']\n",
    )
    monkeypatch.syspath_prepend(str(site))
    library = load_templates()
    assert library.get("one").title == "Beta one"
    assert library.get("broken") is None
    assert len(library.problems) == 2
    assert library.problems[0].startswith("broken.json, line 1") and library.problems[0].endswith(
        "(template left out)"
    )
    assert "gone.json is neither a folder nor a file" in library.problems[1]
    assert set(BUILTIN) <= set(library.names)


def test_a_package_whose_entry_point_cannot_load(tmp_path, monkeypatch):
    site = make_dist(tmp_path / "site", "gamma_flows", "gamma_flows:MISSING", {}, "")
    monkeypatch.syspath_prepend(str(site))
    library = load_templates()
    assert library.names == BUILTIN
    assert library.problems == [
        "entry point 'gamma_flows' (gamma_flows:MISSING) of group flowdesk.templates: cannot be loaded "
        "(AttributeError: module 'gamma_flows' has no attribute 'MISSING'), so its templates are left out."
    ]


def test_the_installed_command_sees_a_package_template(tmp_path):
    """The real program in a subprocess, with the package on PYTHONPATH as an installed dist is."""
    site = make_dist(
        tmp_path / "site",
        "delta_flows",
        "delta_flows:TEMPLATES",
        {"t/delta.json": template_text("Delta")},
        "from pathlib import Path\nTEMPLATES = [Path(__file__).parent / 't' / 'delta.json']\n",
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    result = subprocess.run(
        [sys.executable, "-m", "flowdesk", "new", "--template", "delta"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "delta.json").read_text(encoding="utf-8"))["workflow"]["name"] == "Delta"
