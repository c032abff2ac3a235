"""curl's `-F name=value` form parts, read as curl reads them (tool_formparse.c).

`name=text`, `name="quoted \\"text\\""`, `name=@path`, `name=@"quoted path"`, `name=<path`, each optionally
followed by `;type=...`, `;filename=...`, `;headers=...` or `;encoder=...`. An unknown `;param` is dropped, as
curl drops it (with a warning).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FormPart:
    """One `-F` part: a text field (`text`) or a file read from `path` (`@`) or a text read from `path` (`<`)."""

    name: str
    kind: str  # "text", "file" (@path) or "file-text" (<path: the file's contents as a text field)
    value: str  # the text, or the path
    content_type: str | None = None
    filename: str | None = None
    dropped: tuple[str, ...] = ()  # unknown ;params, ignored as curl ignores them


def parse_form_part(value: str, *, literal: bool = False) -> FormPart | None:
    """Read one `-F` argument (`--form-string` when `literal`); None when it has no `name=`."""
    name, sep, rest = value.partition("=")
    if not sep or not name:
        return None
    if literal:
        return FormPart(name, "text", rest)
    kind = "text"
    if rest.startswith("@"):
        kind, rest = "file", rest[1:]
    elif rest.startswith("<"):
        kind, rest = "file-text", rest[1:]
    word, rest = _word(rest)
    content_type: str | None = None
    filename: str | None = None
    dropped: list[str] = []
    while rest.startswith(";"):
        rest = rest[1:].lstrip(" ")
        key, eq, _ = rest.partition("=")
        key = key.strip().lower()
        if eq and key == "type":
            # a content type runs to the next ';' that starts another known parameter
            content_type, rest = _type_value(rest[len("type=") :])
        elif eq and key in ("filename", "headers", "encoder"):
            param, rest = _word(rest[len(key) + 1 :])
            if key == "filename":
                filename = param
            else:
                dropped.append(f"{key}={param}")
        else:
            param, rest = _word(rest)
            if param:
                dropped.append(param)
    return FormPart(name, kind, word, content_type, filename, tuple(dropped))


def _word(text: str) -> tuple[str, str]:
    """A word up to ';' (or a "quoted" word with \\" and \\\\ escapes), and what follows it."""
    if text.startswith('"'):
        out: list[str] = []
        i = 1
        while i < len(text):
            ch = text[i]
            if ch == "\\" and i + 1 < len(text) and text[i + 1] in '"\\':
                out.append(text[i + 1])
                i += 2
                continue
            if ch == '"':
                after = text[i + 1 :]
                if not after or after.startswith(";"):
                    return "".join(out), after
                break  # text after the closing quote: curl reads the whole thing unquoted
            out.append(ch)
            i += 1
    end = text.find(";")
    return (text, "") if end < 0 else (text[:end], text[end:])


_KNOWN = ("type=", "filename=", "headers=", "encoder=")


def _type_value(text: str) -> tuple[str, str]:
    """A `type=` value: 'text/plain; charset=utf-8' keeps its own parameters up to the next known one."""
    i = 0
    while True:
        end = text.find(";", i)
        if end < 0:
            return text.strip(), ""
        following = text[end + 1 :].lstrip(" ").lower()
        if following.startswith(_KNOWN):
            return text[:end].strip(), text[end:]
        i = end + 1
