"""Every placeholder an import writes is a template flowdesk's expression language reads, naming env/params/secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowdesk.domain.expressions import Scope, check_template, references, render
from flowdesk.interchange.api_import import import_api_spec, import_curl

FIXTURES = Path(__file__).parent / "fixtures" / "api"
SPECS = sorted(p.name for p in FIXTURES.glob("*") if p.is_file())
CURLS = sorted(p.name for p in (FIXTURES / "curl").glob("*.txt") if not p.name.startswith("broken"))


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _definitions(kind: str, name: str):
    if kind == "spec":
        return import_api_spec((FIXTURES / name).read_bytes()).definitions
    return import_curl((FIXTURES / "curl" / name).read_text()).definitions


@pytest.mark.parametrize(("kind", "name"), [("spec", n) for n in SPECS] + [("curl", n) for n in CURLS])
def test_every_written_template_parses(kind, name):
    for definition in _definitions(kind, name):
        fields = [definition.url, definition.headers, definition.query, definition.body, definition.auth]
        for text in _strings(fields):
            assert check_template(text) == [], (definition.name, text)
            for path in references(text) if "{{" in text else []:
                assert path[0] in ("env", "params", "secrets"), (definition.name, text)


def test_imported_url_renders_with_environment_and_parameters():
    result = import_api_spec((FIXTURES / "petstore-3.0.yaml").read_bytes())
    listing = result.definitions[0]
    scope = Scope({"env": result.environment, "params": {"X-Request-ID": "r-1", "status": "sold"}})
    assert render(listing.url, scope) == "https://eu.petstore.test/v2/pets"
    assert render(listing.headers, scope) == {"X-Request-ID": "r-1", "Accept": "application/json"}
    assert render(listing.query, scope) == {"status": "sold"}
