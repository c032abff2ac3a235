"""Many problems: line positions come from one index of line starts, the report lists the first 1,000
then counts the rest, and long values in messages are cut to about 80 characters."""

from __future__ import annotations

import json

from flowdesk.domain.problem_report import PROBLEM_CAP, cut_long_values, report_lines
from flowdesk.interchange.json_locate import LineIndex, line_column, locate_paths
from tests.support.problem_files import unreachable_nodes_file


def test_the_line_index_agrees_with_line_column_everywhere():
    text = 'ab\ncd\n\n\nefg\n{"x": [1,\n 2]}'
    index = LineIndex(text)
    for offset in range(-2, len(text) + 3):
        assert index.line_column(offset) == line_column(text, offset), offset


def test_locate_paths_finds_each_node_line():
    text = unreachable_nodes_file(50)
    found = locate_paths(text, [("nodes", i) for i in range(52)])
    lines = text.splitlines()
    for i in range(52):
        line, column = found[("nodes", i)]
        assert lines[line - 1][column - 1] == "{"


def test_validate_lists_the_first_thousand_problems_then_counts_the_rest(tmp_path, capsys):
    from flowdesk.cli import main

    path = tmp_path / "many.json"
    path.write_text(unreachable_nodes_file(1500, long_name="N" * 100_000), encoding="utf-8")
    code = main(["validate", str(path), "--db", str(tmp_path / "x.db")])
    out = capsys.readouterr()
    text = out.out + out.err
    assert code == 0  # unreachable nodes are warnings
    lines = [line for line in text.splitlines() if "cannot be reached" in line]
    assert len(lines) == PROBLEM_CAP
    assert "and 501 more problems" in text
    assert len(text) < 400_000  # a 100,000-character name is not printed whole
    as_json = main(["validate", str(path), "--json", "--db", str(tmp_path / "x.db")])
    report = json.loads(capsys.readouterr().out)
    assert as_json == 0 and len(report["problems"]) == PROBLEM_CAP and report["more_problems"] == 501


def test_long_quoted_values_are_cut_to_about_80_characters():
    message = f"node '{'é' * 5000}' cannot be reached from START"
    cut = cut_long_values(message)
    assert cut.startswith("node 'ééé") and cut.endswith("' (5,000 characters) cannot be reached from START")
    assert len(cut) < 160
    assert cut_long_values("node 'short' is fine") == "node 'short' is fine"
    assert report_lines(["a", "b", "c"], str, cap=2) == [
        "a",
        "b",
        "... and 1 more problem (only the first 1,000 are listed)",
    ]
