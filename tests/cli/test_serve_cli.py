"""``ketaclinic serve`` builds the production server's command line from the cores (overridable) and hands
every server process the production settings and one math-library thread. Nothing is started here."""

from __future__ import annotations

import pytest

from ketaclinic.base.math_threads import MATH_THREAD_VARIABLES
from ketaclinic.cli import main
from ketaclinic.cli.serve import PRODUCTION_SETTINGS, THREADS_PER_WORKER, gunicorn_argv, server_environ


def option(argv: list[str], name: str) -> str:
    values = [a.split("=", 1)[1] for a in argv if a.startswith(f"--{name}=")]
    assert len(values) == 1, argv
    return values[0]


@pytest.mark.parametrize("cores", [1, 2, 8])
def test_workers_follow_the_cores(cores):
    argv = gunicorn_argv(host="127.0.0.1", port=8000, workers=None, threads=None, environ={}, cores=cores)
    assert argv[1:4] == ["-m", "gunicorn", "ketaclinic.web.wsgi:application"]
    assert int(option(argv, "workers")) == 2 * cores + 1
    assert int(option(argv, "threads")) == THREADS_PER_WORKER
    assert option(argv, "bind") == "127.0.0.1:8000"
    assert option(argv, "logger-class") == "ketaclinic.web.logs.JsonServerLogger"


def test_options_override_the_environment_which_overrides_the_cores():
    environ = {"KETACLINIC_WEB_WORKERS": "3", "KETACLINIC_WEB_THREADS": "6"}
    from_env = gunicorn_argv(host="0.0.0.0", port=9000, workers=None, threads=None, environ=environ, cores=4)
    assert (option(from_env, "workers"), option(from_env, "threads")) == ("3", "6")
    given = gunicorn_argv(host="0.0.0.0", port=9000, workers=2, threads=1, environ=environ, cores=4)
    assert (option(given, "workers"), option(given, "threads")) == ("2", "1")


@pytest.mark.parametrize(
    ("args", "field", "value"), [(["--workers", "0"], "workers", "0"), ([], "threads", "x")]
)
def test_an_impossible_count_is_refused_with_its_range(args, field, value, monkeypatch, capsys):
    monkeypatch.setenv("KETACLINIC_WEB_THREADS", "x" if field == "threads" else "2")
    assert main(["serve", "--print", *args]) == 2
    err = capsys.readouterr().err
    assert f"{field}: {value} is not allowed" in err
    assert "from 1 to 64" in err


def test_print_shows_the_command_and_starts_nothing(monkeypatch, capsys):
    monkeypatch.delenv("KETACLINIC_WEB_THREADS", raising=False)
    assert main(["serve", "--print", "--workers", "3", "--port", "8123"]) == 0
    out = capsys.readouterr().out
    assert "gunicorn ketaclinic.web.wsgi:application" in out
    assert "--workers=3" in out
    assert "--bind=127.0.0.1:8123" in out


def test_the_server_gets_production_settings_and_one_math_thread():
    environ = server_environ({"OPENBLAS_NUM_THREADS": "8"})
    assert environ["DJANGO_SETTINGS_MODULE"] == PRODUCTION_SETTINGS
    assert {environ[name] for name in MATH_THREAD_VARIABLES} == {"1"}
    assert server_environ({"DJANGO_SETTINGS_MODULE": "mysite.settings"})["DJANGO_SETTINGS_MODULE"] == (
        "mysite.settings"
    )
