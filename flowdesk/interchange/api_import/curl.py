"""A curl command (as copied from Chrome's or Firefox's devtools, or written by hand) to an API definition."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from flowdesk.domain.errors import InvalidInputError
from flowdesk.domain.models import ApiDefinition

from .curl_form import FormPart, parse_form_part
from .curl_options import ALL_LONG_OPTIONS, NEGATABLE
from .curl_options import FLAG_OPTIONS as _FLAG_OPTIONS
from .curl_options import VALUE_OPTIONS as _VALUE_OPTIONS
from .result import ApiImportResult
from .shell_words import ShellCommand, Word, split_commands

_FORM_TYPE = "application/x-www-form-urlencoded"
_JSON_TYPE = re.compile(r"\s*[a-z0-9.+-]+/([a-z0-9.-]+\+)?json\s*(;|$)")  # not x-ndjson or json-seq


@dataclass(frozen=True)
class _Data:
    """One -d/--data-*/--json argument; `path` when it is read from a file ('@path', '-' is standard input)."""

    text: str
    kind: str  # data, data-raw, data-binary, json, data-urlencode
    where: str
    path: str | None = None


@dataclass
class _Parsed:
    method: str | None = None
    urls: list[Word] = field(default_factory=list)
    headers: list[tuple[str, str, Word]] = field(default_factory=list)
    data: list[_Data] = field(default_factory=list)
    binary_data: bool = False
    json_flag: bool = False
    form: list[FormPart] = field(default_factory=list)
    url_query: list[tuple[str, str]] = field(default_factory=list)
    user: str | None = None
    bearer: str | None = None
    auth_scheme: str = "basic"  # basic, digest or ntlm (--digest, --ntlm, --negotiate)
    aws: tuple[str, str] | None = None  # --aws-sigv4's (region, service)
    get: bool = False
    head: bool = False
    insecure: bool = False
    upload: str | None = None  # -T's file ("-" or "." for standard input)
    timeout: float | None = None
    stdin: str | None = None  # the heredoc or here-string the paste gives the command
    stdin_file: str | None = None


def import_curl(command: str) -> ApiImportResult:
    """Parse a paste of one or more curl commands into an ApiImportResult with one definition per command.

    A paste with one command that cannot be read raises InvalidInputError with one sentence naming the problem
    and where; in a paste of several, such a command is left out with that sentence as a problem.
    """
    if not isinstance(command, str):
        raise InvalidInputError("The curl command must be text.")
    result = ApiImportResult(format="curl")
    if command.count('^"') >= 2 and command.lstrip().lower().startswith("curl"):
        raise InvalidInputError(
            "This looks like a Windows (cmd) copy of a curl command; copy it as 'cURL (bash)' instead."
        )
    commands = _curl_commands(split_commands(command.lstrip("\ufeff")), result)
    if len(commands) == 1:
        _import_one(commands[0], result)
        return result
    for shell_command in commands:
        try:
            _import_one(shell_command, result)
        except InvalidInputError as err:
            where = shell_command.words[0].where
            result.problem(f"curl command at {where}", f"{err.message} It was left out.")
    if not result.definitions:
        raise InvalidInputError(
            f"None of the {len(commands)} curl commands could be imported: {result.problems[0]}"
        )
    return result


def _curl_commands(commands: list[ShellCommand], result: ApiImportResult) -> list[ShellCommand]:
    """The curl commands of a paste; a line that starts with an option continues the curl command above it."""
    chosen: list[ShellCommand] = []
    previous: ShellCommand | None = None
    for shell_command in commands:
        first = shell_command.words[0] if shell_command.words else None
        if first is None:
            pass
        elif shell_command.after_pipe:
            result.note("Only the curl command was read; what follows '|' was ignored.")
        elif first.text == "curl" or first.text.endswith("/curl"):
            chosen.append(shell_command)
        elif first.text.startswith("-") and chosen and previous is chosen[-1] and previous.ended_by == "\n":
            result.note(
                f"Line {first.line} continues the curl command above it without a trailing backslash; "
                "it was read as part of that command."
            )
            previous.words.extend(shell_command.words)
            previous.stdin = shell_command.stdin if shell_command.stdin is not None else previous.stdin
            previous.stdin_file = shell_command.stdin_file or previous.stdin_file
            previous.ended_by = shell_command.ended_by
            continue
        elif chosen or len(commands) > 1 and any(_is_curl(c) for c in commands):
            result.note(f"The command '{_short(first.text)}' at {first.where} is not curl; it was ignored.")
        previous = shell_command
    if not chosen:
        words = [c for c in commands if c.words]
        if not words:
            raise InvalidInputError("The curl command is empty.")
        first_text = words[0].words[0].text
        raise InvalidInputError(
            f"The command does not start with 'curl' (it starts with '{_short(first_text)}')."
        )
    return chosen


def _is_curl(shell_command: ShellCommand) -> bool:
    return bool(shell_command.words) and (
        shell_command.words[0].text == "curl" or shell_command.words[0].text.endswith("/curl")
    )


def _import_one(shell_command: ShellCommand, result: ApiImportResult) -> None:
    own = ApiImportResult(format="curl")
    parsed = _parse_options(shell_command.words[1:], own)
    parsed.stdin, parsed.stdin_file = shell_command.stdin, shell_command.stdin_file
    _read_inputs(parsed, own)
    if not parsed.urls:
        raise InvalidInputError("The curl command has no URL.")
    if len(parsed.urls) > 1:
        own.note(f"The command has {len(parsed.urls)} URLs; only the first was imported.")
    definition = _definition(parsed, own)
    taken = {d.name for d in result.definitions}
    if definition.name in taken:
        number = 2
        while f"{definition.name} ({number})" in taken:
            number += 1
        definition.name = f"{definition.name} ({number})"
    result.definitions.append(definition)
    for problem in own.problems:
        result.problem(problem.where or definition.name, problem.message)
    for note in own.notes:
        result.note(note)


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _long_option(text: str, word: Word) -> tuple[str, bool]:
    """The long option `text` names (curl reads an unambiguous abbreviation), and whether it is a --no- form."""
    if text in _VALUE_OPTIONS or text in _FLAG_OPTIONS:
        return text, False
    matches = [name for name in ALL_LONG_OPTIONS if name.startswith(text)]
    if len(matches) == 1:
        return matches[0], False
    if not matches and text.startswith("--no-"):
        positive, _ = _long_option("--" + text[len("--no-") :], word)
        if positive not in NEGATABLE:
            raise InvalidInputError(f"The option '{_short(text)}' at {word.where} cannot be negated.")
        return positive, True
    if not matches:
        raise InvalidInputError(f"Unknown curl option '{_short(text)}' at {word.where}.")
    shown = ", ".join(matches[:4]) + (", ..." if len(matches) > 4 else "")
    raise InvalidInputError(
        f"The option '{_short(text)}' at {word.where} is ambiguous (it could be {shown})."
    )


def _parse_options(words: list[Word], result: ApiImportResult) -> _Parsed:
    parsed = _Parsed()
    i = 0
    only_urls = False
    while i < len(words):
        word = words[i]
        text = word.text
        i += 1
        if only_urls or not text.startswith("-") or text == "-":
            parsed.urls.append(word)
            continue
        if text == "--":
            only_urls = True
            continue
        if text.startswith("--"):
            option, negated = _long_option(text, word)
            if option in _VALUE_OPTIONS:
                if i >= len(words):
                    raise InvalidInputError(f"The option '{text}' at {word.where} needs a value.")
                _apply(_VALUE_OPTIONS[option], words[i].text, words[i], parsed, result)
                i += 1
            elif option in _FLAG_OPTIONS:
                kind = _FLAG_OPTIONS[option]
                if negated:
                    _negate(kind, parsed)
                else:
                    _apply(kind, "", word, parsed, result)
            else:
                raise InvalidInputError(
                    f"The curl option '{option}' at {word.where} changes the request in a way the importer "
                    "cannot carry over."
                )
            continue
        # short options, possibly bundled ("-sSL") or with the value attached ("-XPOST")
        j = 1
        while j < len(text):
            option = "-" + text[j]
            j += 1
            if option in _VALUE_OPTIONS:
                if j < len(text):
                    value, value_word = text[j:], word
                else:
                    if i >= len(words):
                        raise InvalidInputError(f"The option '{option}' at {word.where} needs a value.")
                    value, value_word = words[i].text, words[i]
                    i += 1
                _apply(_VALUE_OPTIONS[option], value, value_word, parsed, result)
                break
            if option in _FLAG_OPTIONS:
                _apply(_FLAG_OPTIONS[option], "", word, parsed, result)
                continue
            raise InvalidInputError(f"Unknown curl option '{option}' at {word.where}.")
    return parsed


def _negate(kind: str, parsed: _Parsed) -> None:
    """A `--no-X` option: X's effect undone (curl's boolean options)."""
    if kind == "get":
        parsed.get = False
    elif kind == "head":
        parsed.head = False
    elif kind == "insecure":
        parsed.insecure = False
    elif kind in ("digest", "ntlm") and parsed.auth_scheme == kind:
        parsed.auth_scheme = "basic"


def _apply(kind: str, value: str, word: Word, parsed: _Parsed, result: ApiImportResult) -> None:
    if kind == "method":
        parsed.method = value.strip().upper()
        if not parsed.method:
            raise InvalidInputError(f"The method at {word.where} is empty.")
        if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Z-]+", parsed.method):
            raise InvalidInputError(
                f"The method '{_short(value)}' at {word.where} is not a valid HTTP method."
            )
    elif kind == "header":
        if ":" in value:
            name, _, header_value = value.partition(":")
            if header_value.strip() or not name.strip():
                parsed.headers.append((name.strip(), header_value.strip(), word))
            # "Name:" with nothing after tells curl to drop that header: nothing to add
        elif value.rstrip().endswith(";"):
            parsed.headers.append((value.rstrip()[:-1].strip(), "", word))  # "Name;" sends it empty
        else:
            result.note(
                f"The header '{_short(value)}' at {word.where} has no ':'; curl does not send it, "
                "so it was left out."
            )
            return
        if parsed.headers and not parsed.headers[-1][0]:
            raise InvalidInputError(f"The header '{_short(value)}' at {word.where} has no name.")
    elif kind in ("data", "data-binary", "data-raw", "json"):
        if kind == "data-binary":
            parsed.binary_data = True
        if kind == "json":
            parsed.json_flag = True
        path = value[1:] if value.startswith("@") and kind != "data-raw" else None
        parsed.data.append(_Data(value, kind, word.where, path))  # a file is read once the heredoc is known
    elif kind == "data-urlencode":
        parsed.data.append(_Data(_urlencode_data(value, word), kind, word.where))
    elif kind in ("form", "form-string"):
        part = parse_form_part(value, literal=kind == "form-string")
        if part is None:
            raise InvalidInputError(f"The form field '{_short(value)}' at {word.where} has no 'name='.")
        parsed.form.append(part)
    elif kind == "user":
        parsed.user = value
    elif kind == "cookie":
        if "=" not in value:
            result.note(
                f"The cookie file '{value}' (-b) was not read; only cookies given as 'name=value' are kept."
            )
            return
        parsed.headers.append(("Cookie", value, word))
    elif kind == "user-agent":
        parsed.headers.append(("User-Agent", value, word))
    elif kind == "referer":
        parsed.headers.append(("Referer", value, word))
    elif kind == "range":
        parsed.headers.append(("Range", f"bytes={value}", word))
    elif kind == "url":
        parsed.urls.append(Word(value, word.line, word.column, word.index))
    elif kind == "url-query":
        parsed.url_query.extend(_url_query(value, word))
    elif kind == "aws-sigv4":
        parts = value.split(":")
        if len(parts) < 4 or not parts[2] or not parts[3]:
            raise InvalidInputError(
                f"The --aws-sigv4 value '{_short(value)}' at {word.where} needs a region and a service "
                "('aws:amz:REGION:SERVICE'); the importer does not guess them from the host."
            )
        parsed.aws = (parts[2], parts[3])
    elif kind == "upload-file":
        parsed.upload = value
    elif kind == "max-time":
        try:
            parsed.timeout = float(value)
        except ValueError:
            raise InvalidInputError(
                f"The time '{_short(value)}' at {word.where} is not a number of seconds."
            ) from None
    elif kind == "bearer":
        parsed.bearer = value
    elif kind == "get":
        parsed.get = True
    elif kind == "head":
        parsed.head = True
    elif kind == "insecure":
        parsed.insecure = True
    elif kind == "proxy":
        result.note(f"The proxy '{value}' (-x) was not carried over.")
    elif kind == "cert":
        result.note("Client certificate options were not carried over.")
    elif kind in ("digest", "ntlm", "basic"):
        parsed.auth_scheme = kind


def _read_inputs(parsed: _Parsed, result: ApiImportResult) -> None:
    """Data given as '@-' (or -T -) read from the paste's heredoc; data read from a file is refused."""
    for index, data in enumerate(parsed.data):
        if data.path is None:
            continue
        if data.path != "-" or parsed.stdin is None:
            source = f"the file '{data.path}'" if data.path != "-" else "standard input"
            if data.path == "-" and parsed.stdin_file:
                source = f"the file '{parsed.stdin_file}' (given with '<')"
            raise InvalidInputError(
                f"The data at {data.where} is read from {source}, which cannot be imported; "
                "paste the data itself with --data-raw, or give it as a heredoc (<<EOF)."
            )
        text = parsed.stdin
        if data.kind == "data":  # curl strips CR and LF from -d's file data only
            text = text.replace("\r", "").replace("\n", "")
        parsed.data[index] = _Data(text, data.kind, data.where)
    if parsed.upload is not None and parsed.upload not in ("-", ".") and parsed.stdin is None:
        result.problem(
            "",
            f"the file '{parsed.upload}' (-T) is not read by the importer; the definition has no body",
        )


