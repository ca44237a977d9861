"""Tests: a fast password hasher, an in-memory SQLite database unless DATABASE_URL says PostgreSQL."""

import os

import dj_database_url

from ketaclinic.web.settings.base import *  # noqa: F403

SECRET_KEY = "ketaclinic-tests-not-secret"
KETACLINIC_AUDIT_KEY = "ketaclinic-tests-audit-key"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["*"]
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL") or "sqlite:///:memory:")}
# The replica (DATABASE_REPLICA_URL when set, else the primary's address) is a test mirror of the primary:
# Django points it at the same test database through a second connection, so a test sees which alias a page
# read from, and its rows (committed ones: a replica never sees a transaction that has not committed).
# Reports read from it only in the tests that say so (settings.KETACLINIC_REPORTS_DATABASE = "replica" and
# the replica in their databases).
DATABASES["replica"] = {
    **dj_database_url.parse(
        os.environ.get("DATABASE_REPLICA_URL") or os.environ.get("DATABASE_URL") or "sqlite:///:memory:"
    ),
    "TEST": {"MIRROR": "default"},
}
KETACLINIC_REPORTS_DATABASE = "default"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
KETACLINIC_BASE_URL = "https://clinic.example.org"
# Each test run keeps its audit checkpoints to itself (never the demo's file); tests that need one make it.
import tempfile as _tempfile  # noqa: E402

KETACLINIC_AUDIT_CHECKPOINT_FILE = os.path.join(
    _tempfile.mkdtemp(prefix="ketaclinic-audit-"), "checkpoints.jsonl"
)
