"""Every staff page renders for a role that may see it, signed in through the real sign-in flow."""

from __future__ import annotations

import pytest

from ketaclinic.core.access import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", list(Role))
def test_dashboard_renders_for_every_role(role, staff, protocols, client_for):
    response = client_for(staff[role]).get("/dashboard/")
    assert response.status_code == 200
    assert staff[role].role_label.encode() in response.content


def test_chart_renders_for_a_prescriber(staff, patient, protocols, client_for):
    response = client_for(staff[Role.PRESCRIBER]).get(f"/patients/{patient.external_id}/")
    assert response.status_code == 200
    assert patient.mrn.encode() in response.content


def test_openapi_document_is_served(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/patients" in paths
    assert "/api/screening/screenings/{external_id}/sign" in paths