def _url_query(value: str, word: Word) -> list[tuple[str, str]]:
    """curl's --url-query: like --data-urlencode, and '+name=value' is taken as already encoded."""
    if value.startswith("+"):
        return parse_qsl(value[1:], keep_blank_values=True)
    separator = re.search(r"[=@]", value)
    if separator and separator.group() == "@":
        raise InvalidInputError(
            f"The query at {word.where} is read from the file '{value[separator.end() :]}', which cannot be "
            "imported; paste the value itself."
        )
    name, sep, content = value.partition("=")
    if not sep:
        return [(value, "")]
    if not name:
        return [(content, "")]
    return [(name, content)]


def _urlencode_data(value: str, word: Word) -> str:
    """curl's --data-urlencode forms: 'content', '=content', 'name=content' (and @file, refused)."""
    separator = re.search(r"[=@]", value)
    if separator and separator.group() == "@":
        raise InvalidInputError(
            f"The data at {word.where} is read from the file '{value[separator.end() :]}', which cannot be "
            "imported; paste the data itself."
        )
    name, sep, content = value.partition("=")
    if not sep:
        return quote(value, safe="")
    if not name:
        return quote(content, safe="")
    return f"{name}={quote(content, safe='')}"


def _definition(parsed: _Parsed, result: ApiImportResult) -> ApiDefinition:
    if parsed.insecure:
        result.note(
            "TLS certificate checks are off in the command (-k); the definition does not carry that over."
        )
    raw_url = parsed.urls[0].text.strip()
    if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", raw_url):
        raw_url = "http://" + raw_url
        result.note("The URL has no scheme; http:// was assumed, as curl does.")
    try:
        parts = urlsplit(raw_url)
        host = parts.hostname
        parts.port  # noqa: B018 - reading it raises ValueError for a bad port
    except ValueError as err:
        raise InvalidInputError(f"The URL '{_short(parsed.urls[0].text)}' cannot be read ({err}).") from None
    if not parts.netloc or not host:
        raise InvalidInputError(f"The URL '{_short(parsed.urls[0].text)}' has no host.")
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if "@" in parts.netloc and parsed.user is None:
        parsed.user = parts.netloc.rsplit("@", 1)[0]
    path = parts.path or "/"
    if parsed.upload not in (None, "-", ".") and path.endswith("/"):
        path += quote(parsed.upload.replace("\\", "/").rsplit("/", 1)[-1])  # curl names the target so
    url = f"{parts.scheme}://{netloc}{path}"
    query = _query_dict(parse_qsl(parts.query, keep_blank_values=True) + parsed.url_query)

    headers: dict[str, str] = {}
    content_type: str | None = None
    auth: dict[str, Any] | None = None
    for name, value, _ in parsed.headers:
        lowered = name.lower()
        if lowered == "content-type":
            content_type = value
            continue
        if lowered == "authorization" and auth is None:
            auth = _authorization_header(value)
            if auth is not None:
                continue
        existing = next((k for k in headers if k.lower() == lowered), None)
        if existing is not None and lowered == "cookie":
            headers[existing] = f"{headers[existing]}; {value}"
        else:
            headers[existing or name] = value
    if any(k.lower() == "cookie" for k in headers):
        result.note("The Cookie header was kept as given; it may hold a session that expires.")
    if parsed.aws is not None:
        username, _, password = (parsed.user or "").partition(":")
        auth = {
            "type": "aws_sigv4",
            "access_key": username,
            "secret_key": password,
            "region": parsed.aws[0],
            "service": parsed.aws[1],
        }
        token = next((k for k in headers if k.lower() == "x-amz-security-token"), None)
        if token is not None:
            auth["session_token"] = headers.pop(token)
    elif parsed.user is not None:
        username, _, password = parsed.user.partition(":")
        kind = "digest" if parsed.auth_scheme == "digest" else "basic"
        auth = {"type": kind, "username": username, "password": password}
        if parsed.auth_scheme == "ntlm":
            result.note(
                "NTLM and Negotiate auth are not supported; the credentials were imported as basic auth."
            )
    if parsed.bearer is not None:
        auth = {"type": "bearer", "token": parsed.bearer}
    if auth is not None:
        result.note("The credentials were kept as given; they could be moved to {{secrets.*}}.")

    body: Any = None
    method = parsed.method
    body_type: str | None = None
    if parsed.form and (parsed.data or parsed.upload is not None):
        raise InvalidInputError(
            "The command gives both -F (multipart) and -d/-T data; curl refuses that too."
        )
    if parsed.form:
        body = _multipart_body(parsed.form, result)
        body_type = "multipart"
        method = method or "POST"
    elif parsed.upload is not None:
        method = method or "PUT"
        if parsed.upload in ("-", ".") and parsed.stdin is not None:
            body = parsed.stdin
    elif parsed.data:
        joined = ""
        for index, data in enumerate(parsed.data):
            # curl joins data pieces with '&', except that each --json piece is appended as it is
            joined += data.text if index == 0 or data.kind == "json" else "&" + data.text
        if parsed.get:
            query.update(_query_dict(parse_qsl(joined, keep_blank_values=True)))
        else:
            method = method or "POST"
            if parsed.json_flag:
                content_type = content_type or "application/json"
                headers.setdefault("Accept", "application/json")
            body, content_type = _body(joined, content_type, result)
    if parsed.head:
        method = method or "HEAD"
    method = method or "GET"

    name = f"{method} {netloc}{path}"
    definition: dict[str, Any] = {
        "name": name,
        "method": method,
        "url": url,
        "headers": headers,
        "query": query,
        "body": body,
        "content_type": content_type,
        "auth": auth,
    }
    if body_type is not None:
        definition["body_type"] = body_type
    if parsed.timeout is not None:
        definition["timeout"] = parsed.timeout
    return ApiDefinition(**definition)


