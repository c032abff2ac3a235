"""The `{{root.name}}` placeholders imports write into definitions (env, params, secrets)."""

from __future__ import annotations

import json
import re

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_PATH_TEMPLATE = re.compile(r"\{([^{}/]+)\}")


def placeholder(root: str, name: str) -> str:
    """`{{root.name}}`, or `{{root["na-me"]}}` when the name is not an identifier."""
    if _IDENTIFIER.match(name):
        return "{{" + f"{root}.{name}" + "}}"
    return "{{" + f"{root}[{json.dumps(name)}]" + "}}"


def path_expression(root: str, *names: str) -> str:
    """`root.a.b` (bracketed `root["a-b"]` for names that are not identifiers), without braces."""
    out = root
    for name in names:
        out += f".{name}" if _IDENTIFIER.match(name) else f"[{json.dumps(name)}]"
    return out


def param(name: str) -> str:
    """Placeholder for a parameter the API_CALL node supplies."""
    return placeholder("params", name)


def env(name: str) -> str:
    """Placeholder for an environment variable."""
    return placeholder("env", name)


def secret(name: str) -> str:
    """Placeholder for a secret."""
    return placeholder("secrets", name)


def secret_name(scheme: str, suffix: str = "") -> str:
    """A secret's name made from a security scheme's name: word characters only."""
    base = re.sub(r"\W+", "_", scheme).strip("_") or "api"
    return f"{base}_{suffix}" if suffix else base


def path_to_template(path: str) -> tuple[str, list[str]]:
    """`/pets/{petId}` -> (`/pets/{{params.petId}}`, ["petId"])."""
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name not in names:
            names.append(name)
        return param(name)

    return _PATH_TEMPLATE.sub(replace, path), names
