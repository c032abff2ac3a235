"""The template library: ready-made workflow files to start from (docs/templates.md).

Templates are workflow files. The built-in ones are resources/templates/*.json; installed packages add
theirs through the entry-point group `flowdesk.templates`, each entry point giving a folder of
`*.json` files or a list of files (a path, a list of paths, or a callable returning either):

    [project.entry-points."flowdesk.templates"]
    acme = "acme_flows:TEMPLATES"      # TEMPLATES = Path(__file__).parent / "templates"

A template's name is its file's stem (`paginate` for paginate.json). A package's template whose name is
taken already is named `<entry point>/<stem>`. A file that cannot be read is left out, with one
sentence in `TemplateLibrary.problems`; it never stops the others from being listed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from os import PathLike, fspath
from pathlib import Path
from typing import Any

from flowdesk.domain.errors import FlowdeskError
from flowdesk.domain.models import WorkflowGraph
from flowdesk.domain.workflow_inputs import InputField, declared_inputs, input_fields

from .workflow_file import read_workflow_file

log = logging.getLogger(__name__)

__all__ = ["ENTRY_POINT_GROUP", "BUILTIN_DIR", "Template", "TemplateLibrary", "load_templates"]

ENTRY_POINT_GROUP = "flowdesk.templates"
BUILTIN_DIR = Path(__file__).resolve().parents[2] / "resources" / "templates"
MAX_TEMPLATE_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Template:
    """One template: its name, where it comes from, its text and the workflow it holds."""

    name: str
    path: Path
    origin: str  # "built-in", or the entry point that installed it
    text: str
    graph: WorkflowGraph

    @property
    def title(self) -> str:
        return self.graph.workflow.name

    @property
    def description(self) -> str:
        return self.graph.workflow.description

    @property
    def inputs(self) -> list[InputField]:
        """The inputs it needs, from its `config.inputs` declaration."""
        schema = declared_inputs(self.graph.workflow.config)
        return input_fields(schema) if schema is not None else []


@dataclass
class TemplateLibrary:
    """Every template found, in name order, and one sentence per file that was left out."""

    templates: list[Template] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.templates]

    def get(self, name: str) -> Template | None:
        return next((t for t in self.templates if t.name == name), None)

    def names_sentence(self) -> str:
        """The known templates as one sentence, for a missing or unknown name."""
        if not self.templates:
            return "No templates are installed."
        return f"The templates are: {', '.join(self.names)}."


def _files_of(value: Any, where: str, problems: list[str]) -> Iterator[Path]:
    """The template files an entry point's value names: a folder (its *.json), a file, or a list."""
    if callable(value):
        try:
            value = value()
        except Exception as err:  # a package's code: whatever it raises, the other templates still list
            problems.append(
                f"{where}: calling it failed ({type(err).__name__}: {err}), so its templates are left out."
            )
            return
    if isinstance(value, (str, PathLike)):
        path = Path(fspath(value))
        if path.is_dir():
            yield from sorted(path.glob("*.json"))
        elif path.is_file():
            yield path
        else:
            problems.append(f"{where}: {path} is neither a folder nor a file, so it is left out.")
        return
    if isinstance(value, Iterable) and not isinstance(value, (bytes, dict)):
        for item in value:
            yield from _files_of(item, where, problems)
        return
    problems.append(
        f"{where}: expected a folder, a file or a list of them, found {type(value).__name__}, so it is left out."
    )


def _read(path: Path, name: str, origin: str, problems: list[str]) -> Template | None:
    try:
        if path.stat().st_size > MAX_TEMPLATE_BYTES:
            problems.append(f"{path}: a template file is at most 5 MB, so it is left out.")
            return None
        text = path.read_text(encoding="utf-8")
        graph = read_workflow_file(text, source=path.name).graph
    except OSError as err:
        problems.append(f"{path}: cannot be read ({err.strerror or err}), so it is left out.")
        return None
    except UnicodeDecodeError:
        problems.append(f"{path}: is not UTF-8 text, so it is left out.")
        return None
    except FlowdeskError as err:
        problems.append(f"{err} (template left out)")
        return None
    return Template(name=name, path=path, origin=origin, text=text, graph=graph)


def load_templates(
    *, builtin_dir: Path | None = None, group: str = ENTRY_POINT_GROUP, packages: bool = True
) -> TemplateLibrary:
    """Find and read every template: the built-in folder, then each installed package's."""
    library = TemplateLibrary()
    problems = library.problems
    found: list[Template] = []
    taken: set[str] = set()

    def add(path: Path, stem_prefix: str, origin: str) -> None:
        name = path.stem if path.stem not in taken else f"{stem_prefix}/{path.stem}"
        if name in taken:
            problems.append(f"{path}: a template named '{name}' exists already, so it is left out.")
            return
        template = _read(path, name, origin, problems)
        if template is not None:
            taken.add(name)
            found.append(template)

    folder = BUILTIN_DIR if builtin_dir is None else builtin_dir
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        add(path, "built-in", "built-in")
    if packages:
        for ep in sorted(entry_points(group=group), key=lambda e: e.name):
            where = f"entry point '{ep.name}' ({ep.value}) of group {group}"
            try:
                value = ep.load()
            except Exception as err:  # a broken package must not hide the other templates
                problems.append(
                    f"{where}: cannot be loaded ({type(err).__name__}: {err}), so its templates are left out."
                )
                continue
            for path in _files_of(value, where, problems):
                add(path, ep.name, ep.name)
    for text in problems:
        log.warning("template library: %s", text)
    library.templates = sorted(found, key=lambda t: t.name)
    return library
