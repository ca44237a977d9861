"""The PDFs of the discharge instructions and the MAR: laid out by WeasyPrint from the printable pages' own
templates, read back with poppler's ``pdftotext`` page by page (Debian's poppler-utils; ``make test``
installs it). Set ``KETACLINIC_PDF_DIR`` to keep the PDFs for looking at (``pdftoppm -png -r 80``)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from ketaclinic.audit.models import AuditEntry
from ketaclinic.base.pdf import pdf_filename
from ketaclinic.core.access import Role
from ketaclinic.infusions import services as s
from ketaclinic.infusions.models import InfusionSession
from tests.clock import advance, advance_to
from tests.infusions.conftest import fresh, schedule, start_infusion, walk

pytestmark = pytest.mark.django_db

PDFTOTEXT = shutil.which("pdftotext")
KEEP = os.environ.get("KETACLINIC_PDF_DIR", "")


def pages(response, name: str) -> list[str]:
    """The PDF response's text, one string per page (whitespace collapsed)."""
    assert response.status_code == 200, response.content[:400]
    assert response["Content-Type"] == "application/pdf"
    return pdf_pages(response.content, name)


def pdf_pages(content: bytes, name: str) -> list[str]:
    if PDFTOTEXT is None:
        pytest.fail("pdftotext is missing: install Debian's poppler-utils (`make system-deps` does).")
    assert content.startswith(b"%PDF-")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(KEEP or tmp) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        raw = subprocess.run(
            [PDFTOTEXT, "-layout", str(path), "-"],
            capture_output=True,
            check=True,  # noqa: S603
            text=True,
        ).stdout
    return [re.sub(r"\s+", " ", p) for p in raw.split("\f") if p.strip()]


def disposition(response) -> str:
    match = re.fullmatch(r'inline; filename="([^"]+)"', response["Content-Disposition"])
    assert match, response["Content-Disposition"]
    return match[1]


def local(session: InfusionSession):
    from zoneinfo import ZoneInfo

    return ZoneInfo(session.location.timezone)


def test_discharge_instructions_pdf_has_everything_the_page_has(session, nurse, prescriber, client_for):
    session.location.phone = "(212) 555-0147"
    session.location.save(update_fields=["phone"])
    session = walk(session, "discharged", nurse=nurse, prescriber=prescriber)
    client = client_for(nurse)
    before = AuditEntry.objects.order_by("-seq").first().seq
    r = client.get(f"/sessions/{session.external_id}/instructions.pdf")
    (text,) = pages(r, "instructions.pdf")  # one page
    day = timezone.localtime(session.scheduled_start, local(session))
    assert disposition(r) == f"discharge-instructions-{session.patient.mrn}-{day.date().isoformat()}.pdf"
    assert r["Cache-Control"] == "no-store, private"
    discharged = timezone.localtime(session.discharged_at, local(session)).strftime("%H:%M")
    for words in (
        "After your ketamine infusion",
        "Do not drive",
        "operate machinery for 24 hours",
        "No alcohol or recreational drugs for 48 hours",
        "No major decisions",
        "for 24 hours",
        f"call the clinic at {session.location.phone}",
        "988",
        "Suicide & Crisis Lifeline",
        "911",
        session.patient.display_name,
        day.strftime("%A %-d %B %Y"),
        f"discharged at {discharged}",
        "going home with Ana Garcia (sister)",
        session.location.name,
        "Escort:",
        "Nurse:",
        "Page 1 of 1",
    ):
        assert words in text, words
    assert "Sign out" not in text and "Dashboard" not in text  # the site's navigation stays out
    (entry,) = AuditEntry.objects.filter(seq__gt=before, action="view")
    assert entry.patient_external_id == session.patient.external_id
    assert entry.detail["read"] == ["discharge instructions (PDF)"]


