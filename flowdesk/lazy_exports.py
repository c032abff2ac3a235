"""Lazy re-exports: a package names what it offers and imports each module when a name is first used.

`__getattr__ = lazy_exports(__name__, {"Name": "module.path", ...})` at the end of a package's
`__init__.py` (or any module) gives it PEP 562's module `__getattr__`: the first `package.Name`
imports the module (a relative path such as ".workflow_file" is resolved against the package),
keeps the value in the package's namespace (so later uses cost nothing) and returns it; a name not
offered raises AttributeError as Python's own does. It keeps `import flowdesk` and the layers' own
imports light (docs/architecture.md, start-up imports). Imports nothing of ours; any part may use it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(module_name: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """The module `__getattr__` of `module_name` serving `exports` (name -> module that defines it)."""
    namespace = sys.modules[module_name].__dict__
    package = module_name if hasattr(sys.modules[module_name], "__path__") else module_name.rpartition(".")[0]

    def __getattr__(name: str) -> Any:
        where = exports.get(name)
        if where is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where, package), name)
        namespace[name] = value
        return value

    return __getattr__
