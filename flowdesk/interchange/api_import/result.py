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

    def problem(self, where: str, message: str) -> None:
        """Record one problem (the same problem twice is kept once)."""
        entry = ImportProblem(where, message)
        if entry not in self.problems:
            self.problems.append(entry)

    def note(self, message: str) -> None:
        """Record one note (kept once)."""
        if message not in self.notes:
            self.notes.append(message)
