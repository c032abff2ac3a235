"""What an API import gives back: the definitions, the environment to create, problems and notes."""

from __future__ import annotations

from dataclasses import dataclass, field

from flowdesk.domain.models import ApiDefinition


@dataclass(frozen=True)
class ImportProblem:
    """Something an import could not carry over, for one operation or request (or "" for the whole file)."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


@dataclass
class ApiImportResult:
    """The outcome of reading one spec, collection or curl command; nothing is written anywhere."""

    format: str
    definitions: list[ApiDefinition] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    problems: list[ImportProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    title: str = ""

    _seen: set = field(default_factory=set, repr=False, compare=False)

    def problem(self, where: str, message: str) -> None:
        """Record one problem (the same problem twice is kept once)."""
        entry = ImportProblem(where, message)
        self._keep(self.problems, entry)

    def note(self, message: str) -> None:
        """Record one note (kept once)."""
        self._keep(self.notes, message)

    def _keep(self, entries: list, entry: object) -> None:
        # a set beside the lists, so a spec with thousands of problems is not a quadratic scan; rebuilt
        # when a caller replaced or edited a list directly
        key = (type(entry).__name__, entry)
        if len(self._seen) != len(self.problems) + len(self.notes):
            self._seen = {("ImportProblem", p) for p in self.problems} | {("str", n) for n in self.notes}
        if key not in self._seen:
            self._seen.add(key)
            entries.append(entry)
