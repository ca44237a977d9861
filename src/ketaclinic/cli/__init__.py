"""The ``ketaclinic`` command.

Each subcommand lives in its own module of this package and exposes ``register(subparsers)``, which
adds its parser and sets ``func`` to a callable taking the parsed arguments and returning an exit code, or
to ``"module:function"`` naming one (imported only when the command runs). Every command that computes
something takes ``--json`` for machines. Exit status 2 means the input was refused (with a message on
stderr naming the value and the allowed range).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib import import_module

from ketaclinic.core.errors import DomainError

# command -> (its module, its one-line help). Only the module of the command being run is imported, so
# ``ketaclinic --help`` loads neither Django nor numpy, and a command loads only what it uses. A new
# command is one line here and a module with ``register(sub)``.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "manage": ("ketaclinic.cli.manage", "Run a Django management command (migrate, runserver, ...)."),
    "serve": (
        "ketaclinic.cli.serve",
        "Run the production server (gunicorn, production settings, static files collected).",
    ),
    "protocol": ("ketaclinic.cli.protocol", "List, check and describe protocol documents."),
    "dose": ("ketaclinic.cli.dose", "Dose, rate and pump program for a session under a protocol."),
    "pk": ("ketaclinic.cli.pk", "Predicted ketamine concentrations (PK models)."),
    "instrument": ("ketaclinic.cli.instrument", "List questionnaires and score one administration."),
}
SUBCOMMAND_MODULES: tuple[str, ...] = tuple(module for module, _ in SUBCOMMANDS.values())


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``command``, only that command's module is imported (the others are named only)."""
    parser = argparse.ArgumentParser(prog="ketaclinic", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in SUBCOMMANDS.items():
        if command is None or name == command:
            import_module(module).register(sub)
        else:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def handler(func: Callable[[argparse.Namespace], int] | str) -> Callable[[argparse.Namespace], int]:
    """A command's handler, importing its module now when it is named as ``"module:function"``."""
    if isinstance(func, str):
        module, name = func.split(":")
        found: Callable[[argparse.Namespace], int] = getattr(import_module(module), name)
        return found
    return func


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "manage":  # hand everything after "manage" to Django untouched
        from ketaclinic.cli.manage import run_manage

        return run_manage(argv[1:])
    parser = build_parser(argv[0] if argv and argv[0] in SUBCOMMANDS else "")
    args = parser.parse_args(argv)
    try:
        return int(handler(args.func)(args) or 0)
    except DomainError as exc:
        print(f"ketaclinic: {exc.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