def test_long_instructions_run_over_pages_numbered_with_the_patient_on_each(session, nurse, prescriber):
    from ketaclinic.base.pdf import pdf_bytes

    session = walk(session, "discharged", nurse=nurse, prescriber=prescriber)
    with timezone.override(local(session)):
        body = pdf_bytes(
            "infusions/instructions.html",
            {
                "session": session,
                "protocol_instructions": "Sip water and rest between meals today. " * 200,
                "escort": "Ana Garcia (sister)",
                "printed_at": timezone.now(),
            },
        )
    texts = pdf_pages(body, "instructions-long.pdf")
    assert len(texts) >= 2
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {len(texts)}" in text and session.patient.display_name in text, number
    assert "Nurse:" in texts[-1]


def test_the_html_pages_link_to_their_pdfs(session, nurse, prescriber, client_for):
    session = walk(session, "discharged", nurse=nurse, prescriber=prescriber)
    client = client_for(nurse)
    live = client.get(f"/sessions/{session.external_id}/").content.decode()
    assert (
        f"/sessions/{session.external_id}/instructions.pdf" in live
        and f"/sessions/{session.external_id}/mar.pdf" in live
    )
    assert (
        f"/sessions/{session.external_id}/instructions.pdf"
        in client.get(f"/sessions/{session.external_id}/instructions/").content.decode()
    )
    assert (
        f"/sessions/{session.external_id}/mar.pdf"
        in client.get(f"/sessions/{session.external_id}/mar/").content.decode()
    )
    patient_mar = f"/sessions/patient/{session.patient.external_id}/mar.pdf"
    assert patient_mar in client.get(f"/sessions/patient/{session.patient.external_id}/mar/").content.decode()
    assert patient_mar in client.get(f"/sessions/patient/{session.patient.external_id}/").content.decode()


def test_session_mar_pdf_has_ketamine_with_times_rates_and_total_and_the_rescue_medication(
    session, nurse, prescriber, client_for, staff
):
    session = walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber)
    began = start_infusion(session, nurse=nurse, prescriber=prescriber)
    session = fresh(session)
    advance_to(began + timedelta(minutes=20))
    s.infusion_rate_change(
        user=nurse,
        session=session,
        expected_version=session.version,
        rate_mg_per_h=20,
        reason="BP 165/98",
        signer=prescriber,
        read_back=True,
        at=began + timedelta(minutes=20),
    )
    session = fresh(session)
    advance_to(began + timedelta(minutes=25))
    s.administration_record(
        user=nurse,
        session=session,
        expected_version=session.version,
        medication="ondansetron",
        dose="4",
        unit="mg",
        route="iv",
        reason="Nausea",
        at=began + timedelta(minutes=25),
    )
    session = fresh(session)
    advance_to(began + timedelta(minutes=40))
    s.infusion_stop(
        user=nurse, session=session, expected_version=session.version, at=began + timedelta(minutes=40)
    )
    session = fresh(session)
    r = client_for(staff[Role.BILLING]).get(f"/sessions/{session.external_id}/mar.pdf")
    (text,) = pages(r, "mar-session.pdf")
    zone = local(session)
    assert (
        disposition(r)
        == f"mar-{session.patient.mrn}-{timezone.localtime(session.scheduled_start, zone).date()}.pdf"
    )
    ketamine = session.administrations.get(medication="ketamine")
    hhmm = [
        timezone.localtime(t, zone).strftime("%H:%M")
        for t in (
            began,
            began + timedelta(minutes=20),
            began + timedelta(minutes=25),
            began + timedelta(minutes=40),
        )
    ]
    total = f"{ketamine.dose.normalize():f} mg"
    for words in (
        "Medication administration record",
        session.patient.display_name,
        f"MRN {session.patient.mrn}",
        "born 1985-04-12",
        "Ketamine",
        total,
        "total infused",
        f"{hhmm[0]}–{hhmm[3]}",
        "Rate history",
        "20.0 mg/h",
        "BP 165/98",
        str(prescriber),
        "Ondansetron",
        "4 mg",
        "iv",
        hhmm[2],
        "Nausea",
        str(nurse),
        "record as of",
        "Reviewed by",
        "Page 1 of 1",
    ):
        assert words in text, words


