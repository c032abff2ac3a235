"""Splitting a pasted shell command into words the way bash does, keeping where each word starts.

Handles single and double quotes, `$'...'` (ANSI-C escapes), `$"..."`, backslash escapes and
backslash-newline continuations. A paste may hold several commands: an unquoted newline, `;`, `&`, `&&`,
`||` or `|` ends one. Redirections are read as bash reads them: `> file` and `2>&1` are dropped,
`< file` names the command's input, and a heredoc (`<<EOF` ... `EOF`, also `<<-` and quoted delimiters)
or a here-string (`<<< word`) is the command's input text. No expansion is done: `$VAR` stays as written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flowdesk.domain.errors import InvalidInputError

_ANSI_SIMPLE = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "e": "\x1b",
    "E": "\x1b",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}
_OPERATOR_CHARS = "|;&<>"


@dataclass(frozen=True)
class Word:
    """One shell word: its text after quote removal, and where it starts (1-based line and column)."""

    text: str
    line: int
    column: int
    index: int  # 0-based position among the words

    @property
    def where(self) -> str:
        return f"line {self.line}, column {self.column}"


@dataclass
class ShellCommand:
    """One command of a paste: its words, what ended it, and its input when the paste gives it."""

    words: list[Word] = field(default_factory=list)
    ended_by: str | None = None  # "\n", ";", "&", "&&", "||", "|" or None at the end of the paste
    stdin: str | None = None  # a heredoc's or here-string's text
    stdin_file: str | None = None  # `< file`
    after_pipe: bool = False  # it reads the previous command's output


def split_commands(text: str) -> list[ShellCommand]:
    """Split `text` into commands of words; an unclosed quote raises InvalidInputError naming where it opened."""
    return _Splitter(text).run()


class _Splitter:
    def __init__(self, text: str) -> None:
        self.text = text.replace("\r\n", "\n")
        self.pos = 0
        self.words: list[Word] = []

    def position(self, offset: int) -> tuple[int, int]:
        line = self.text.count("\n", 0, offset) + 1
        column = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return line, column

    def error(self, message: str, offset: int) -> InvalidInputError:
        line, column = self.position(offset)
        return InvalidInputError(f"{message} at line {line}, column {column}.")

    def run(self) -> list[ShellCommand]:
        text = self.text
        commands: list[ShellCommand] = []
        current = ShellCommand(words=self.words)
        heredocs: list[tuple[str, bool, ShellCommand]] = []  # (delimiter, strip tabs, command) to read

        def finish(ended_by: str | None) -> ShellCommand:
            nonlocal current
            current.ended_by = ended_by
            if current.words or current.stdin is not None:
                commands.append(current)
            self.words = []
            current = ShellCommand(words=self.words, after_pipe=ended_by == "|")
            return current

        while True:
            self._skip_blanks()
            if self.pos >= len(text):
                if heredocs:
                    delimiter = heredocs[0][0]
                    raise InvalidInputError(
                        f"The heredoc '<<{delimiter}' is never closed by a line '{delimiter}'."
                    )
                finish(None)
                return commands
            ch = text[self.pos]
            if ch == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
                continue
            if ch == "\n":
                self.pos += 1
                for delimiter, strip_tabs, command in heredocs:
                    command.stdin = self._heredoc(delimiter, strip_tabs)
                heredocs.clear()
                finish("\n")
                continue
            if ch in "<>" or ch == "&" and text.startswith("&>", self.pos):
                self._redirection(current, heredocs)
                continue
            if ch in _OPERATOR_CHARS:
                op = ch
                if text[self.pos : self.pos + 2] in ("&&", "||"):
                    op = text[self.pos : self.pos + 2]
                self.pos += len(op)
                finish(op)
                continue
            word = self._word()
            if word.text.isdigit() and text[self.pos : self.pos + 1] in ("<", ">"):
                continue  # a file descriptor number ("2>"): part of the redirection that follows
            self.words.append(word)

    def _redirection(self, command: ShellCommand, heredocs: list[tuple[str, bool, ShellCommand]]) -> None:
        text = self.text
        for op in ("<<<", "<<-", "<<", "&>>", "&>", ">>", ">&", "<&", ">|", "<>", ">", "<"):
            if text.startswith(op, self.pos):
                break
        opening = self.pos
        self.pos += len(op)
        self._skip_blanks()
        if self.pos >= len(text) or text[self.pos] in "\n;|&<>":
            raise self.error(f"The redirection '{op}' has no target; it is", opening)
        target = self._word()
        if op in ("<<", "<<-"):
            heredocs.append((target.text, op == "<<-", command))
        elif op == "<<<":
            command.stdin = target.text + "\n"
        elif op == "<":
            command.stdin_file = target.text

    def _heredoc(self, delimiter: str, strip_tabs: bool) -> str:
        text = self.text
        lines: list[str] = []
        while self.pos < len(text):
            end = text.find("\n", self.pos)
            line = text[self.pos :] if end < 0 else text[self.pos : end]
            self.pos = len(text) if end < 0 else end + 1
            if strip_tabs:
                line = line.lstrip("\t")
            if line == delimiter:
                return "".join(f"{item}\n" for item in lines)
            lines.append(line)
        raise InvalidInputError(f"The heredoc '<<{delimiter}' is never closed by a line '{delimiter}'.")

    def _skip_blanks(self) -> None:
        text = self.text
        while self.pos < len(text):
            if text[self.pos] in " \t":
                self.pos += 1
            elif text.startswith("\\\n", self.pos):
                self.pos += 2
            elif text[self.pos] == "\\" and text[self.pos + 1 :].strip() == "":
                self.pos = len(text)  # a continuation backslash at the very end of the paste
            else:
                break

    def _word(self) -> Word:
        text = self.text
        start = self.pos
        out: list[str] = []
        while self.pos < len(text):
            ch = text[self.pos]
            if ch in " \t\n" or ch in _OPERATOR_CHARS and ch != "&" or text.startswith("&&", self.pos):
                break
            if ch == "\\":
                if self.pos + 1 < len(text):
                    if text[self.pos + 1] != "\n":
                        out.append(text[self.pos + 1])
                    self.pos += 2
                else:
                    self.pos += 1
            elif ch == "'":
                end = text.find("'", self.pos + 1)
                if end < 0:
                    raise self.error(
                        "The command has a single quote that is never closed; it opens", self.pos
                    )
                out.append(text[self.pos + 1 : end])
                self.pos = end + 1
            elif ch == '"':
                out.append(self._double_quoted(self.pos))
            elif ch == "$" and text.startswith("$'", self.pos):
                out.append(self._ansi_c(self.pos))
            elif ch == "$" and text.startswith('$"', self.pos):
                self.pos += 1
                out.append(self._double_quoted(self.pos))
            else:
                out.append(ch)
                self.pos += 1
        line, column = self.position(start)
        return Word("".join(out), line, column, len(self.words))

    def _double_quoted(self, opening: int) -> str:
        text = self.text
        self.pos = opening + 1
        out: list[str] = []
        while self.pos < len(text):
            ch = text[self.pos]
            if ch == '"':
                self.pos += 1
                return "".join(out)
            if ch == "\\" and self.pos + 1 < len(text) and text[self.pos + 1] in '$`"\\\n':
                if text[self.pos + 1] != "\n":
                    out.append(text[self.pos + 1])
                self.pos += 2
                continue
            out.append(ch)
            self.pos += 1
        raise self.error("The command has a double quote that is never closed; it opens", opening)

    def _ansi_c(self, opening: int) -> str:
        text = self.text
        self.pos = opening + 2
        out: list[str] = []
        while self.pos < len(text):
            ch = text[self.pos]
            if ch == "'":
                self.pos += 1
                return "".join(out)
            if ch != "\\":
                out.append(ch)
                self.pos += 1
                continue
            self.pos += 1
            if self.pos >= len(text):
                break
            esc = text[self.pos]
            self.pos += 1
            if esc in _ANSI_SIMPLE:
                out.append(_ANSI_SIMPLE[esc])
            elif esc in "xuU":
                size = {"x": 2, "u": 4, "U": 8}[esc]
                digits = _take(text, self.pos, size, "0123456789abcdefABCDEF")
                if not digits:
                    out.append("\\" + esc)
                    continue
                self.pos += len(digits)
                out.append(_char(int(digits, 16)))
            elif esc in "01234567":
                digits = esc + _take(text, self.pos, 2, "01234567")
                self.pos += len(digits) - 1
                out.append(_char(int(digits, 8)))
            elif esc == "c" and self.pos < len(text):
                out.append(chr(ord(text[self.pos]) & 0x1F))
                self.pos += 1
            else:
                out.append("\\" + esc)
        raise self.error("The command has a $' quote that is never closed; it opens", opening)


def _take(text: str, start: int, size: int, allowed: str) -> str:
    end = start
    while end < len(text) and end - start < size and text[end] in allowed:
        end += 1
    return text[start:end]


def _char(code: int) -> str:
    try:
        return chr(code)
    except (ValueError, OverflowError):
        return "\ufffd"
