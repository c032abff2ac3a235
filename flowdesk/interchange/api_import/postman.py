"""Postman collections v2.0 and v2.1 to API definitions.

Folders become a tag (their path, "Users/Admin"), requests become definitions, `{{var}}` becomes
`{{env.var}}` and the collection's variables become the environment. Variables used as auth values become
`{{secrets.var}}` and their values go to `result.secrets`, never to the environment. Scripts are ignored.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import unquote

from flowdesk.domain.models import ApiDefinition, ApiParameter

from .document import LoadedDocument
from .placeholders import env, param, secret
from .result import ApiImportResult

logger = logging.getLogger(__name__)

_VARIABLE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
# Postman's dynamic variables that have an expression-language equivalent (evaluated at send time).
_DYNAMIC = {
    "guid": "uuid()",
    "randomUUID": "uuid()",
    "timestamp": "timestamp()",
    "isoTimestamp": "now()",
    "randomInt": "random_int(0, 1000)",
    "randomAlphaNumeric": "random_string(1)",
    "randomBoolean": "random_int(0, 1) == 1",
}
# Auth types flowdesk does not send yet, by the name a problem gives them.
_UNSIGNED = {
    "oauth1": "OAuth 1.0",
    "hawk": "Hawk",
    "ntlm": "NTLM",
    "digest": "Digest",
    "edgegrid": "Akamai EdgeGrid",
    "akamai": "Akamai EdgeGrid",
    "asap": "ASAP",
    "jwt": "JWT Bearer",
}
_MAX_FOLDER_DEPTH = 50
_LANGUAGE_TYPES = {
    "json": "application/json",
    "xml": "application/xml",
    "html": "text/html",
    "javascript": "application/javascript",
    "text": "text/plain",
}


def read_postman(doc: LoadedDocument, result: ApiImportResult) -> None:
    """Import a Postman v2.0/v2.1 collection into `result`."""
    _PostmanReader(doc.data, result, doc.duplicate_keys).read()


class _PostmanReader:
    def __init__(self, data: dict[str, Any], result: ApiImportResult, duplicates: list[str]) -> None:
        self.data = data
        self.result = result
        info = _dict(data.get("info"))
        name = info.get("name")
        self.title = (
            str(name).strip() if isinstance(name, str | int | float) and str(name).strip() else "Collection"
        )
        result.title = self.title
        self.variables: dict[str, str] = {}
        self.used: set[str] = set()
        self.secret_vars: set[str] = set()
        self.names: set[str] = set()
        self.sources: set[str] = set()
        self.label = ""
        self.body_type: str | None = None  # of the request being read
        if duplicates:
            result.note(
                "The collection repeats keys; the last value of each was kept: " + ", ".join(duplicates) + "."
            )

    def read(self) -> None:
        for var in _list(self.data.get("variable")):
            if isinstance(var, dict) and not var.get("disabled") and isinstance(var.get("key"), str):
                value = var.get("value")
                self.variables[var["key"]] = "" if value is None else _text(value)
        self._scripts(self.data, "the collection")
        self._items(_list(self.data.get("item")), [], self.data.get("auth"), 0)
        for name, value in self.variables.items():
            if name in self.secret_vars:
                self.result.secrets[name] = value
            else:
                self.result.environment[name] = value
        missing = sorted(self.used - set(self.variables) - self.secret_vars)
        if missing:
            self.result.note(
                "These variables are used but not defined in the collection; set them in an environment: "
                + ", ".join(missing)
                + "."
            )
        unset = sorted(self.secret_vars - set(self.variables))
        if unset:
            self.result.note(
                "These secrets are used by auth but have no value in the collection; create them: "
                + ", ".join(unset)
                + "."
            )
        if self.result.secrets:
            self.result.note(
                "Variables used as auth values became secrets, not environment variables: "
                + ", ".join(sorted(self.result.secrets))
                + "."
            )

    def _items(self, items: list[Any], folders: list[str], auth: Any, depth: int) -> None:
        if depth > _MAX_FOLDER_DEPTH:
            self.result.problem(
                "/".join(folders), "folders are nested too deeply; the deeper ones were skipped"
            )
            return
        for item in items:
            if not isinstance(item, dict):
                continue
            name = _text(item.get("name", "")).strip()
            if "request" not in item and isinstance(item.get("item"), list):  # a folder
                folder = name or "Folder"
                self._scripts(item, f"folder '{'/'.join([*folders, folder])}'")
                inherited = item["auth"] if item.get("auth") is not None else auth
                self._items(item["item"], [*folders, folder], inherited, depth + 1)
                continue
            self.label = "/".join([*folders, name or "(unnamed)"])
            try:
                definition = self._definition(
                    item, name, folders, item["auth"] if item.get("auth") is not None else auth
                )
            except Exception as err:  # keep importing the rest; the problem names this request
                logger.exception("request %s could not be imported", self.label)
                self.result.problem(
                    self.label, f"the request could not be imported ({type(err).__name__}: {err})"
                )
                continue
            if definition is not None:
                self.result.definitions.append(definition)

    def _scripts(self, holder: dict, what: str) -> None:
        kinds = sorted(
            {
                "pre-request" if e.get("listen") == "prerequest" else "test"
                for e in _list(holder.get("event"))
                if isinstance(e, dict) and _script_text(e.get("script")).strip()
            }
        )
        if kinds:
            self.result.note(f"Postman scripts are ignored: {what} has a {' and a '.join(kinds)} script.")

    def problem(self, message: str) -> None:
        self.result.problem(self.label, message)

    def convert(self, text: str) -> str:
        """`{{var}}` -> `{{env.var}}`; Postman's dynamic `{{$guid}}` -> `{{ uuid() }}` (an expression function),
        or `{{env.name}}` with a problem for dynamic variables that have no equivalent."""

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("$"):
                plain = name[1:] or "dynamic"
                if plain in _DYNAMIC:
                    return "{{ " + _DYNAMIC[plain] + " }}"
                self.problem(
                    f"Postman's dynamic variable {{{{{name}}}}} has no flowdesk equivalent; it became "
                    f"{env(plain)}, so set that variable"
                )
                self.used.add(plain)
                return env(plain)
            self.used.add(name)
            return env(name)

        return _VARIABLE.sub(replace, text)

    def _definition(self, item: dict, name: str, folders: list[str], auth: Any) -> ApiDefinition | None:
        request = item.get("request")
        if isinstance(request, str):
            request = {"url": request, "method": "GET"}
        if not isinstance(request, dict):
            self.problem("the request is not an object; it was skipped")
            return None
        self._scripts(item, f"'{name or self.label}'")
        method = _text(request.get("method") or "GET").strip().upper() or "GET"
        url, query, parameters, credentials = self._url(request.get("url"))
        if not url:
            self.problem("the request has no URL; it was skipped")
            return None
        headers, content_type = self._headers(request.get("header"))
        self.body_type = None
        body, content_type = self._body(request.get("body"), content_type)
        description = _description(request.get("description")) or _description(item.get("description"))
        if not name:
            name = f"{method} {url}"
        folder_path = "/".join(folders)
        prefix = f"postman:{self.title}#{folder_path + '/' if folder_path else ''}"
        unique = name
        if prefix + name in self.sources:  # same name in the same folder
            n = 2
            while prefix + f"{name} ({n})" in self.sources:
                n += 1
            unique = f"{name} ({n})"
            self.problem(f"another request in the same folder is also named '{name}'; this one is '{unique}'")
        source = prefix + unique
        self.sources.add(source)
        if unique in self.names and folder_path:  # same name in another folder: say which folder
            unique = f"{unique} ({folder_path})"
        base, n = unique, 2
        while unique in self.names:
            unique = f"{base} ({n})"
            n += 1
        self.names.add(unique)
        return ApiDefinition(
            name=unique,
            method=method,
            url=url,
            headers=headers,
            query=query,
            body=body,
            content_type=content_type,
            body_type=self.body_type,
            auth=self._request_auth(
                request["auth"] if request.get("auth") is not None else auth, credentials
            ),
            description=description,
            tags=[folder_path] if folder_path else [],
            parameters=parameters,
            source=source,
        )

    # -- url --------------------------------------------------------------------------------------
    def _url(self, url: Any) -> tuple[str, dict[str, Any], list[ApiParameter], tuple[str, str] | None]:
        path_examples: dict[str, Any] = {}
        query_pairs: list[tuple[str, str]] = []
        if isinstance(url, dict):
            for var in _list(url.get("variable")):
                if isinstance(var, dict) and isinstance(var.get("key"), str):
                    path_examples[var["key"]] = var.get("value")
            host = url.get("host")
            if host is not None:
                host_text = ".".join(_text(h) for h in host) if isinstance(host, list) else _text(host)
                protocol = _text(url.get("protocol") or "")
                port = _text(url.get("port") or "")
                path = url.get("path")
                if isinstance(path, list):
                    path_text = "/".join(_segment(s) for s in path)
                else:
                    path_text = _text(path or "").lstrip("/")
                base = (protocol + "://" if protocol else "") + host_text + (":" + port if port else "")
                address = base + ("/" + path_text if path_text else "")
                for q in _list(url.get("query")):
                    if isinstance(q, dict) and not q.get("disabled") and q.get("key") is not None:
                        query_pairs.append(
                            (_text(q["key"]), "" if q.get("value") is None else _text(q["value"]))
                        )
            else:
                address, query_pairs = _split_raw(_text(url.get("raw") or ""))
        elif isinstance(url, str):
            address, query_pairs = _split_raw(url)
        else:
            address = ""
        address = address.strip()
        if address and not _SCHEME.match(address) and not address.startswith("{{"):
            address = ("http:" if address.startswith("//") else "http://") + address
            self.result.note(
                f"'{self.label}': the URL has no scheme; http:// was added, as Postman sends it."
            )
        address, credentials = _url_credentials(address)
        address, names = _path_variables(self.convert(address))
        parameters = [
            ApiParameter(name=n, location="path", required=True, example=path_examples.get(n)) for n in names
        ]
        query: dict[str, Any] = {}
        for key, value in query_pairs:
            key, value = self.convert(key), self.convert(value)
            if key in query:
                query[key] = [*query[key], value] if isinstance(query[key], list) else [query[key], value]
            else:
                query[key] = value
        return address, query, parameters, credentials

    # -- headers and body -------------------------------------------------------------------------
    def _headers(self, raw: Any) -> tuple[dict[str, str], str | None]:
        entries: list[tuple[str, str]] = []
        if isinstance(raw, str):  # v2.0 allows "Key: value\nKey2: value2"
            for line in raw.splitlines():
                if ":" in line:
                    key, _, value = line.partition(":")
                    entries.append((key.strip(), value.strip()))
        else:
            for header in _list(raw):
                if isinstance(header, dict) and not header.get("disabled") and header.get("key"):
                    entries.append((_text(header["key"]).strip(), _text(header.get("value") or "")))
        headers: dict[str, str] = {}
        content_type = None
        for key, value in entries:
            if key.lower() == "content-type":
                content_type = self.convert(value)
            else:
                headers[self.convert(key)] = self.convert(value)
        return headers, content_type

    def _body(self, body: Any, content_type: str | None) -> tuple[Any, str | None]:
        if not isinstance(body, dict) or body.get("disabled"):
            return None, content_type
        mode = body.get("mode")
        if mode == "raw":
            raw = _text(body.get("raw") or "")
            if not raw:
                return None, content_type
            options = _dict(body.get("options"))
            raw_options = _dict(options.get("raw"))
            language = _text(raw_options.get("language") or "")
            if content_type is None:
                content_type = _LANGUAGE_TYPES.get(language, "text/plain")
            if "json" in content_type.lower() or language == "json":
                try:
                    return _convert_json(json.loads(raw), self.convert), content_type
                except (ValueError, RecursionError):
                    if "{{" not in raw:
                        self.problem(
                            "the raw body is marked as JSON but is not valid JSON; it was kept as text"
                        )
            return self.convert(raw), content_type
        if mode == "urlencoded":
            fields: dict[str, Any] = {}
            for entry in _list(body.get(mode)):
                if not isinstance(entry, dict) or entry.get("disabled") or entry.get("key") is None:
                    continue
                key = self.convert(_text(entry["key"]))
                _add_field(fields, key, self.convert(_text(entry.get("value") or "")))
            return fields, content_type or "application/x-www-form-urlencoded"
        if mode == "formdata":
            self.body_type = "multipart"
            if content_type and content_type.strip().lower() == "multipart/form-data":
                content_type = None  # the sender writes it, with the boundary
            return self._form_data(_list(body.get(mode))), content_type
        if mode == "graphql":
            graphql = _dict(body.get("graphql"))
            variables: Any = graphql.get("variables") or {}
            if isinstance(variables, str):
                try:
                    variables = json.loads(variables) if variables.strip() else {}
                except (ValueError, RecursionError):
                    self.problem("the GraphQL variables are not valid JSON; they were kept as text")
            payload = {"query": _text(graphql.get("query") or ""), "variables": variables}
            return _convert_json(payload, self.convert), content_type or "application/json"
        if mode == "file":
            self.problem("the body is a file, which flowdesk cannot send; the body was left empty")
            return None, content_type
        if mode:
            self.problem(f"body mode '{mode}' is unknown; the body was left empty")
        return None, content_type

    def _form_data(self, entries: list[Any]) -> dict[str, Any]:
        """Postman's form-data as the multipart body: text fields as text, file fields as {"path", ...}."""
        fields: dict[str, Any] = {}
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("disabled") or entry.get("key") is None:
                continue
            key = self.convert(_text(entry["key"]))
            part_type = _text(entry.get("contentType") or "").strip()
            if entry.get("type") != "file":
                if part_type:
                    self.problem(
                        f"form field '{key}' has its own content type '{part_type}'; flowdesk sends it as a "
                        "plain text field"
                    )
                if key in fields:
                    self.problem(f"form field '{key}' is given more than once; only the last one was kept")
                fields[key] = self.convert(_text(entry.get("value") or ""))
                continue
            sources = entry.get("src")
            paths = [_text(p) for p in (sources if isinstance(sources, list) else [sources]) if p]
            if not paths:
                self.problem(f"form field '{key}' is a file with no file chosen; it was left out")
                continue
            if len(paths) > 1:
                self.problem(f"form field '{key}' sends {len(paths)} files; only the first was kept")
            if key in fields:
                self.problem(f"form field '{key}' is given more than once; only the last one was kept")
            part: dict[str, Any] = {"path": self.convert(paths[0])}
            if part_type:
                part["content_type"] = part_type
            fields[key] = part
        return fields

    # -- auth -------------------------------------------------------------------------------------
    def _request_auth(self, auth: Any, credentials: tuple[str, str] | None) -> dict[str, Any] | None:
        """The request's (or inherited) auth; credentials in the URL are basic auth when it has none."""
        imported = self._auth(auth)
        if credentials is None:
            return imported
        if imported is not None:
            self.problem("the URL holds credentials and the request has its own auth; the URL's were dropped")
            return imported
        self.result.note(
            f"'{self.label}': the credentials in the URL became basic auth, as Postman sends them."
        )
        return {
            "type": "basic",
            "username": self._secret_value(credentials[0]),
            "password": self._secret_value(credentials[1]),
        }

    def _auth(self, auth: Any) -> dict[str, Any] | None:
        if not isinstance(auth, dict):
            return None
        kind = _text(auth.get("type") or "")
        if kind in ("noauth", "inherit", ""):
            return None
        values = _auth_values(auth.get(kind))
        if kind == "bearer":
            return {"type": "bearer", "token": self._secret_value(values.get("token", ""))}
        if kind == "basic":
            return {
                "type": "basic",
                "username": self._secret_value(values.get("username", "")),
                "password": self._secret_value(values.get("password", "")),
            }
        if kind == "apikey":
            where = values.get("in") or "header"
            return {
                "type": "api_key",
                "in": "query" if where == "query" else "header",
                "name": self.convert(values.get("key") or "X-API-Key"),
                "value": self._secret_value(values.get("value", "")),
            }
        if kind == "oauth2" and values.get("grant_type") == "client_credentials":
            scope = values.get("scope", "")
            return {
                "type": "oauth2_client_credentials",
                "token_url": self.convert(values.get("accessTokenUrl", "")),
                "client_id": self._secret_value(values.get("clientId", "")),
                "client_secret": self._secret_value(values.get("clientSecret", "")),
                "scopes": scope.split() if scope else [],
            }
        if kind == "awsv4":
            signed = {
                "type": "aws_sigv4",
                "access_key": self._secret_value(values.get("accessKey", "")),
                "secret_key": self._secret_value(values.get("secretKey", "")),
                "region": self.convert(values.get("region") or "us-east-1"),  # Postman's default region
                "service": self.convert(values.get("service", "")),
            }
            if values.get("sessionToken"):
                signed["session_token"] = self._secret_value(values["sessionToken"])
            missing = [k for k in ("access_key", "secret_key", "service") if not signed[k]]
            if missing:
                self.problem(
                    f"AWS Signature v4 auth has no {', '.join(missing)}; set it in the definition's auth"
                )
            return signed
        if kind == "oauth2" and values.get("grant_type") in _SIGN_IN_GRANTS:
            return self._sign_in_auth(values)
        if kind == "oauth2":
            self.problem(
                f"OAuth2 with grant type '{values.get('grant_type', '?')}' is not supported; no auth was set"
            )
            return None
        # Kept, so nothing the user set up is lost, but not sent: type "none" carries the settings.
        settings = {key: self._secret_value(value) for key, value in values.items()}
        label = _UNSIGNED.get(kind, f"'{kind}'")
        self.problem(
            f"not sent: flowdesk does not sign {label} requests yet; the request goes without auth and the "
            "settings are kept in the definition's auth (under 'not_sent')"
        )
        return {"type": "none", "not_sent": {"type": kind, **settings}}

    def _sign_in_auth(self, values: dict[str, str]) -> dict[str, Any]:
        """Postman's authorization code (with or without PKCE) and implicit grants: a browser sign-in.
        flowdesk always sends a PKCE S256 challenge (servers that do not know PKCE ignore it)."""
        implicit = values["grant_type"] == "implicit"
        scope = values.get("scope", "")
        auth: dict[str, Any] = {
            "type": "oauth2_authorization_code",
            "flow": "implicit" if implicit else "code",
            "authorization_url": self.convert(values.get("authUrl", "")),
        }
        if not implicit:
            auth["token_url"] = self.convert(values.get("accessTokenUrl", ""))
        auth["client_id"] = self._secret_value(values.get("clientId", ""))
        if values.get("clientSecret") and not implicit:
            auth["client_secret"] = self._secret_value(values["clientSecret"])
        auth["scopes"] = scope.split() if scope else []
        missing = [k for k in ("authorization_url", "token_url", "client_id") if k in auth and not auth[k]]
        if missing:
            self.problem(f"OAuth2 sign-in auth has no {', '.join(missing)}; set it in the definition's auth")
        return auth

    def _secret_value(self, value: str) -> str:
        match = _VARIABLE.fullmatch(value.strip())
        if match and not match.group(1).startswith("$"):
            self.secret_vars.add(match.group(1))
            return secret(match.group(1))
        if value and "{{" not in value:
            self.result.note(
                f"'{self.label}' has its credentials written in the collection; they were kept as given, "
                "but could be moved to {{secrets.*}}."
            )
        return self.convert(value)


