"""The API library's subcommands: `flowdesk api ...`, `flowdesk env ...`, `flowdesk secret ...`.

Registered from flowdesk/cli.py's SUBCOMMANDS; each follows its `add_<name>` / `cmd_<name>` pattern.
The shared pieces (say, complain, add_db_option, ...) are reached through flowdesk/cli_actions.py.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from flowdesk.cli_actions import add_action, add_action_group, cli_module
from flowdesk.domain.errors import InvalidInputError

# -- api ------------------------------------------------------------------------------------------------


def add_api(subparsers: Any) -> None:
    """`flowdesk api import|list|export|signin|signout`."""
    actions = add_action_group(
        subparsers, "api", "the API library: import specs and curl commands, list, export"
    )
    p = add_action(
        actions, "import", "import an OpenAPI/Swagger/Postman file or a curl command", cmd_api_import
    )
    p.add_argument("file", metavar="FILE", nargs="?", help="an OpenAPI 3, Swagger 2.0 or Postman v2 file")
    p.add_argument("--curl", metavar="COMMAND", help="a curl command (as copied from a browser)")
    p.add_argument(
        "--env",
        metavar="NAME",
        default="default",
        help="environment for the variables found (default: default)",
    )
    p.add_argument("--only", metavar="NAME", action="append", help="import only this definition (repeatable)")
    p.add_argument("--dry-run", action="store_true", help="show what would happen; write nothing")
    p = add_action(actions, "list", "list the API definitions", cmd_api_list)
    p.add_argument(
        "--search", metavar="TEXT", help="only definitions whose name, URL or description has TEXT"
    )
    p.add_argument("--tag", metavar="TAG", help="only definitions with this tag")
    p.add_argument("--json", action="store_true", help="print the definitions as JSON")
    p = add_action(actions, "export", "write the library as an OpenAPI 3 document", cmd_api_export)
    p.add_argument(
        "-o", "--output", metavar="FILE", required=True, help="where to write (JSON; .yaml for YAML)"
    )
    p.add_argument("--title", default="flowdesk API library", help="the document's info.title")
    p.add_argument("--env", metavar="NAME", help="environment giving base_url (default: the active one)")
    p = add_action(
        actions, "signin", "sign in to an API's OAuth2 in the browser and keep the tokens", cmd_api_signin
    )
    p.add_argument("name", metavar="NAME", help="the API definition's name (or id)")
    p.add_argument("--env", metavar="NAME", help="environment filling the auth's {{env.*}} (default: active)")
    p.add_argument(
        "--timeout", type=float, default=300.0, metavar="SECONDS", help="how long to wait for the browser"
    )
    p = add_action(actions, "signout", "forget an API's OAuth2 sign-in (its stored tokens)", cmd_api_signout)
    p.add_argument("name", metavar="NAME", help="the API definition's name (or id)")
    p.add_argument("--env", metavar="NAME", help="environment filling the auth's {{env.*}} (default: active)")


def cmd_api_signin(args: argparse.Namespace) -> int:
    cli = cli_module()
    import asyncio
    import threading
    import webbrowser

    from flowdesk.engine.api_sign_in import ApiSignIn
    from flowdesk.engine.authorization_code import describe_sign_in
    from flowdesk.engine.http import HttpClient

    def open_browser(url: str) -> None:
        cli.say(f"Opening the browser to sign in; if it does not open, visit:\n  {url}")
        # some launchers wait for the browser to exit: never on the loop that takes the redirect
        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()

    async def main(sign_ins: ApiSignIn) -> Any:
        api = sign_ins.find(args.name)
        async with HttpClient(max_connections=2) as client:
            return await sign_ins.sign_in(
                api, client, open_browser=open_browser, environment=args.env, timeout=args.timeout
            )

    with cli.open_database(args) as db:
        signed_in = asyncio.run(main(ApiSignIn(db)))
    cli.say(f"{describe_sign_in(signed_in)}; the tokens are stored encrypted.")
    return cli.EXIT_OK


def cmd_api_signout(args: argparse.Namespace) -> int:
    cli = cli_module()
    from flowdesk.engine.api_sign_in import ApiSignIn

    with cli.open_database(args) as db:
        sign_ins = ApiSignIn(db)
        api = sign_ins.find(args.name)
        was = sign_ins.sign_out(api, args.env)
    cli.say(f"Signed out of '{api.name}'." if was else f"'{api.name}' was not signed in.")
    return cli.EXIT_OK


def _read_spec(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise InvalidInputError(f"Cannot read {path}: {err.strerror or err}.") from None


def cmd_api_import(args: argparse.Namespace) -> int:
    cli = cli_module()
    from flowdesk.services.api_library import ApiLibraryService

    if (args.file is None) == (args.curl is None):
        raise InvalidInputError("Give either FILE or --curl COMMAND.")
    with cli.open_database(args) as db:
        service = ApiLibraryService(db)
        if args.curl is not None:
            plan, source = service.plan_curl(args.curl), "the curl command"
        else:
            plan = service.plan_spec(_read_spec(args.file), source_name=Path(args.file).name)
            source = Path(args.file).name
        if args.dry_run:
            return _print_plan(plan, source)
        report = service.apply(plan, selected=args.only, environment=args.env)
    return _print_report(report, source)


def _print_problems(problems: list[Any], notes: list[str]) -> None:
    cli = cli_module()
    for problem in problems:
        cli.complain(f"problem: {problem}")
    for note in notes:
        cli.say(f"note: {note}")


def _print_plan(plan: Any, source: str) -> int:
    cli = cli_module()
    counts = plan.counts()
    cli.say(
        f"{source} ({plan.format}): would add {counts['add']}, update {counts['update']}, "
        f"skip {counts['skip']}; nothing was written."
    )
    for item in plan.items:
        api = item.definition
        cli.say(f"  {item.action:<7} {api.name}  {api.method} {api.url}  ({item.reason})")
    _print_problems(plan.result.problems, plan.result.notes)
    return cli.EXIT_PROBLEMS if plan.result.problems else cli.EXIT_OK


def _print_report(report: Any, source: str) -> int:
    cli = cli_module()
    cli.say(
        f"{source} ({report.format}): added {len(report.added)}, updated {len(report.updated)}, "
        f"skipped {len(report.skipped)}."
    )
    for api in report.added:
        cli.say(f"  added   {api.id:>4}  {api.name}  {api.method} {api.url}")
    for api in report.updated:
        cli.say(f"  updated {api.id:>4}  {api.name}  {api.method} {api.url}")
    for name, why in report.skipped:
        cli.say(f"  skipped       {name}: {why}")
    for key, value in report.variables_set.items():
        cli.say(f"Environment '{report.environment}': set {key} = {value}")
    for key in report.variables_kept:
        cli.say(f"Environment '{report.environment}': kept your value of {key} (the import has another)")
    for name in report.secrets_stored:
        cli.say(f"Secret '{name}' stored (encrypted).")
    for name in report.secrets_kept:
        cli.say(f"Secret '{name}' already set; kept.")
    _print_problems(report.problems, report.notes)
    return cli.EXIT_PROBLEMS if report.problems else cli.EXIT_OK


def cmd_api_list(args: argparse.Namespace) -> int:
    cli = cli_module()
    from flowdesk.services.apis import ApiService

    with cli.open_database(args) as db:
        apis = ApiService(db).list_apis(search=args.search, tag=args.tag)
    if args.json:
        cli.say(json.dumps([a.model_dump(mode="json") for a in apis], ensure_ascii=False, indent=2))
        return cli.EXIT_OK
    if not apis:
        cli.say("No API definitions.")
        return cli.EXIT_OK
    rows = [(str(a.id), a.name, a.method, a.url, ", ".join(a.tags)) for a in apis]
    cli.say(cli.format_table(("ID", "NAME", "METHOD", "URL", "TAGS"), rows))
    return cli.EXIT_OK


def cmd_api_export(args: argparse.Namespace) -> int:
    cli = cli_module()
    from flowdesk.interchange.canonical_json import dumps_canonical
    from flowdesk.services.api_library import ApiLibraryService

    with cli.open_database(args) as db:
        document = ApiLibraryService(db).export_openapi(title=args.title, environment=args.env)
    out = Path(args.output)
    if out.suffix.lower() in (".yaml", ".yml"):
        import yaml

        text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    else:
        text = dumps_canonical(document) + "\n"
    tmp = out.with_name(out.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
    except OSError as err:
        raise InvalidInputError(f"Cannot write {out}: {err.strerror or err}.") from None
    cli.say(f"Wrote {len(document.get('paths', {}))} paths to {out}.")
    return cli.EXIT_OK


# -- env ------------------------------------------------------------------------------------------------


def add_env(subparsers: Any) -> None:
    """`flowdesk env list|show|set|unset|use|delete`."""
    actions = add_action_group(subparsers, "env", "environments: named sets of {{env.*}} variables")
    add_action(actions, "list", "list the environments (* marks the active one)", cmd_env_list)
    p = add_action(actions, "show", "show an environment's variables", cmd_env_show)
    p.add_argument("name", metavar="NAME", nargs="?", help="the environment (default: the active one)")
    p = add_action(actions, "set", "set variables (creating the environment if needed)", cmd_env_set)
    p.add_argument("name", metavar="NAME")
    p.add_argument("pairs", metavar="KEY=VALUE", nargs="+")
    p = add_action(actions, "unset", "remove a variable", cmd_env_unset)
    p.add_argument("name", metavar="NAME")
    p.add_argument("key", metavar="KEY")
    p = add_action(actions, "use", "make an environment the active one", cmd_env_use)
    p.add_argument("name", metavar="NAME")
    p = add_action(actions, "delete", "delete an environment", cmd_env_delete)
    p.add_argument("name", metavar="NAME")


def cmd_env_list(args: argparse.Namespace) -> int:
    cli = cli_module()
    from flowdesk.services.environments import EnvironmentService

    with cli.open_database(args) as db:
        envs = EnvironmentService(db).list_environments()
    if not envs:
        cli.say("No environments.")
        return cli.EXIT_OK
    rows = [("*" if e.is_active else "", e.name, str(len(e.variables))) for e in envs]
    cli.say(cli.format_table(("", "NAME", "VARIABLES"), rows))
    return cli.EXIT_OK


def cmd_env_show(args: argparse.Namespace) -> int:
    cli = cli_module()
    from flowdesk.services.environments import EnvironmentService

    with cli.open_database(args) as db:
        service = EnvironmentService(db)
        env = service.get_environment(args.name) if args.name else service.get_active()
    if env is None:
        cli.say("No environment is active.")
        return cli.EXIT_OK
    cli.say(f"{env.name}{' (active)' if env.is_active else ''}")
    from flowdesk.engine.http.redaction import Redactor

    for key, value in sorted(env.variables.items()):
        if key == "http.proxy" and "{{" not in value:
            value = Redactor().url(value)  # a literal proxy password is never printed
        cli.say(f"  {key} = {value}")
    return cli.EXIT_OK


def cmd_env_set(args: argparse.Namespace) -> int:
    cli = cli_module()
    from flowdesk.services.environments import EnvironmentService

    values: dict[str, str] = {}
    for pair in args.pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"'{pair}' is not KEY=VALUE.")
        values[key.strip()] = value
    with cli.open_database(args) as db:
        env = EnvironmentService(db).set_variables(args.name, values)
    cli.say(f"Environment '{env.name}': set {', '.join(values)}{' (active)' if env.is_active else ''}.")
    return cli.EXIT_OK


def cmd_env_unset(args: argparse.Namespace) -> int:
    cli = cli_module()
    from flowdesk.services.environments import EnvironmentService

    with cli.open_database(args) as db:
        EnvironmentService(db).unset_variable(args.name, args.key)
    cli.say(f"Environment '{args.name}': removed {args.key}.")
    return cli.EXIT_OK


def cmd_env_use(args: argparse.Namespace) -> int:
    cli = cli_module()
    from flowdesk.services.environments import EnvironmentService

    with cli.open_database(args) as db:
        EnvironmentService(db).activate(args.name)
    cli.say(f"Environment '{args.name}' is now active.")
    return cli.EXIT_OK


def cmd_env_delete(args: argparse.Namespace) -> int:
    cli = cli_module()
    from flowdesk.services.environments import EnvironmentService

    with cli.open_database(args) as db:
        EnvironmentService(db).delete_environment(args.name)
    cli.say(f"Deleted environment '{args.name}'.")
    return cli.EXIT_OK


# -- secret ---------------------------------------------------------------------------------------------


def add_secret(subparsers: Any) -> None:
    """`flowdesk secret set|list|delete` (values are never printed)."""
    actions = add_action_group(subparsers, "secret", "secrets: encrypted values reached as {{secrets.NAME}}")
    p = add_action(
        actions, "set", "store a secret; the value is read from stdin or a hidden prompt", cmd_secret_set
    )
    p.add_argument("name", metavar="NAME")
    add_action(actions, "list", "list the secret names (never values)", cmd_secret_list)
    p = add_action(actions, "delete", "delete a secret", cmd_secret_delete)
    p.add_argument("name", metavar="NAME")


def _read_secret_value(name: str) -> str:
    if sys.stdin is not None and sys.stdin.isatty():
        value = getpass.getpass(f"Value of secret '{name}' (not shown): ")
    else:
        value = sys.stdin.read() if sys.stdin is not None else ""
        value = value[:-1] if value.endswith("\n") else value
        value = value[:-1] if value.endswith("\r") else value
    if not value:
        raise InvalidInputError(f"No value was given for secret '{name}'.")
    return value


def cmd_secret_set(args: argparse.Namespace) -> int:
    cli = cli_module()
    from flowdesk.services.secrets import SecretService, check_secret_name

    check_secret_name(args.name)
    value = _read_secret_value(args.name)
    with cli.open_database(args) as db:
        service = SecretService(db)
        new = service.set_secret(args.name, value)
    cli.say(
        f"Secret '{args.name}' {'stored' if new else 'changed'} (encrypted; key in {service.keys.location})."
    )
    return cli.EXIT_OK


def cmd_secret_list(args: argparse.Namespace) -> int:
    cli = cli_module()
    from flowdesk.services.secrets import SecretService

    with cli.open_database(args) as db:
        names = SecretService(db).list_secret_names()
    cli.say("\n".join(names) if names else "No secrets.")
    return cli.EXIT_OK


def cmd_secret_delete(args: argparse.Namespace) -> int:
    cli = cli_module()
    from flowdesk.services.secrets import SecretService

    with cli.open_database(args) as db:
        SecretService(db).delete_secret(args.name)
    cli.say(f"Deleted secret '{args.name}'.")
    return cli.EXIT_OK