def test_patient_mar_pdf_spans_pages_with_the_patient_on_each(
    patient, nurse, prescriber, depression, chair, client_for
):
    n = 7
    for i in range(n):
        if i:
            advance(7 * 24 * 60)  # a week later
        session = schedule(nurse, patient, depression, chair, when=timezone.now() - timedelta(minutes=10))
        session = walk(
            session,
            "prechecks_done",
            nurse=nurse,
            prescriber=prescriber,
            start=timezone.now() - timedelta(minutes=5),
        )
        began = start_infusion(session, nurse=nurse, prescriber=prescriber)
        for k, rate in enumerate((20, 30, 25)):
            session = fresh(session)
            advance_to(began + timedelta(minutes=5 + 5 * k))
            s.infusion_rate_change(
                user=nurse,
                session=session,
                expected_version=session.version,
                rate_mg_per_h=rate,
                reason=f"Titration {i}.{k}",
                signer=prescriber,
                read_back=True,
                at=began + timedelta(minutes=5 + 5 * k),
            )
        session = fresh(session)
        advance_to(began + timedelta(minutes=22))
        s.administration_record(
            user=nurse,
            session=session,
            expected_version=session.version,
            medication="ondansetron",
            dose="4",
            unit="mg",
            route="iv",
            reason=f"Nausea in session {i}",
            at=began + timedelta(minutes=22),
        )
        session = fresh(session)
        advance_to(began + timedelta(minutes=40))
        s.infusion_stop(
            user=nurse, session=session, expected_version=session.version, at=began + timedelta(minutes=40)
        )
    r = client_for(prescriber).get(f"/sessions/patient/{patient.external_id}/mar.pdf")
    texts = pages(r, "mar-patient.pdf")
    assert disposition(r) == f"mar-{patient.mrn}-all-sessions.pdf"
    assert len(texts) >= 2, "seven sessions with their rate histories should need more than one Letter page"
    for number, text in enumerate(texts, start=1):
        for words in (
            patient.display_name,
            f"MRN {patient.mrn}",
            "born 1985-04-12",
            "record as of",
            f"Page {number} of {len(texts)}",
            "DATE MEDICATION DOSE ROUTE TIME GIVEN BY REASON",
        ):
            assert words in text, (number, words)
        assert text.count("total infused") == text.count("Rate history"), number  # never split from its rates
    everything = " ".join(texts)
    for i in range(n):  # nothing lost at a page break
        assert f"Nausea in session {i}" in everything and f"Titration {i}.2" in everything, i
    assert everything.count("total infused") == n


def test_pdfs_are_refused_like_their_pages(session, nurse, prescriber, client_for, staff, other_patient):
    session = walk(session, "discharged", nurse=nurse, prescriber=prescriber)
    billing, intake = client_for(staff[Role.BILLING]), client_for(staff[Role.INTAKE])
    assert billing.get(f"/sessions/{session.external_id}/instructions.pdf").status_code == 403  # session.view
    assert billing.get(f"/sessions/{session.external_id}/mar.pdf").status_code == 200  # mar.view
    for url in (
        f"/sessions/{session.external_id}/instructions.pdf",
        f"/sessions/{session.external_id}/mar.pdf",
        f"/sessions/patient/{session.patient.external_id}/mar.pdf",
    ):
        assert intake.get(url).status_code == 403, url
    assert client_for(nurse).get(f"/sessions/patient/{other_patient.external_id}/mar.pdf").status_code == 403
    assert client_for(nurse).get("/sessions/00000000-0000-0000-0000-000000000000/mar.pdf").status_code == 404


def test_pdf_filenames_are_safe():
    assert pdf_filename("mar", 'K-00/12"3', "all sessions") == "mar-K-00123-all-sessions.pdf"


def test_a_template_cannot_make_the_pdf_fetch_anything():
    from weasyprint.urls import FatalURLFetchingError

    from ketaclinic.base.pdf import pdf_from_html

    for url in ("file:///etc/passwd", "http://127.0.0.1:9/x.png"):
        with pytest.raises(FatalURLFetchingError):
            pdf_from_html(f'<p>x</p><img src="{url}">')
    assert pdf_from_html("<p>x</p>").startswith(b"%PDF-")
