"""Each paste is run by bash with the real curl against a raw server on 127.0.0.1, then imported and sent with the
API library's Send (send_trial, the engine's HttpClient) to the same server: the two requests must agree.

Compared: method, path, query (decoded pairs, in order), body bytes (JSON bodies as JSON values, since
flowdesk writes JSON compactly; form bodies as decoded pairs), Content-Length when the body bytes are the same,
and every header the command makes curl send. Headers curl adds on its own (Host, User-Agent, Accept: */*) and
flowdesk's own transport headers are not part of the imported request.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from flowdesk.engine.http import HttpClient
from flowdesk.interchange.api_import import import_curl
from flowdesk.ui.api_library.trial_request import send_trial
from tests.support.raw_http_server import RawHttpServer, RawRequest

CURL = shutil.which("curl")
if CURL is None and os.environ.get("FLOWDESK_REQUIRE_CURL") == "1":
    pytest.fail("curl is required (FLOWDESK_REQUIRE_CURL=1) but is not installed", pytrace=False)
pytestmark = pytest.mark.skipif(CURL is None, reason="curl is not installed (CI installs it)")

_CURL_OWN = {"host", "expect", "transfer-encoding", "content-length"}
_JSON = re.compile(r"[a-z0-9.+-]+/([a-z0-9.-]+\+)?json\s*(;|$)")

# name -> paste ({url} is the raw server); each curl command in it is one request.
CASES = {
    "data-keeps-newlines": "curl -H 'Content-Type: text/plain' -d $'line one\\nline two' {url}/notes",
    "data-newlines-in-quotes": "curl {url}/notes -H 'Content-Type: text/plain' --data 'a\nb\n'",
    "json-concatenated": "curl --json '{{\"drink\":' --json '\"coffe\"}}' {url}/order",
    "json-and-header": "curl -H 'X-Trace: 7' --json '[1, 2, 3]' {url}/numbers",
    "url-query": "curl --url-query 'q=caf\u00e9 au lait' --url-query '+x=1%2B1' '{url}/search?page=2'",
    "range": "curl -r 0-99 {url}/big.bin",
    "range-long": "curl --range 100- {url}/big.bin",
    "abbreviated-options": "curl --sil --heade 'X-A: 1' --user-ag ua/2 -X PATCH --data-r 'k=v' {url}/abbrev",
    "no-negations": "curl -G --no-get --no-location --no-basic -d a=1 {url}/neg",
    "header-without-colon": "curl -H 'Bogus' -H 'X-Ok: 1' {url}/h",
    "heredoc-binary": (
        "curl -H 'Content-Type: application/x-ndjson' --data-binary @- {url}/bulk <<'EOF'\n"
        '{{"index":{{}}}}\n{{"a":1}}\nEOF'
    ),
    "heredoc-data-strips-newlines": "curl -d @- {url}/form <<EOF\na=1&\nb=2\nEOF",
    "here-string": "curl -H 'Content-Type: text/plain' --data-binary @- {url}/hs <<< 'hello there'",
    "several-commands": (
        "curl {url}/one -H 'X-N: 1'\n\n"
        "curl -X DELETE {url}/two ; curl -d x=1 {url}/three && curl -I {url}/four\n"
        "curl {url}/five | jq .\n"
    ),
    "form-urlencoded": "curl -d 'a=1' -d 'b=two words' --data-urlencode 'c=x&y' {url}/f",
    "basic-user": "curl -u 'ann:p@ss:word' {url}/secure",
    "credentials-in-url": "curl http://bob:pw@127.0.0.1:{port}/in-url",
    "continued-line": "curl {url}/cont\n  -H 'X-Cont: yes'",
    "head": "curl --head {url}/status",
    "cookie-and-agent": "curl -b 'a=1; b=2' -A 'my-agent/1.0' -e https://ref.example/ {url}/c",
    "redirect-output-dropped": "curl -s {url}/out > /dev/null 2>&1",
}


@pytest.fixture(scope="module")
def raw_server():
    server = RawHttpServer().start()
    yield server
    server.close()


def _curl_requests(paste: str, server: RawHttpServer, count: int) -> list[RawRequest]:
    env = {**os.environ, "PATH": f"{Path(CURL).parent}:{os.environ.get('PATH', '')}"}
    script = "jq() { cat >/dev/null; }\n" + paste  # a pipe's reader: curl's request is what matters
    subprocess.run(
        ["bash", "-c", script], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    return [server.next_request() for _ in range(count)]


def _flowdesk_requests(paste: str, server: RawHttpServer) -> tuple[list[RawRequest], object]:
    result = import_curl(paste)

    async def send_all():
        out = []
        async with HttpClient() as client:
            for definition in result.definitions:
                trial = await send_trial(client, definition, environment={}, secrets={})
                assert trial.error == "", trial.error
                out.append(server.next_request())
        return out

    return asyncio.run(send_all()), result


def _assert_same(ours: RawRequest, theirs: RawRequest) -> None:
    assert ours.method == theirs.method
    assert ours.path == theirs.path
    assert ours.query == theirs.query
    their_type = theirs.header("content-type")
    assert ours.header("content-type") == their_type
    if their_type and _JSON.match(their_type) and theirs.body:
        assert json.loads(ours.body) == json.loads(theirs.body)
    elif their_type == "application/x-www-form-urlencoded":
        assert parse_qsl(ours.body.decode(), keep_blank_values=True) == parse_qsl(
            theirs.body.decode(), keep_blank_values=True
        )
    else:
        assert ours.body == theirs.body
        assert (ours.header("content-length") or "0") == (
            theirs.header("content-length") or str(len(theirs.body))
        )
    for name, value in theirs.headers:
        lowered = name.lower()
        if lowered in _CURL_OWN or (lowered, value) == ("accept", "*/*") or value.startswith("curl/"):
            continue
        assert ours.header(name) == value, name


@pytest.mark.parametrize("name", sorted(CASES))
def test_imported_request_is_the_request_curl_sends(name, raw_server):
    paste = CASES[name].format(url=raw_server.url, port=raw_server.port)
    ours, result = _flowdesk_requests(paste, raw_server)
    theirs = _curl_requests(paste, raw_server, len(ours))
    assert len(ours) == len(theirs) >= 1
    for mine, curls in zip(ours, theirs, strict=True):
        _assert_same(mine, curls)
    assert result.problems == []


def test_several_commands_are_several_definitions(raw_server):
    paste = CASES["several-commands"].format(url=raw_server.url)
    result = import_curl(paste)
    assert [(d.method, d.url.rsplit("/", 1)[-1]) for d in result.definitions] == [
        ("GET", "one"),
        ("DELETE", "two"),
        ("POST", "three"),
        ("HEAD", "four"),
        ("GET", "five"),
    ]
    assert result.notes == ["Only the curl command was read; what follows '|' was ignored."]


def _multipart_parts(request: RawRequest) -> list[tuple[str, str | None, str | None, bytes]]:
    """(name, filename, content type, content) of each part of a multipart/form-data body."""
    head = f"Content-Type: {request.header('content-type')}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    parts = []
    for part in message.iter_parts():
        parts.append(
            (
                part.get_param("name", header="content-disposition"),
                part.get_filename(),
                part["content-type"] if "content-type" in part else None,
                part.get_payload(decode=True),
            )
        )
    return parts


def test_multipart_form_is_imported_as_the_parts_curl_sends(raw_server, tmp_path):
    report = tmp_path / "report 1.csv"
    report.write_bytes(b"a,b\n1,2\n")
    photo = tmp_path / "p.png"
    photo.write_bytes(b"\x89PNG fake")
    paste = (
        f"curl -F 'title=\"Quarterly \\\"Q3\\\" report\"' -F 'plain=hello' "
        f'-F \'file=@"{report}";type=text/csv;filename="r.csv"\' '
        f"-F 'photo=@{photo}' --form-string 'note=@not a file' "
        f"-F 'ignored=x;unknown=1' {raw_server.url}/upload"
    )
    (theirs,) = _curl_requests(paste, raw_server, 1)
    result = import_curl(paste)
    (definition,) = result.definitions
    assert (definition.method, definition.body_type, definition.content_type) == ("POST", "multipart", None)
    assert definition.body == {
        "title": 'Quarterly "Q3" report',
        "plain": "hello",
        "file": {"path": str(report), "filename": "r.csv", "content_type": "text/csv"},
        "photo": {"path": str(photo)},
        "note": "@not a file",
        "ignored": "x",
    }
    # what curl sent, part by part, is what the definition describes (a file part's bytes are its file's)
    expected = []
    for name, value in definition.body.items():
        if isinstance(value, dict):
            path = Path(value["path"])
            expected.append(
                (
                    name,
                    value.get("filename", path.name),
                    value.get(
                        "content_type", "application/octet-stream" if path.suffix != ".png" else "image/png"
                    ),
                    path.read_bytes(),
                )
            )
        else:
            expected.append((name, None, None, value.encode()))
    assert _multipart_parts(theirs) == expected
    assert result.notes == ["Form field 'ignored': curl ignores ';unknown=1', and so did the import."]


def test_aws_sigv4_is_signed_as_curl_signs_it(raw_server):
    from tests.support.aws_signature import expected_signature

    # the query is written sorted: curl 7.88 signs it in the order written (later curls sort it, as AWS
    # requires and flowdesk does), so an unsorted one would give curl a signature AWS rejects
    paste = (
        f"curl --aws-sigv4 'aws:amz:eu-west-1:execute-api' -u 'AKIDEXAMPLE:s3cr3t' "
        f"-H 'Content-Type: application/json' -d '{{\"a\": 1}}' '{raw_server.url}/prod/run?a=1&b=2'"
    )
    (ours,), result = _flowdesk_requests(paste, raw_server)
    (theirs,) = _curl_requests(paste, raw_server, 1)
    assert result.definitions[0].auth["type"] == "aws_sigv4"
    for request in (ours, theirs):
        computed, carried = expected_signature(request, "s3cr3t")
        assert carried == computed
    assert (ours.method, ours.path, sorted(ours.query)) == (theirs.method, theirs.path, sorted(theirs.query))
    assert json.loads(ours.body) == json.loads(theirs.body)
