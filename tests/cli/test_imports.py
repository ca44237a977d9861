"""The command imports only what a command uses: ``ketaclinic --help`` and the light commands start without
scipy, numpy, matplotlib or Django (each run in a fresh interpreter, whose ``sys.modules`` is read after the
command), and the top-level help names every command as its module registers it."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from ketaclinic.cli import SUBCOMMANDS, build_parser

HEAVY = ("scipy", "numpy", "matplotlib", "django")
PROBE = (
    "import contextlib, io, json, sys\n"
    "from ketaclinic.cli import main\n"
    "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
    "    try:\n"
    "        code = main(sys.argv[1:])\n"
    "    except SystemExit as exc:\n"
    "        code = exc.code\n"
    "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'numpy', 'matplotlib', 'django'})\n"
    "print(json.dumps({'code': code, 'heavy': heavy, 'out': out.getvalue()}))\n"
)


def run(*argv: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["pk", "--help"],
        ["pk", "models"],
        ["protocol", "list"],
        ["instrument", "list"],
        ["instrument", "score", "phq9", "--answers", "1,2,0,3,1,0,2,1,0"],
    ],
    ids=" ".join,
)
def test_light_commands_load_neither_the_math_libraries_nor_django(argv):
    result = run(*argv)
    assert result["code"] in (0, None)
    assert result["out"]  # the command did its work (help or output)
    assert result["heavy"] == []


def test_a_command_that_computes_loads_what_it_needs():
    result = run(
        "pk", "simulate", "--model", "domino", "--weight", "70kg", "--bolus", "10mg", "--until", "5min"
    )
    assert result["code"] == 0 and "peak" in result["out"]
    assert "numpy" in result["heavy"] and "django" not in result["heavy"]


def test_the_top_level_help_names_each_command_as_its_module_does():
    full = build_parser()
    subparsers: Any = full._subparsers
    (action,) = subparsers._group_actions
    registered = {c.dest: c.help for c in action._choices_actions}
    assert registered == {name: help_text for name, (_module, help_text) in SUBCOMMANDS.items()}
