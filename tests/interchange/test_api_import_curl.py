"""cURL commands as copied from browsers or written by hand: every field checked, broken ones refused plainly."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowdesk.domain.errors import InvalidInputError
from flowdesk.interchange.api_export import to_curl
from flowdesk.interchange.api_import import import_api_spec, import_curl
from tests.support.api_import_checks import definition_fields

CURL = Path(__file__).parent / "fixtures" / "api" / "curl"
_FIELDS = {"id", "created_at", "updated_at", "description", "tags", "parameters", "source"}

# Each fixture: (definition fields, problems, notes), checked by hand against the command.
EXPECTED = {
    "bundled-short.txt": (
        {
            "name": "DELETE files.example.test:8443/files/7",
            "method": "DELETE",
            "url": "https://files.example.test:8443/files/7",
            "headers": {},
            "query": {},
            "body": None,
            "content_type": None,
            "timeout": 5.0,
            "auth": {"type": "basic", "username": "alice", "password": "s3cr3t"},
        },
        [],
        [
            "Only the curl command was read; what follows '|' was ignored.",
            "TLS certificate checks are off in the command (-k); the definition does not carry that over.",
            "The credentials were kept as given; they could be moved to {{secrets.*}}.",
        ],
    ),
    "chrome-ansi-c.txt": (
        {
            "name": "PATCH notes.example.test/api/notes/9",
            "method": "PATCH",
            "url": "https://notes.example.test/api/notes/9",
            "headers": {},
            "query": {},
            "body": {"text": "it's done\nreally", "tags": ["café"], "tab": "a\tb"},
            "content_type": "application/json;charset=UTF-8",
            "timeout": 30.0,
            "auth": None,
        },
        [],
        [],
    ),
    "chrome-get.txt": (
        {
            "name": "GET git.example.test/api/v3/repos/acme/widgets/issues",
            "method": "GET",
            "url": "https://git.example.test/api/v3/repos/acme/widgets/issues",
            "headers": {
                "accept": "application/json",
                "accept-language": "en-GB,en;q=0.9",
                "Cookie": "_octo=GH1.1.123; logged_in=yes",
                "priority": "u=1, i",
                "referer": "https://git.example.test/acme/widgets/issues",
                "sec-ch-ua": '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
                "sec-ch-ua-mobile": "?0",
                "sec-ch-ua-platform": '"Linux"',
                "sec-fetch-dest": "empty",
                "sec-fetch-mode": "cors",
                "sec-fetch-site": "same-origin",
                "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
                "x-requested-with": "XMLHttpRequest",
            },
            "query": {"state": "open", "per_page": "50", "labels": "bug,ui"},
            "body": None,
            "content_type": None,
            "timeout": 30.0,
            "auth": None,
        },
        [],
        ["The Cookie header was kept as given; it may hold a session that expires."],
    ),
    "chrome-post-json.txt": (
        {
            "name": "POST shop.example.test/graphql/cart",
            "method": "POST",
            "url": "https://shop.example.test/graphql/cart",
            "headers": {
                "authority": "shop.example.test",
                "accept": "*/*",
                "origin": "https://shop.example.test",
                "user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            },
            "query": {},
            "body": {
                "operationName": "AddToCart",
                "variables": {"sku": "A-100", "qty": 2, "gift": False},
                "query": "mutation AddToCart($sku: ID!, $qty: Int!) { add(sku: $sku, qty: $qty) { id } }",
            },
            "content_type": "application/json",
            "timeout": 30.0,
            "auth": {"type": "bearer", "token": "eyJhbGciOiJIUzI1NiJ9.e30.sig"},
        },
        [],
        ["The credentials were kept as given; they could be moved to {{secrets.*}}."],
    ),
    "data-urlencode-get.txt": (
        {
            "name": "GET search.example.test/find",
            "method": "GET",
            "url": "https://search.example.test/find",
            "headers": {},
            "query": {"q": "fish & chips", "lang": "en", "limit": "10"},
            "body": None,
            "content_type": None,
            "timeout": 30.0,
            "auth": None,
        },
        [],
        [],
    ),
    "data-urlencode-post.txt": (
        {
            "name": "POST feedback.example.test/submit",
            "method": "POST",
            "url": "https://feedback.example.test/submit",
            "headers": {},
            "query": {},
            "body": "comment=50%25%20off%2C%20really%3F&raw%20text&id=5&mode=a+b",
            "content_type": "application/x-www-form-urlencoded",
            "timeout": 30.0,
            "auth": None,
        },
        [],
        [],
    ),
    "firefox-post-form.txt": (
        {
            "name": "POST forum.example.test/search",
            "method": "POST",
            "url": "https://forum.example.test/search",
            "headers": {
                "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
                "Accept": "*/*",
                "Accept-Language": "en-US,en;q=0.5",
                "Accept-Encoding": "gzip, deflate, br",
                "X-Requested-With": "XMLHttpRequest",
                "Origin": "https://forum.example.test",
                "Connection": "keep-alive",
                "Referer": "https://forum.example.test/",
                "Cookie": "sid=abc; theme=dark",
                "Sec-Fetch-Dest": "empty",
                "Sec-Fetch-Mode": "cors",
                "Sec-Fetch-Site": "same-origin",
                "TE": "trailers",
            },
            "query": {},
            "body": {"q": "flow desk", "page": "2", "tags[]": ["a", "b"]},
            "content_type": "application/x-www-form-urlencoded; charset=UTF-8",
            "timeout": 30.0,
            "auth": None,
        },
        [],
        ["The Cookie header was kept as given; it may hold a session that expires."],
    ),
    "form-multipart.txt": (
        {
            "name": "POST docs.example.test/upload",
            "method": "POST",
            "url": "https://docs.example.test/upload",
            "headers": {},
            "query": {},
            "body": {"title": "Quarterly report", "file": {"path": "report.pdf"}, "note": "@not a file"},
            "body_type": "multipart",
            "content_type": None,
            "timeout": 30.0,
            "auth": None,
        },
        [],
        [],
    ),
    "header-without-colon.txt": (
        {
            "name": "GET example.test/",
            "method": "GET",
            "url": "https://example.test/",
            "headers": {},
            "query": {},
            "body": None,
            "content_type": None,
            "timeout": 30.0,
            "auth": None,
        },
        [],
        [
            "The header 'NoColonHere' at line 2, column 6 has no ':'; curl does not send it, so it was left out."
        ],
    ),
    "head-no-scheme.txt": (
        {
            "name": "HEAD example.test/status",
            "method": "HEAD",
            "url": "http://example.test/status",
            "headers": {},
            "query": {},
            "body": None,
            "content_type": None,
            "timeout": 30.0,
            "auth": None,
        },
        [],
        ["The URL has no scheme; http:// was assumed, as curl does."],
    ),
    "json-flag.txt": (
        {
            "name": "POST hooks.example.test/notify",
            "method": "POST",
            "url": "https://hooks.example.test/notify",
            "headers": {
                "User-Agent": "flowdesk-test/1.0",
                "Referer": "https://ci.example.test/run/3",
                "Accept": "application/json",
            },
            "query": {},
            "body": {"event": "deploy", "ok": True},
            "content_type": "application/json",
            "timeout": 30.0,
            "auth": None,
        },
        [],
        [],
    ),
    "json-without-content-type.txt": (
        {
            "name": "POST api.example.test/v1/users",
            "method": "POST",
            "url": "https://api.example.test/v1/users",
            "headers": {},
            "query": {},
            "body": {"name": "Ann", "admin": False},
            "content_type": "application/json",
            "timeout": 30.0,
            "auth": {"type": "bearer", "token": "tok-42"},
        },
        [],
        [
            "The credentials were kept as given; they could be moved to {{secrets.*}}.",
            "The data is JSON but the command sets no Content-Type (curl would send it as a form); the definition sends it as application/json.",
        ],
    ),
    "multiline-put.txt": (
        {
            "name": "PUT inventory.example.test/v2/items/42",
            "method": "PUT",
            "url": "https://inventory.example.test/v2/items/42",
            "headers": {"X-Request-Id": "7d9f"},
            "query": {"dry_run": "true"},
            "body": {"name": 'Widget "Pro"', "stock": 12, "price": 9.5},
            "content_type": "application/json",
            "timeout": 30.0,
            "auth": {"type": "basic", "username": "ops", "password": "p@ss w0rd"},
        },
        [],
        ["The credentials were kept as given; they could be moved to {{secrets.*}}."],
    ),
}
BROKEN = {
    "broken-data-file.txt": "The data at line 1, column 37 is read from the file 'body.json', which cannot be imported; paste the data itself with --data-raw, or give it as a heredoc (<<EOF).",
    "broken-missing-value.txt": "The option '-H' at line 1, column 28 needs a value.",
    "broken-no-host.txt": "The URL 'https://:8080/x' has no host.",
    "broken-no-url.txt": "The curl command has no URL.",
    "broken-not-curl.txt": "The command does not start with 'curl' (it starts with 'wget').",
    "broken-unclosed-double.txt": "The command has a double quote that is never closed; it opens at line 2, column 11.",
    "broken-unclosed-single.txt": "The command has a single quote that is never closed; it opens at line 1, column 9.",
    "broken-unknown-option.txt": "Unknown curl option '--frobnicate' at line 1, column 6.",
    "broken-unknown-short-option.txt": "Unknown curl option '-W' at line 1, column 6.",
    "broken-windows-cmd.txt": "This looks like a Windows (cmd) copy of a curl command; copy it as 'cURL (bash)' instead.",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_curl_fixture_every_field(name):
    fields, problems, notes = EXPECTED[name]
    result = import_curl((CURL / name).read_text())
    assert result.format == "curl"
    assert len(result.definitions) == 1
    definition = result.definitions[0]
    assert definition_fields(definition, exclude=_FIELDS) == fields
    assert (definition.description, definition.tags, definition.parameters, definition.source) == (
        "",
        [],
        [],
        None,
    )
    assert [(p.where, p.message) for p in result.problems] == problems
    assert result.notes == notes
    assert result.environment == {}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_curl_fixture_gets_one_plain_sentence(name):
    with pytest.raises(InvalidInputError) as info:
        import_curl((CURL / name).read_text())
    assert str(info.value) == BROKEN[name]


def test_every_fixture_is_covered():
    assert {p.name for p in CURL.glob("*.txt")} == set(EXPECTED) | set(BROKEN)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_round_trip_curl_definition_curl(name):
    first = import_curl((CURL / name).read_text()).definitions[0]
    command = to_curl(first)
    again = import_curl(command).definitions[0]
    assert again == first, command


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("", "The curl command is empty."),
        ("   \n  ", "The curl command is empty."),
        ("curl", "The curl command has no URL."),
        ("curl -X", "The option '-X' at line 1, column 6 needs a value."),
        ("curl -X '' https://e.test", "The method at line 1, column 9 is empty."),
        (
            "curl -X 'A: b' https://e.test",
            "The method 'A: b' at line 1, column 9 is not a valid HTTP method.",
        ),
        ("curl https://e.test -H ':x'", "The header ':x' at line 1, column 24 has no name."),
        ("curl https://e.test -m soon", "The time 'soon' at line 1, column 24 is not a number of seconds."),
        ("curl https://e.test --data=1", "Unknown curl option '--data=1' at line 1, column 21."),
        ("curl -F novalue https://e.test", "The form field 'novalue' at line 1, column 9 has no 'name='."),
        (
            "curl https://e.test --data-urlencode name@file.txt",
            "The data at line 1, column 38 is read from the file 'file.txt', which cannot be imported; "
            "paste the data itself.",
        ),
        (
            "curl $'https://e.test",
            "The command has a $' quote that is never closed; it opens at line 1, column 6.",
        ),
        ("curl 'http://[::1'", "The URL 'http://[::1' cannot be read (Invalid IPv6 URL)."),
        ("http https://e.test", "The command does not start with 'curl' (it starts with 'http')."),
    ],
)
def test_broken_inline_commands(command, message):
    with pytest.raises(InvalidInputError) as info:
        import_curl(command)
    assert str(info.value) == message


def test_method_defaults_and_overrides():
    assert import_curl("curl https://e.test/a").definitions[0].method == "GET"
    assert import_curl("curl https://e.test/a -d x=1").definitions[0].method == "POST"
    assert import_curl("curl -X put https://e.test/a -d x=1").definitions[0].method == "PUT"
    assert import_curl("curl -XPATCH https://e.test/a").definitions[0].method == "PATCH"
    assert import_curl("curl --request DELETE https://e.test/a").definitions[0].method == "DELETE"
    assert import_curl("curl --head https://e.test/a").definitions[0].method == "HEAD"


def test_several_data_options_are_joined_with_ampersands_like_curl():
    definition = import_curl("curl https://e.test -d a=1 --data b=2 --data-raw 'c=@3'").definitions[0]
    assert definition.body == {"a": "1", "b": "2", "c": "@3"}
    assert definition.content_type == "application/x-www-form-urlencoded"


def test_plain_text_data_stays_text():
    definition = import_curl(
        "curl https://e.test -H 'Content-Type: text/plain' --data-binary $'line1\\nline2'"
    ).definitions[0]
    assert definition.body == "line1\nline2"
    assert definition.content_type == "text/plain"


def test_invalid_json_data_is_kept_as_text_with_a_problem():
    result = import_curl("curl https://e.test/x -H 'Content-Type: application/json' -d '{\"a\": }'")
    assert result.definitions[0].body == '{"a": }'
    assert [(p.where, p.message) for p in result.problems] == [
        (
            "POST e.test/x",
            "the data is not valid JSON (Expecting value at line 1, column 7); it was kept as text",
        )
    ]


def test_empty_header_and_removed_header():
    definition = import_curl("curl https://e.test -H 'X-Empty;' -H 'Accept:' -H 'X-A: 1'").definitions[0]
    assert definition.headers == {"X-Empty": "", "X-A": "1"}


def test_credentials_in_the_url_become_basic_auth():
    definition = import_curl("curl https://bob:pw@e.test/private").definitions[0]
    assert definition.auth == {"type": "basic", "username": "bob", "password": "pw"}
    assert definition.url == "https://e.test/private"


def test_ansi_c_escapes():
    definition = import_curl(r"curl https://e.test -H $'X-A: \x41\u00e9\101\t\'q\'' ").definitions[0]
    assert definition.headers == {"X-A": "A\u00e9A\t'q'"}


def test_double_quotes_keep_dollar_text_and_unescape_quotes():
    definition = import_curl('curl "https://e.test/$HOME" -H "X-A: say \\"hi\\" \\$5"').definitions[0]
    assert definition.url == "https://e.test/$HOME"
    assert definition.headers == {"X-A": 'say "hi" $5'}


def test_windows_line_endings_and_comments():
    definition = import_curl(
        "# fetch it\r\ncurl https://e.test/a \\\r\n  -H 'A: 1' # trailing\r\n"
    ).definitions[0]
    assert (definition.url, definition.headers) == ("https://e.test/a", {"A": "1"})


def test_import_api_spec_detects_a_curl_command():
    result = import_api_spec(b"curl https://e.test/ping")
    assert result.format == "curl"
    assert result.definitions[0].name == "GET e.test/ping"


def test_trailing_continuation_backslash_is_ignored():
    result = import_curl("curl https://e.test/a \\\n  -H 'A: 1' \\")
    assert (result.definitions[0].headers, result.notes) == ({"A": "1"}, [])


# Real-world shapes beyond the fixtures: (paste, the fields of each definition that must come out, notes).
SHAPES = {
    "digest": (
        "curl --digest -u 'ann:pw' https://e.test/d",
        [{"method": "GET", "auth": {"type": "digest", "username": "ann", "password": "pw"}}],
    ),
    "digest-negated": (
        "curl --digest --no-digest -u 'ann:pw' https://e.test/d",
        [{"auth": {"type": "basic", "username": "ann", "password": "pw"}}],
    ),
    "upload-file": (
        "curl -T report.csv https://e.test/files/",
        [{"method": "PUT", "url": "https://e.test/files/report.csv", "body": None}],
    ),
    "upload-heredoc": (
        "curl -T - https://e.test/files/x.txt <<EOF\nhello\nEOF\n",
        [{"method": "PUT", "url": "https://e.test/files/x.txt", "body": "hello\n"}],
    ),
    "form-only-is-post": (
        "curl -F a=1 https://e.test/f",
        [{"method": "POST", "body": {"a": "1"}, "body_type": "multipart", "content_type": None}],
    ),
    "postman-form": (
        "curl --location 'https://e.test/up' --form 'name=\"Ann\"' --form 'file=@\"/home/ann/a b.txt\"'",
        [{"body": {"name": "Ann", "file": {"path": "/home/ann/a b.txt"}}, "body_type": "multipart"}],
    ),
    "json-concatenated": (
        "curl --json '{\"drink\":' --json '\"coffe\"}' https://e.test/j",
        [
            {
                "body": {"drink": "coffe"},
                "content_type": "application/json",
                "headers": {"Accept": "application/json"},
            }
        ],
    ),
    "data-newlines-kept": (
        "curl -H 'Content-Type: text/plain' -d 'a\nb' https://e.test/t",
        [{"body": "a\nb"}],
    ),
    "range": ("curl -r 0-99 https://e.test/r", [{"headers": {"Range": "bytes=0-99"}}]),
    "url-query": (
        "curl --url-query 'q=a b' --url-query '+x=1%2B1' 'https://e.test/s?p=1'",
        [{"query": {"p": "1", "q": "a b", "x": "1+1"}}],
    ),
    "ansi-heredoc-json": (
        "curl -H 'Content-Type: application/json' --data-binary @- https://e.test/h <<-'END'\n\t{\"a\": 1}\n\tEND",
        [{"body": {"a": 1}, "content_type": "application/json"}],
    ),
    "export-then-curl": (
        'export TOKEN=abc\ncurl -H "Authorization: Bearer $TOKEN" https://e.test/me',
        [{"auth": {"type": "bearer", "token": "$TOKEN"}}],
    ),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_real_world_shapes(name):
    paste, wanted = SHAPES[name]
    result = import_curl(paste)
    assert len(result.definitions) == len(wanted)
    for definition, fields in zip(result.definitions, wanted, strict=True):
        got = definition.model_dump()
        assert {k: got[k] for k in fields} == fields


@pytest.mark.parametrize(
    ("paste", "message"),
    [
        (
            "curl --requ PUT https://e.test",
            "The option '--requ' at line 1, column 6 is ambiguous (it could be --request, --request-target).",
        ),
        ("curl --no-data x https://e.test", "The option '--no-data' at line 1, column 6 cannot be negated."),
        (
            "curl --request-target '*' https://e.test",
            "The curl option '--request-target' at line 1, column 6 changes the request in a way the importer cannot carry over.",
        ),
        (
            "curl --aws-sigv4 aws:amz https://e.test",
            "The --aws-sigv4 value 'aws:amz' at line 1, column 18 needs a region and a service ('aws:amz:REGION:SERVICE'); the importer does not guess them from the host.",
        ),
        (
            "curl -d @- https://e.test",
            "The data at line 1, column 9 is read from standard input, which cannot be imported; paste the data itself with --data-raw, or give it as a heredoc (<<EOF).",
        ),
        (
            "curl -d @- https://e.test < body.txt",
            "The data at line 1, column 9 is read from the file 'body.txt' (given with '<'), which cannot be imported; paste the data itself with --data-raw, or give it as a heredoc (<<EOF).",
        ),
        ("curl -d @- https://e.test <<EOF\na=1\n", "The heredoc '<<EOF' is never closed by a line 'EOF'."),
        (
            "curl -F a=1 -d b=2 https://e.test",
            "The command gives both -F (multipart) and -d/-T data; curl refuses that too.",
        ),
        ("curl https://e.test >", "The redirection '>' has no target; it is at line 1, column 21."),
    ],
)
def test_refused_with_a_true_reason(paste, message):
    with pytest.raises(InvalidInputError) as info:
        import_curl(paste)
    assert str(info.value) == message


def test_one_broken_command_among_several_is_left_out_with_a_problem():
    result = import_curl(
        "curl https://e.test/a\ncurl --frobnicate https://e.test/b\ncurl -X POST https://e.test/c"
    )
    assert [d.name for d in result.definitions] == ["GET e.test/a", "POST e.test/c"]
    assert [str(p) for p in result.problems] == [
        "curl command at line 2, column 1: Unknown curl option '--frobnicate' at line 2, column 6. It was left out."
    ]


def test_same_request_twice_gets_distinct_names():
    result = import_curl("curl https://e.test/a; curl https://e.test/a")
    assert [d.name for d in result.definitions] == ["GET e.test/a", "GET e.test/a (2)"]


def test_form_parts_curl_cannot_carry_are_problems():
    result = import_curl("curl -F 'a=<notes.txt' -F 'b=x;type=text/x' -F b=y https://e.test/f")
    assert result.definitions[0].body == {"b": "y"}
    assert [p.message for p in result.problems] == [
        "form field 'a' reads its text from the file 'notes.txt' (<), which the importer cannot read; it was left out",
        "form field 'b' is a text field sent with its own content type or file name; flowdesk sends it as a plain text field",
        "form field 'b' is given more than once; only the last one was kept",
    ]
