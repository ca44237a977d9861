"""``ketaclinic serve``: the production server (gunicorn) with the production settings.

It collects the static files first (hashed names, compressed copies; WhiteNoise serves them), then replaces
itself with gunicorn, so a process supervisor's signals reach the server directly. Workers and threads come
from the cores this process may use (gunicorn's rule: two workers a core plus one, four threads each) unless
``--workers``/``--threads`` or KETACLINIC_WEB_WORKERS/KETACLINIC_WEB_THREADS say otherwise. The math
libraries run one thread in every server process (``ketaclinic.base.math_threads``).

Run it behind a TLS proxy (the production settings redirect plain HTTP to https, except /healthz and /readyz).
``--print`` shows the command it would run and starts nothing.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Mapping, MutableMapping

from ketaclinic.base.math_threads import math_threads_limit
from ketaclinic.cli.manage import run_manage
from ketaclinic.core.errors import DomainError

PRODUCTION_SETTINGS = "ketaclinic.web.settings.production"
THREADS_PER_WORKER = 4
MAX_WORKERS = 64
MAX_THREADS = 64


def usable_cores() -> int:
    """The cores this process may run on (a container's or taskset's limit, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _count(name: str, given: int | None, environ: Mapping[str, str], default: int, most: int) -> int:
    raw: object = given if given is not None else environ.get(f"KETACLINIC_WEB_{name.upper()}")
    if raw is None or raw == "":
        return default
    try:
        value = int(str(raw))
    except ValueError:
        value = 0
    if not 1 <= value <= most:
        raise DomainError(f"{name}: {raw} is not allowed; give a whole number from 1 to {most}.")
    return value


def gunicorn_argv(
    *, host: str, port: int, workers: int | None, threads: int | None, environ: Mapping[str, str], cores: int
) -> list[str]:
    """The gunicorn command line for these options (and KETACLINIC_WEB_* in ``environ``)."""
    w = _count("workers", workers, environ, 2 * cores + 1, MAX_WORKERS)
    t = _count("threads", threads, environ, THREADS_PER_WORKER, MAX_THREADS)
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "ketaclinic.web.wsgi:application",
        f"--bind={host}:{port}",
        f"--workers={w}",
        f"--threads={t}",
        "--worker-class=gthread",
        "--timeout=60",
        "--graceful-timeout=30",
        "--max-requests=5000",  # a worker is replaced now and then (bounds any slow leak)
        "--max-requests-jitter=500",
        "--logger-class=ketaclinic.web.logs.JsonServerLogger",
        "--access-logfile=-",
        "--error-logfile=-",
    ]


def server_environ(environ: MutableMapping[str, str]) -> MutableMapping[str, str]:
    environ.setdefault("DJANGO_SETTINGS_MODULE", PRODUCTION_SETTINGS)
    math_threads_limit(environ)
    return environ


def serve(args: argparse.Namespace) -> int:
    environ = server_environ(os.environ)
    argv = gunicorn_argv(
        host=args.host,
        port=args.port,
        workers=args.workers,
        threads=args.threads,
        environ=environ,
        cores=usable_cores(),
    )
    if args.print:
        print(shlex.join(argv))
        return 0
    if not args.no_collectstatic:
        run_manage(["collectstatic", "--noinput", "--verbosity=0"])
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, argv, dict(environ))  # noqa: S606 (our own interpreter, fixed arguments)
    return 1  # pragma: no cover - execve does not return


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve", help="Run the production server (gunicorn, production settings, static files collected)."
    )
    p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"), help="address to listen on")
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")), help="port")
    p.add_argument("--workers", type=int, help="server processes (default: 2 per core + 1)")
    p.add_argument("--threads", type=int, help=f"threads per process (default {THREADS_PER_WORKER})")
    p.add_argument("--no-collectstatic", action="store_true", help="skip collecting the static files")
    p.add_argument("--print", action="store_true", help="print the server's command line and start nothing")
    p.set_defaults(func=serve)
