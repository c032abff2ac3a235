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

from .curl_options import FLAG_OPTIONS as _FLAG_OPTIONS
from .curl_options import VALUE_OPTIONS as _VALUE_OPTIONS
from .result import ApiImportResult, ImportProblem
from .shell_words import Word, split_words

_FORM_TYPE = "application/x-www-form-urlencoded"


@dataclass
class _Parsed:
    method: str | None = None
    urls: list[Word] = field(default_factory=list)
    headers: list[tuple[str, str, Word]] = field(default_factory=list)
    data: list[str] = field(default_factory=list)
    binary_data: bool = False
    json_flag: bool = False
    form: list[tuple[str, str]] = field(default_factory=list)
    user: str | None = None
    bearer: str | None = None
    get: bool = False
    head: bool = False
    timeout: float | None = None


def import_curl(command: str) -> ApiImportResult:
    """Parse one curl command into an ApiImportResult holding one definition.

    A command that cannot be read raises InvalidInputError with one sentence naming the problem and where.
    """
    if not isinstance(command, str):
        raise InvalidInputError("The curl command must be text.")
    result = ApiImportResult(format="curl")
    if command.count('^"') >= 2 and command.lstrip().lower().startswith("curl"):
        raise InvalidInputError(
            "This looks like a Windows (cmd) copy of a curl command; copy it as 'cURL (bash)' instead."
        )
    split = split_words(command.lstrip("\ufeff"))
    words = split.words
    if not words:
        raise InvalidInputError("The curl command is empty.")
    first = words[0].text
    if first != "curl" and not first.endswith("/curl"):
        raise InvalidInputError(f"The command does not start with 'curl' (it starts with '{_short(first)}').")
    if split.stopped_at:
        result.note(f"Only the curl command was read; what follows '{split.stopped_at}' was ignored.")
    parsed = _parse_options(words[1:], result)
    if not parsed.urls:
        raise InvalidInputError("The curl command has no URL.")
    if len(parsed.urls) > 1:
        result.note(f"The command has {len(parsed.urls)} URLs; only the first was imported.")
    definition = _definition(parsed, result)
    result.definitions.append(definition)
    result.problems = [ImportProblem(p.where or definition.name, p.message) for p in result.problems]
    return result


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


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
            if text in _VALUE_OPTIONS:
                if i >= len(words):
                    raise InvalidInputError(f"The option '{text}' at {word.where} needs a value.")
                _apply(_VALUE_OPTIONS[text], words[i].text, words[i], parsed, result)
                i += 1
            elif text in _FLAG_OPTIONS:
                _apply(_FLAG_OPTIONS[text], "", word, parsed, result)
            else:
                raise InvalidInputError(f"Unknown curl option '{_short(text)}' at {word.where}.")
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
            raise InvalidInputError(f"The header '{_short(value)}' at {word.where} has no ':'.")
        if parsed.headers and not parsed.headers[-1][0]:
            raise InvalidInputError(f"The header '{_short(value)}' at {word.where} has no name.")
    elif kind in ("data", "data-binary", "data-raw", "json"):
        if value.startswith("@") and kind != "data-raw":
            raise InvalidInputError(
                f"The data at {word.where} is read from the file '{value[1:]}', which cannot be imported; "
                "paste the data itself with --data-raw."
            )
        if kind == "data":
            value = value.replace("\r", "").replace("\n", "")  # curl strips newlines from -d
        if kind == "data-binary":
            parsed.binary_data = True
        if kind == "json":
            parsed.json_flag = True
        parsed.data.append(value)
    elif kind == "data-urlencode":
        parsed.data.append(_urlencode_data(value, word))
    elif kind in ("form", "form-string"):
        name, sep, field_value = value.partition("=")
        if not sep or not name:
            raise InvalidInputError(f"The form field '{_short(value)}' at {word.where} has no 'name='.")
        if kind == "form" and field_value.startswith(("@", "<")):
            result.problem(
                "", f"form field '{name}' is a file upload, which flowdesk cannot send; it was left out"
            )
            return
        parsed.form.append((name, field_value))
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
    elif kind == "url":
        parsed.urls.append(Word(value, word.line, word.column, word.index))
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
        result.note(
            "TLS certificate checks are off in the command (-k); the definition does not carry that over."
        )
    elif kind == "proxy":
        result.note(f"The proxy '{value}' (-x) was not carried over.")
    elif kind == "cert":
        result.note("Client certificate options were not carried over.")
    elif kind == "digest":
        result.note(
            "Digest, NTLM and Negotiate auth are not supported; the credentials were imported as basic auth."
        )


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
    url = f"{parts.scheme}://{netloc}{path}"
    query = _query_dict(parse_qsl(parts.query, keep_blank_values=True))

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
    if parsed.user is not None:
        username, _, password = parsed.user.partition(":")
        auth = {"type": "basic", "username": username, "password": password}
    if parsed.bearer is not None:
        auth = {"type": "bearer", "token": parsed.bearer}
    if auth is not None:
        result.note("The credentials were kept as given; they could be moved to {{secrets.*}}.")

    body: Any = None
    method = parsed.method
    if parsed.form:
        body = _query_dict(parsed.form)
        content_type = content_type or "multipart/form-data"
        method = method or "POST"
    elif parsed.data:
        joined = "&".join(parsed.data)
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
    if parsed.timeout is not None:
        definition["timeout"] = parsed.timeout
    return ApiDefinition(**definition)


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
    if "json" in lowered:
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
