"""Every response carries a request id (the proxy's when it sent a sane one) and every log line of the
request names it, so one request can be followed from the proxy through the server to the database."""

from __future__ import annotations

import importlib
import io
import json
import logging
import logging.config
import uuid

import pytest

pytestmark = pytest.mark.django_db


def test_a_sane_incoming_request_id_is_kept_and_echoed(client):
    given = uuid.uuid4().hex
    response = client.get("/healthz", HTTP_X_REQUEST_ID=given)
    assert response["X-Request-ID"] == given


def test_a_request_without_an_id_gets_a_fresh_one_each_time(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert uuid.UUID(first) and uuid.UUID(second)
    assert first != second


@pytest.mark.parametrize("given", ["'; DROP TABLE x; --", "a" * 5000, "not-a-uuid\nInjected: 1"])
def test_an_insane_incoming_id_is_replaced(client, given):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=given)
    assert response["X-Request-ID"] != given
    assert uuid.UUID(response["X-Request-ID"])


def production_json_handler(monkeypatch, stream: io.StringIO) -> logging.Handler:
    """A handler made from the production settings' LOGGING (formatter and filters), writing to ``stream``."""
    for name in ("DJANGO_SECRET_KEY", "KETACLINIC_AUDIT_KEY", "KETACLINIC_REDIS_URL"):
        monkeypatch.setenv(name, "set-for-the-test")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///unused.sqlite3")
    production = importlib.import_module("ketaclinic.web.settings.production")
    conf = production.LOGGING
    configurator = logging.config.DictConfigurator({})
    handler = logging.StreamHandler(stream)
    handler.setFormatter(configurator.configure_custom(dict(conf["formatters"]["json"])))
    for name in conf["handlers"]["console"]["filters"]:
        handler.addFilter(configurator.configure_custom(dict(conf["filters"][name])))
    return handler


def test_a_production_log_line_is_json_with_the_request_id(client, monkeypatch):
    stream = io.StringIO()
    handler = production_json_handler(monkeypatch, stream)
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        given = uuid.uuid4().hex
        response = client.get("/no-such-page/", HTTP_X_REQUEST_ID=given)  # a 404 is logged by Django
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 404
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines, "Django logged nothing for the unknown page"
    assert lines[-1]["request_id"] == given
    assert lines[-1]["level"] == "WARNING"
    assert lines[-1]["time"].endswith("+00:00")
    assert "/no-such-page/" in lines[-1]["message"]
