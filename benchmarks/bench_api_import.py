"""Benchmark the API importers and the OpenAPI export. Run by hand, not a test:

    python benchmarks/bench_api_import.py [--runs 5] [--operations 1000]

A generated OpenAPI 3 document with N paths x 2 operations (a GET with a path and a query parameter, a
POST whose body schema refers to a web of 300 schemas, 3 levels of $ref per property) is imported as JSON
and as YAML. Each figure is the median of several runs, printed with its ratio to only parsing the same text
(json.loads / yaml CSafeLoader) measured in the same process, so the figures travel between machines.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import yaml

from flowdesk.interchange.api_export import library_to_openapi
from flowdesk.interchange.api_import import import_api_spec


def spec(operations: int) -> dict:
    schemas = {
        f"S{i}": {
            "type": "object",
            "required": ["a"],
            "properties": {
                "a": {"type": "string", "format": "date-time"},
                "b": {"$ref": f"#/components/schemas/S{(i + 1) % 300}"},
                "c": {"type": "array", "items": {"$ref": f"#/components/schemas/S{(i + 7) % 300}"}},
            },
        }
        for i in range(300)
    }
    paths = {}
    for i in range(operations):
        ref = {"$ref": f"#/components/schemas/S{i % 300}"}
        paths[f"/r{i}/{{id}}"] = {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "get": {
                "operationId": f"get{i}",
                "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": ref}}}},
            },
            "post": {
                "operationId": f"post{i}",
                "requestBody": {"content": {"application/json": {"schema": ref}}},
                "responses": {"201": {"description": "ok"}},
            },
        }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Bench", "version": "1"},
        "servers": [{"url": "https://bench.test"}],
        "paths": paths,
        "components": {"schemas": schemas},
    }


def median_seconds(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--operations", type=int, default=1000)
    args = parser.parse_args()
    document = spec(args.operations)
    as_json = json.dumps(document)
    as_yaml = yaml.safe_dump(document, sort_keys=False)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    count = len(import_api_spec(as_json).definitions)
    print(
        f"{count} operations; JSON {len(as_json) / 1e6:.2f} MB, YAML {len(as_yaml) / 1e6:.2f} MB; {args.runs} runs"
    )
    for name, text, parse in (
        ("JSON", as_json, lambda: json.loads(as_json)),
        ("YAML", as_yaml, lambda: yaml.load(as_yaml, Loader=loader)),  # noqa: S506 - a safe loader
    ):
        base = median_seconds(parse, args.runs)
        full = median_seconds(lambda text=text: import_api_spec(text), args.runs)
        print(
            f"import {name}: {full * 1000:8.1f} ms median ({full / count * 1e6:.0f} us per operation), "
            f"{full / base:.1f}x parsing alone ({base * 1000:.1f} ms)"
        )
    definitions = import_api_spec(as_json).definitions
    export = median_seconds(lambda: library_to_openapi(definitions), args.runs)
    print(f"export to OpenAPI: {export * 1000:8.1f} ms median ({export / count * 1e6:.0f} us per definition)")


if __name__ == "__main__":
    main()
