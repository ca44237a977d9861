"""The demo and local development: embedded SQLite, DEBUG on, a fixed non-secret key."""

from ketaclinic.web.settings.base import *  # noqa: F403
from ketaclinic.web.settings.base import VAR_DIR, env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = SECRET_KEY or "ketaclinic-demo-only-not-secret"  # noqa: F405
VAR_DIR.mkdir(parents=True, exist_ok=True)
