"""Plugins: objects whose async hooks the executor awaits around runs and nodes.

`executor.register_plugin(plugin)` adds one; packages declaring the entry-point group
`flowdesk.plugins` (a WorkflowPlugin subclass or instance) are found by `discover_plugins()`. A hook
that raises is logged and ignored: a plugin never breaks a run.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Iterable
from typing import Any

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "flowdesk.plugins"


class WorkflowPlugin:
    """Base class of plugins; override the hooks you need (all async, all optional)."""

    name: str | None = None

    async def before_execution(self, workflow_id: int | None, input_data: Any) -> None:
        """Called before a run starts."""

    async def after_execution(self, execution_id: int | None, result: dict[str, Any]) -> None:
        """Called after a run ended; `result` has execution_id, workflow_id, status, output_data,
        error_message, started_at, completed_at, duration."""

    async def on_node_execution(self, node_id: Any, context: Any) -> None:
        """Called before each node run; `context` is the node's NodeContext (node id, or name when
        the node is not stored)."""


def _label(plugin: Any) -> str:
    return getattr(plugin, "name", None) or type(plugin).__name__


class PluginHost:
    """The plugins of one executor, with hooks that never raise."""

    def __init__(self) -> None:
        self.plugins: list[Any] = []

    def add(self, plugin: Any) -> None:
        if isinstance(plugin, type):
            plugin = plugin()
        if plugin not in self.plugins:
            self.plugins.append(plugin)

    def remove(self, plugin: Any) -> None:
        if plugin in self.plugins:
            self.plugins.remove(plugin)

    def __bool__(self) -> bool:
        return bool(self.plugins)

    async def _call(self, hook: str, *args: Any) -> None:
        for plugin in tuple(self.plugins):
            fn = getattr(plugin, hook, None)
            if fn is None:
                continue
            try:
                result = fn(*args)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("plugin %s raised in %s; ignored", _label(plugin), hook)

    async def before_execution(self, workflow_id: int | None, input_data: Any) -> None:
        await self._call("before_execution", workflow_id, input_data)

    async def after_execution(self, execution_id: int | None, result: dict[str, Any]) -> None:
        await self._call("after_execution", execution_id, result)

    async def on_node_execution(self, node_id: Any, context: Any) -> None:
        await self._call("on_node_execution", node_id, context)


def installed_entry_points(group: str) -> tuple[Any, ...]:
    """The entry points of `group` declared by the installed packages.

    Finding them reads the entry-point file of every installed package (some 20 ms with a few
    hundred of them), whatever the group; the packages are read once per process and every group
    (plugins, node handlers) is picked from that one reading. A package installed while a process
    runs is found by the next process.
    """
    return tuple(_every_entry_point().select(group=group))


@functools.cache
def _every_entry_point() -> Any:
    from importlib.metadata import entry_points

    return entry_points()


def discover_plugins(entry_points: Iterable[Any] | None = None) -> list[Any]:
    """Plugins installed as packages (entry-point group `flowdesk.plugins`); broken ones are logged."""
    if entry_points is None:
        entry_points = installed_entry_points(ENTRY_POINT_GROUP)
    found = []
    for ep in entry_points:
        try:
            obj = ep.load()
            found.append(obj() if isinstance(obj, type) else obj)
        except Exception:
            logger.exception("could not load plugin %r from entry point %s", ep.name, ep.value)
    return found
