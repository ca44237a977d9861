"""The ``ketaclinic`` command.

Each subcommand lives in its own module of this package and exposes ``register(subparsers)``, which
adds its parser and sets ``func`` to a callable taking the parsed arguments and returning an exit code.
Every command that computes something takes ``--json`` for machines. Exit status 2 means the input
was refused (with a message on stderr naming the value and the allowed range).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import import_module

from ketaclinic.core.errors import DomainError

# Modules are imported lazily by name so a command that needs no Django never loads it.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "ketaclinic.cli.manage",
    "ketaclinic.cli.serve",
    "ketaclinic.cli.protocol",
    "ketaclinic.cli.dose",
    "ketaclinic.cli.pk",
    "ketaclinic.cli.instrument",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ketaclinic", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "manage":  # hand everything after "manage" to Django untouched
        from ketaclinic.cli.manage import run_manage

        return run_manage(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DomainError as exc:
        print(f"ketaclinic: {exc.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