def _multipart_body(parts: list[FormPart], result: ApiImportResult) -> dict[str, Any]:
    """-F parts as the multipart body: text fields as text, `@path` as file parts."""
    body: dict[str, Any] = {}
    for part in parts:
        if part.name in body:
            result.problem(
                "", f"form field '{part.name}' is given more than once; only the last one was kept"
            )
        if part.dropped:
            result.note(
                f"Form field '{part.name}': curl ignores ';{';'.join(part.dropped)}', and so did the import."
            )
        if part.kind == "file-text":
            result.problem(
                "",
                f"form field '{part.name}' reads its text from the file '{part.value}' (<), "
                "which the importer cannot read; it was left out",
            )
            continue
        if part.kind == "file":
            file_part: dict[str, Any] = {"path": part.value}
            if part.filename is not None:
                file_part["filename"] = part.filename
            if part.content_type:
                file_part["content_type"] = part.content_type
            body[part.name] = file_part
            continue
        if part.content_type or part.filename is not None:
            result.problem(
                "",
                f"form field '{part.name}' is a text field sent with its own content type or file name; "
                "flowdesk sends it as a plain text field",
            )
        body[part.name] = part.value
    return body


def _authorization_header(value: str) -> dict[str, Any] | None:
    kind, _, credentials = value.strip().partition(" ")
    credentials = credentials.strip()
    if kind.lower() == "bearer" and credentials:
        return {"type": "bearer", "token": credentials}
    if kind.lower() == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        username, _, password = decoded.partition(":")
        return {"type": "basic", "username": username, "password": password}
    return None


def _query_dict(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            previous = out[key]
            out[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            out[key] = value
    return out


def _body(data: str, content_type: str | None, result: ApiImportResult) -> tuple[Any, str | None]:
    stripped = data.strip()
    looks_json = stripped[:1] in ("{", "[")
    if content_type is None and looks_json:
        try:
            value = json.loads(stripped)
        except (ValueError, RecursionError):
            return data, _FORM_TYPE
        result.note(
            "The data is JSON but the command sets no Content-Type (curl would send it as a form); "
            "the definition sends it as application/json."
        )
        return value, "application/json"
    content_type = content_type or _FORM_TYPE
    lowered = content_type.lower()
    if _JSON_TYPE.match(lowered):
        try:
            return json.loads(stripped), content_type
        except json.JSONDecodeError as err:
            result.problem(
                "",
                f"the data is not valid JSON ({err.msg} at line {err.lineno}, column {err.colno}); it was kept as text",
            )
            return data, content_type
        except RecursionError:
            return data, content_type
    if lowered.startswith(_FORM_TYPE) and data and all("=" in part for part in data.split("&")):
        return _query_dict(parse_qsl(data, keep_blank_values=True)), content_type
    return data, content_type
