"""One thread for the math libraries in the web process.

The session chart computes 5x5 matrix exponentials (scipy) and draws with matplotlib; with the libraries'
defaults OpenBLAS/OpenMP start a thread per core for each of them, and under load those threads fight the
server's own for the cores (one expm took 105-501 ms with the defaults against 18-84 ms with one thread).
The limits are read once, when numpy first loads its BLAS, so they are set before anything imports numpy:
in ``web/wsgi.py``, ``web/asgi.py`` and ``ketaclinic serve`` (which hands them to every server process).
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

MATH_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def math_threads_limit(environ: MutableMapping[str, str] | None = None) -> None:
    """Set every math library's thread count to one in ``environ`` (the process's own by default)."""
    target = os.environ if environ is None else environ
    for name in MATH_THREAD_VARIABLES:
        target[name] = "1"
