"""The production server as it runs: one BLAS thread in the web process, static files with hashed names and
compressed copies, and (on PostgreSQL) ``ketaclinic serve`` answering on a free port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.db import connection

from ketaclinic.base.math_threads import MATH_THREAD_VARIABLES

ROOT = Path(__file__).resolve().parents[2]
KETACLINIC = str(Path(sys.executable).parent / "ketaclinic")

BLAS_THREADS = """
import json, sys
{prelude}
import numpy, scipy.linalg
scipy.linalg.expm(numpy.eye(5))  # the session chart's computation starts the math library
from threadpoolctl import threadpool_info
print(json.dumps([p["num_threads"] for p in threadpool_info()]))
"""


def production_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in MATH_THREAD_VARIABLES}
    env.update(
        DJANGO_SETTINGS_MODULE="ketaclinic.web.settings.production",
        DJANGO_SECRET_KEY="tests-only-secret-key-" + "x" * 40,
        KETACLINIC_AUDIT_KEY="tests-only-audit-key",
        KETACLINIC_REDIS_URL="redis://127.0.0.1:6379/15",
        DATABASE_URL=database_url,
        KETACLINIC_VAR_DIR=str(tmp_path),
        KETACLINIC_AUDIT_CHECKPOINT_FILE=str(tmp_path / "checkpoints.jsonl"),
    )
    return env


def blas_threads(prelude: str, env: dict[str, str]) -> list[int]:
    out = subprocess.run(
        [sys.executable, "-c", BLAS_THREADS.format(prelude=prelude)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: the libraries run one thread anyway")
def test_the_web_process_runs_one_blas_thread(tmp_path):
    env = production_env(tmp_path, f"sqlite:///{tmp_path / 'unused.sqlite3'}")
    assert max(blas_threads("", env)) > 1  # the libraries' default on this machine: a thread per core
    threads = blas_threads("import ketaclinic.web.wsgi", env)
    assert threads and set(threads) == {1}


def test_static_files_get_hashed_names_and_compressed_copies(tmp_path):
    env = production_env(tmp_path, f"sqlite:///{tmp_path / 'unused.sqlite3'}")
    subprocess.run(
        [KETACLINIC, "manage", "collectstatic", "--noinput", "--verbosity=0"],
        env=env,
        check=True,
        timeout=300,
        cwd=ROOT,
    )
    static = tmp_path / "static"
    manifest = json.loads((static / "staticfiles.json").read_text())["paths"]
    hashed = static / manifest["css/ketaclinic.css"]
    assert hashed.name != "ketaclinic.css" and hashed.name.startswith("ketaclinic.")
    original = (static / "css" / "ketaclinic.css").read_bytes()
    assert hashed.with_name(hashed.name + ".gz").stat().st_size < len(original)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as r:  # noqa: S310
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="the server needs a shared database"
)
def test_ketaclinic_serve_answers_on_the_test_database(tmp_path, db):
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    port = _free_port()
    log = (tmp_path / "server.log").open("w+")
    server = subprocess.Popen(
        [KETACLINIC, "serve", f"--port={port}", "--workers=1", "--threads=2"],
        env=production_env(tmp_path, url),
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # collectstatic first (a few seconds), then gunicorn
            try:
                if _get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                assert server.poll() is None, "ketaclinic serve stopped"
                time.sleep(0.1)
        given = uuid.uuid4().hex
        status, headers, body = _get(f"{base}/readyz", **{"X-Request-ID": given})
        assert (status, body) == (200, b"ready")
        assert headers["X-Request-ID"] == given
        manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
        status, headers, _ = _get(
            f"{base}/static/{manifest['css/ketaclinic.css']}",
            **{"Accept-Encoding": "gzip", "X-Forwarded-Proto": "https"},
        )
        assert status == 200 and headers["Content-Encoding"] == "gzip"
        assert "immutable" in headers["Cache-Control"]
        status, headers, _ = _get(f"{base}/accounts/login/")  # plain HTTP is sent to https (the TLS proxy)
        assert status == 301 and headers["Location"].startswith("https://")
    finally:
        server.terminate()
        server.wait(timeout=30)
    log.seek(0)
    access = [json.loads(line) for line in log if line.startswith("{") and '"request"' in line]
    readyz = [line for line in access if line.get("path") == "/readyz"]
    assert readyz and readyz[0]["request_id"] == given and readyz[0]["status"] == 200
