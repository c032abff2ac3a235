"""No module of flowdesk reads another module's private names (tests/support/private_names.py).

The checker is tried on a temporary package too, so a reach-in is known to fail it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.package_tree import make_package
from tests.support.private_names import private_reach_ins

ROOT = Path(__file__).resolve().parents[1]


def test_no_flowdesk_module_reads_another_modules_private_names():
    assert private_reach_ins(ROOT / "flowdesk") == []


BASE = {
    "__init__.py": "from pkg.engine.run import _helper\n__version__ = '1'\n",
    "cli.py": "_Parser = object\nEXIT = 2\n",
    "engine/__init__.py": "from .run import _helper as helper\n",
    "engine/run.py": "def _helper():\n    return _helper\n\n\nclass Run:\n    def go(self):\n        return self._x\n",
    "engine/step.py": "from pkg import __version__, cli\nfrom pkg.engine import run\n\nX = (cli.EXIT, run.Run)\n",
}


def test_public_names_own_names_and_a_package_reexporting_its_submodules_pass(tmp_path):
    assert private_reach_ins(make_package(tmp_path, BASE)) == []


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ("from pkg.engine.run import _helper\n", "pkg/engine/step.py:1: imports _helper from pkg.engine.run"),
        ("from .run import _helper\n", "pkg/engine/step.py:1: imports _helper from pkg.engine.run"),
        ("from ..cli import _Parser\n", "pkg/engine/step.py:1: imports _Parser from pkg.cli"),
        (
            "def f():\n    from pkg import cli\n\n    return cli._Parser\n",
            "pkg/engine/step.py:4: reads pkg.cli._Parser",
        ),
        (
            "import pkg.engine.run as r\n\nY = r._helper\n",
            "pkg/engine/step.py:3: reads pkg.engine.run._helper",
        ),
        ("from . import run\n\nY = run._helper()\n", "pkg/engine/step.py:3: reads pkg.engine.run._helper"),
    ],
)
def test_a_private_name_read_from_another_module_is_reported_where_it_is(tmp_path, step, expected):
    assert private_reach_ins(make_package(tmp_path, {**BASE, "engine/step.py": step})) == [expected]


def test_private_names_of_other_libraries_are_not_ours_to_judge(tmp_path):
    step = "import asyncio\nfrom asyncio import _x\n\nY = asyncio._get_running_loop\n"
    assert private_reach_ins(make_package(tmp_path, {**BASE, "engine/step.py": step})) == []
