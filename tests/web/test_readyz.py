"""/readyz tells a load balancer whether this server can take a clinic's traffic; /healthz that it runs."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.db.migrations.recorder import MigrationRecorder

from ketaclinic.web import health

pytestmark = pytest.mark.django_db


def test_ready_when_the_database_answers_and_every_migration_is_applied(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.content == b"ready"
    assert "no-store" in response["Cache-Control"]


def test_not_ready_while_a_migration_is_unapplied(client):
    last = MigrationRecorder.Migration.objects.filter(app="infusions").order_by("-id").first()
    assert last is not None
    last.delete()  # as if the code had been deployed before `migrate` ran

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.content.decode() == health.NOT_READY_MIGRATIONS.format(count=1)


def test_not_ready_when_the_database_does_not_answer(client, monkeypatch):
    def refuse(self):
        raise OperationalError("connection refused")

    monkeypatch.setattr(MigrationRecorder, "applied_migrations", refuse)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.content.decode() == health.NOT_READY_DATABASE


def test_health_and_readiness_need_no_sign_in_and_healthz_ignores_the_database(client, monkeypatch):
    monkeypatch.setattr(MigrationRecorder, "applied_migrations", lambda self: {})
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503
