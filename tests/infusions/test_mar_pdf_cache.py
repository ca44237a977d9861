"""The MAR's PDF is laid out once per content: asked again with nothing changed (by anyone allowed to read
it) the same bytes come from the cache without WeasyPrint; a new medication, a rate change or the stop
changes what the MAR shows and always gives a fresh PDF. Every request is still a read in the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ketaclinic.audit.models import AuditEntry
from ketaclinic.base import pdf
from ketaclinic.core.access import Role
from ketaclinic.infusions import services as s
from tests.clock import advance_to
from tests.infusions.conftest import fresh, start_infusion, walk
from tests.infusions.test_pdf import pdf_pages

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def every_read_counted(settings):
    """Each request's read is its own audit entry (not folded into one made a moment before)."""
    settings.KETACLINIC_AUDIT_READ_REPEAT_MINUTES = 0


@pytest.fixture
def laid_out(monkeypatch) -> list[int]:
    """One item per PDF WeasyPrint lays out."""
    made: list[int] = []
    real = pdf.pdf_from_html

    def counted(html: str) -> bytes:
        made.append(1)
        return real(html)

    monkeypatch.setattr(pdf, "pdf_from_html", counted)
    return made


def reads(what: str) -> int:
    return sum(1 for e in AuditEntry.objects.filter(action="view") if what in e.detail.get("read", []))


def give(nurse, session, medication: str, dose: str, at, reason: str) -> None:
    session = fresh(session)
    advance_to(at)
    s.administration_record(
        user=nurse,
        session=session,
        expected_version=session.version,
        medication=medication,
        dose=dose,
        unit="mg",
        route="iv",
        reason=reason,
        at=at,
    )


def test_an_unchanged_session_mar_is_laid_out_once_and_every_change_gives_a_fresh_pdf(
    session, nurse, prescriber, staff, client_for, laid_out
):
    session = walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber)
    began = start_infusion(session, nurse=nurse, prescriber=prescriber)
    give(nurse, session, "ondansetron", "4", began + timedelta(minutes=10), "Nausea")
    url = f"/sessions/{session.external_id}/mar.pdf"
    nurse_client, billing = client_for(nurse), client_for(staff[Role.BILLING])
    first = nurse_client.get(url)
    again = billing.get(url)
    assert first.status_code == again.status_code == 200 and again["Cache-Control"] == "no-store, private"
    assert again.content == first.content and len(laid_out) == 1  # the second copy is not laid out again
    assert reads("medication administration record (session, PDF)") == 2  # each request is a read
    (text,) = pdf_pages(first.content, "mar-first.pdf")
    assert "Ondansetron" in text and "record as of" in text and "Ketamine" not in text  # written at the stop

    give(nurse, session, "ondansetron", "4", began + timedelta(minutes=20), "Nausea again")  # new
    after_dose = nurse_client.get(url)
    assert len(laid_out) == 2 and after_dose.content != first.content
    assert "Nausea again" in pdf_pages(after_dose.content, "mar-dose.pdf")[0]

    session = fresh(session)
    advance_to(began + timedelta(minutes=40))
    s.infusion_stop(
        user=nurse, session=session, expected_version=session.version, at=began + timedelta(minutes=40)
    )
    stopped = billing.get(url)
    assert len(laid_out) == 3 and stopped.content != after_dose.content  # the stop: a fresh PDF
    assert "Ketamine" in (stop_text := pdf_pages(stopped.content, "mar-stop.pdf")[0])
    assert "Rate history" in stop_text
    assert billing.get(url).content == stopped.content and len(laid_out) == 3
    assert reads("medication administration record (session, PDF)") == 5


def test_the_patient_mar_is_reused_until_any_session_changes(
    session, nurse, prescriber, client_for, laid_out
):
    session = walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber)
    began = start_infusion(session, nurse=nurse, prescriber=prescriber)
    url = f"/sessions/patient/{session.patient.external_id}/mar.pdf"
    client = client_for(prescriber)
    first = client.get(url)
    assert client.get(url).content == first.content and len(laid_out) == 1
    give(nurse, session, "ondansetron", "4", began + timedelta(minutes=15), "Retching")
    changed = client.get(url)
    assert len(laid_out) == 2 and "Retching" in pdf_pages(changed.content, "mar-patient.pdf")[0]
    assert reads("medication administration record (PDF)") == 3
    page = client.get(f"/sessions/patient/{session.patient.external_id}/mar/")  # the page itself: no PDF
    assert page.status_code == 200 and len(laid_out) == 2
