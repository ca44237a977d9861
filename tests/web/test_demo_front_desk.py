"""The demo clinic's front desk: requests for an assessment waiting in the intake queue, and staff
records with NPI, DEA registration and a licence that expires soon."""

from __future__ import annotations

import pytest

from ketaclinic.accounts.models import StaffLicence, User
from ketaclinic.inquiries.models import Inquiry
from ketaclinic.web.demo import demo_load

pytestmark = pytest.mark.django_db


def test_demo_has_open_requests_and_staff_credentials(client):
    assert demo_load() is True
    assert Inquiry.objects.filter(status="open").count() == 4
    assert Inquiry.objects.filter(status="closed", close_reason="spam").count() == 1
    rivera = User.objects.get(username="dr.rivera")
    assert (rivera.npi, rivera.dea_number) == ("1987654328", "BR1234563")
    assert StaffLicence.objects.filter(user__username="nurse.patel", kind="RN").exists()
    client.post("/accounts/login/", {"username": "intake.jones", "password": "ketaclinic-demo"})
    page = client.get("/intake/inquiries/").content.decode()
    assert page.index("Rosa Quintero") < page.index("Marcus Bell") < page.index("Hana Sato")
    assert "Leo Fischer" in page