_SIGN_IN_GRANTS = ("authorization_code", "authorization_code_with_pkce", "implicit")


def _auth_values(raw: Any) -> dict[str, str]:
    """v2.1 gives [{key, value}], v2.0 gives {key: value}."""
    if isinstance(raw, dict):
        return {str(k): _text(v) for k, v in raw.items() if v is not None}
    out: dict[str, str] = {}
    for entry in _list(raw):
        if isinstance(entry, dict) and isinstance(entry.get("key"), str) and entry.get("value") is not None:
            out[entry["key"]] = _text(entry["value"])
    return out


def _add_field(fields: dict[str, Any], key: str, value: str) -> None:
    """A repeated form key becomes a list of its values, in order."""
    if key in fields:
        previous = fields[key]
        fields[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
    else:
        fields[key] = value


def _convert_json(value: Any, convert) -> Any:
    if isinstance(value, str):
        return convert(value)
    if isinstance(value, dict):
        return {convert(str(k)): _convert_json(v, convert) for k, v in value.items()}
    if isinstance(value, list):
        return [_convert_json(v, convert) for v in value]
    return value


def _split_raw(raw: str) -> tuple[str, list[tuple[str, str]]]:
    raw = raw.strip().split("#", 1)[0]
    address, _, query_text = raw.partition("?")
    pairs: list[tuple[str, str]] = []
    for part in query_text.split("&") if query_text else []:
        if part:
            key, _, value = part.partition("=")
            pairs.append((unquote(key), unquote(value)))
    return address, pairs


def _url_credentials(address: str) -> tuple[str, tuple[str, str] | None]:
    """`scheme://user:password@host/...` -> the address without them, and (user, password) decoded."""
    match = _SCHEME.match(address)
    if not match:
        return address, None
    rest = address[match.end() :]
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" not in authority:
        return address, None
    userinfo, host = authority.rsplit("@", 1)
    user, _, password = userinfo.partition(":")
    return match.group(0) + host + rest[len(authority) :], (unquote(user), unquote(password))


def _path_variables(address: str) -> tuple[str, list[str]]:
    """Postman's `:id` path segments -> `{{params.id}}` (the scheme and host are left alone)."""
    start = address.find("://")
    head_end = address.find("/", start + 3 if start >= 0 else 0)
    if head_end < 0:
        return address, []
    head, path = address[:head_end], address[head_end:]
    names: list[str] = []
    segments = []
    for segment in path.split("/"):
        if segment.startswith(":") and len(segment) > 1:
            names.append(segment[1:])
            segment = param(segment[1:])
        segments.append(segment)
    return head + "/".join(segments), names


def _segment(segment: Any) -> str:
    if isinstance(segment, dict):
        return _text(segment.get("value") or "")
    return _text(segment)


def _description(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("content")
    return value.strip() if isinstance(value, str) else ""


def _script_text(script: Any) -> str:
    if not isinstance(script, dict):
        return ""
    exec_ = script.get("exec")
    if isinstance(exec_, list):
        return "\n".join(_text(line) for line in exec_ if line is not None)
    return _text(exec_ or "")


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
