"""Benchmark the API importers and the OpenAPI export. Run by hand, not a test:

    python benchmarks/bench_api_import.py [--runs 5] [--operations 1000]
    python benchmarks/bench_api_import.py --big 13 --big 73 [--runs 3] [--yaml] [--refs] [--before DIR]

`--big MB` writes a generated *dereferenced* OpenAPI document of about that size (every schema inlined, no
$ref, as GitHub publishes api.github.com.deref.json: 13 MB and 73 MB) and imports it in a fresh child process,
several times; it prints the median wall time of the import (loading flowdesk's modules and reading the text
included) with its CPU time (what the machine's load does not change much), and the median peak
resident memory of the child, next to the same child only parsing the text (json.loads / CSafeLoader), and
with `--before DIR` next to the same import by the code in DIR (another checkout), runs interleaved.

A generated OpenAPI 3 document with N paths x 2 operations (a GET with a path and a query parameter, a
POST whose body schema refers to a web of 300 schemas, 3 levels of $ref per property) is imported as JSON
and as YAML. Each figure is the median of several runs, printed with its ratio to only parsing the same text
(json.loads / yaml CSafeLoader) measured in the same process, so the figures travel between machines.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def _component(i: int, count: int) -> dict:
    """Schema i of the component pool (about 12 KB, as GitHub's are): forty described properties and a
    $ref to a later schema."""
    properties: dict = {
        f"prop_{j}": {
            "type": ["string", "integer", "boolean"][j % 3],
            "description": f"The prop_{j} of a {i % 40}-kind resource, as the API returns it in every answer. "
            * 3,
            **({"format": "date-time"} if j % 5 == 0 else {}),
            **({"example": f"value {j}"} if j % 3 == 0 else {}),
        }
        for j in range(40)
    }
    if i + 3 < count:
        properties["link"] = {"$ref": f"#/components/schemas/S{i + 3}"}
    return {"type": "object", "title": f"S{i}", "properties": properties, "required": ["prop_0"]}


def big_spec(megabytes: float, dereferenced: bool = True) -> dict:
    """A GitHub-like OpenAPI 3 document of about `megabytes` MB of indented JSON once dereferenced: a pool
    of 800 component schemas referring to each other, and as many operations as the size needs, each
    answering and taking pool schemas; every $ref is then inlined (a copy of its target), as in GitHub's
    api.github.com.deref.json."""
    count = 800
    schemas = {f"S{i}": _component(i, count) for i in range(count)}
    document = {
        "openapi": "3.0.3",
        "info": {"title": "Big", "version": "1"},
        "servers": [{"url": "https://big.test"}],
        "paths": {},
    }
    paths = document["paths"]
    if not dereferenced:  # GitHub's api.github.com.json: the same API with its $refs kept
        document["components"] = {"schemas": schemas}
        megabytes -= len(json.dumps(schemas, indent=1)) / 1e6

    def item(i: int) -> dict:
        return _dereferenced(_path_item(i, count), schemas, 0) if dereferenced else _path_item(i, count)

    one = len(json.dumps(item(0), indent=1))
    for i in range(max(1, int(megabytes * 1e6 / one))):
        paths[f"/repos/{{owner}}/{{repo}}/r{i}/{{id}}"] = item(i)
    return document


def _dereferenced(node, schemas: dict, depth: int):
    if isinstance(node, dict):
        if "$ref" in node:
            target = schemas[node["$ref"].rsplit("/", 1)[1]]
            return _dereferenced(target, schemas, depth + 1) if depth < 2 else {"type": "object"}
        return {k: _dereferenced(v, schemas, depth) for k, v in node.items()}
    if isinstance(node, list):
        return [_dereferenced(v, schemas, depth) for v in node]
    return node


def _path_item(i: int, count: int) -> dict:
    owner = {"name": "owner", "in": "path", "required": True, "schema": {"type": "string"}}
    answer = {"$ref": f"#/components/schemas/S{(i * 7) % count}"}
    return {
        "get": {
            "operationId": f"get-{i}",
            "summary": f"Get resource {i}",
            "description": "Gets the resource, as the API documents it at length. " * 50,
            "parameters": [
                owner,
                {"name": "repo", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}},
                {"name": "per_page", "in": "query", "schema": {"type": "integer", "default": 30}},
            ],
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": answer}}}},
        },
        "patch": {
            "operationId": f"update-{i}",
            "description": "Updates the resource, as the API documents it at length. " * 50,
            "parameters": [owner],
            "requestBody": {
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/S{(i * 11) % count}"}}
                }
            },
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": answer}}}},
        },
    }


_CHILD = """
import json, sys, time
path, mode = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
start, cpu = time.perf_counter(), time.process_time()
if mode == "import":
    from flowdesk.interchange.api_import import import_api_spec
    count = len(import_api_spec(data, source_name=path).definitions)
elif path.endswith(".json"):
    count = len(json.loads(data)["paths"])
else:
    import yaml
    count = len(yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["paths"])
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so it would count the parent's generated spec
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": peak / 1024, "count": count}))
"""


def _child(path: Path, mode: str, code: str | None = None) -> dict:
    """One fresh process importing (or only parsing) `path`; `code` is another checkout to import from."""
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = code
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), mode],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=path.parent,  # `python -c` puts the working folder first on sys.path: not a checkout
    )
    return json.loads(out.stdout)


def bench_big(
    sizes: list[float], runs: int, with_yaml: bool, refs: bool = False, before: str | None = None
) -> None:
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1/5/15 min)")
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            document = big_spec(size, dereferenced=not refs)
            files = [Path(folder) / f"big-{size:g}.json"]
            files[0].write_text(json.dumps(document, indent=1))
            if with_yaml:
                files.append(Path(folder) / f"big-{size:g}.yaml")
                files[1].write_text(yaml.safe_dump(document, sort_keys=False))
            del document
            for path in files:
                megabytes = path.stat().st_size / 1e6
                imports, parses, earlier = [], [], []
                for _ in range(runs):  # interleaved, so a change in the machine's load hits all alike
                    imports.append(_child(path, "import"))
                    parses.append(_child(path, "parse"))
                    if before:
                        earlier.append(_child(path, "import", before))
                median = statistics.median
                print(
                    f"{path.suffix[1:].upper()}{' with $refs' if refs else ''} {megabytes:6.1f} MB, {imports[0]['count']} operations: import "
                    f"{median(r['seconds'] for r in imports):6.2f} s (CPU {median(r['cpu'] for r in imports):.2f} s), "
                    f"peak {median(r['peak_mb'] for r in imports):5.0f} MB"
                    f" | parsing alone {median(r['seconds'] for r in parses):6.2f} s "
                    f"(CPU {median(r['cpu'] for r in parses):.2f} s), peak "
                    f"{median(r['peak_mb'] for r in parses):5.0f} MB  (medians of {runs})"
                )
                if earlier:
                    then = median(r["seconds"] for r in earlier)
                    print(
                        f"    the code in {before}: import {then:6.2f} s "
                        f"(CPU {median(r.get('cpu', 0.0) for r in earlier):.2f} s), peak "
                        f"{median(r['peak_mb'] for r in earlier):5.0f} MB; now / then = "
                        f"{median(r['seconds'] for r in imports) / then:.2f}"
                    )
        print(
            f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1/5/15 min)"
        )


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
    parser.add_argument("--big", type=float, action="append", metavar="MB", help="a dereferenced spec of MB")
    parser.add_argument("--yaml", action="store_true", help="with --big: the YAML form too")
    parser.add_argument("--refs", action="store_true", help="with --big: keep the $refs (not dereferenced)")
    parser.add_argument(
        "--before", metavar="DIR", help="with --big: also import with the code in DIR (e.g. a main checkout)"
    )
    args = parser.parse_args()
    if args.big:
        bench_big(args.big, args.runs, args.yaml, args.refs, args.before)
        return
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
