"""Typed errors carrying a user-facing message and, where known, a location."""

from __future__ import annotations


class FlowdeskError(Exception):
    """Base of every error flowdesk shows to a person: `str(err)` is one plain sentence."""

    def __init__(self, message: str, *, location: str | None = None) -> None:
        self.message = message
        self.location = location
        super().__init__(f"{location}: {message}" if location else message)


class ExpressionLimitError(FlowdeskError):
    """An expression went past one of the bounds on hostile input at run time (a regular expression
    over its compile budget, a rendered template over its size): the step fails with this sentence."""


class NotFoundError(FlowdeskError):
    """A workflow, node, connection, API, execution or version that does not exist."""


class ConflictError(FlowdeskError):
    """A write that would break a rule of the store (duplicate name, API still in use...)."""


class InvalidInputError(FlowdeskError):
    """Input that cannot be used as it is (bad JSON, bad argument, bad value)."""


class DatabaseTooNewError(FlowdeskError):
    """The database was written by a newer flowdesk; it is refused and left untouched."""


class DatabaseUnavailableError(FlowdeskError):
    """The database cannot be opened: its server is unreachable, its driver missing, or its kind unsupported."""


class FileFormatError(FlowdeskError):
    """A workflow file that cannot be imported; `problems` lists every located problem."""

    def __init__(self, message: str, problems: list | None = None, *, location: str | None = None) -> None:
        super().__init__(message, location=location)
        self.problems = list(problems or [])


class ExpressionSyntaxError(FlowdeskError):
    """An expression or template that does not parse; `column` is 1-based within the text."""

    def __init__(self, message: str, *, column: int, expected: str | None = None, text: str = "") -> None:
        self.column = column
        self.expected = expected
        self.text = text
        super().__init__(message, location=f"column {column}")
