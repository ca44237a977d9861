"""Due questionnaires with a status, the clinic worklist, links emailed by the daily job and by "Send link
now", and the correction page."""

from __future__ import annotations

import html
import re
import smtplib
from datetime import date, datetime, time, timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Role
from ketaclinic.core.outcomes import DueStatus
from ketaclinic.messaging.models import SEND_ATTEMPTS, OutboundMessage
from ketaclinic.messaging.services import contact_preference_set
from ketaclinic.outcomes import selectors, services
from ketaclinic.outcomes.models import LinkDispatch, PatientLink, QuestionnaireResponse, SafetyFlag
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from tests.accounts.conftest import screen
from tests.conftest import register
from tests.jobs.runner import run_ready_jobs
from tests.outcomes.conftest import gad7, phq9

pytestmark = pytest.mark.django_db

SERIES_DAYS = (-10, -7, -3, 0, 4, 7)  # six infusions, twice a week; today is infusion 4's day


def day(offset: int) -> date:
    return timezone.localdate() + timedelta(days=offset)


def moment(offset: int, hour: int = 9) -> datetime:
    when = timezone.make_aware(datetime.combine(day(offset), time(hour)))
    return min(when, timezone.now() - timedelta(minutes=1))


def give_plan(patient: Patient, protocols, prescriber, intake, days=SERIES_DAYS) -> TreatmentPlan:
    plan = TreatmentPlan.objects.create(
        patient=patient,
        screening=screen(intake, patient),
        indication="trd",
        protocol_version=protocols["depression-standard"],
        series_count=len(days),
        max_per_week=2,
        min_spacing_hours=48,
        evaluation_after=3,
        status="active",
        signed_by=prescriber,
        signed_at=timezone.now(),
    )
    for n, d in enumerate(days, start=1):
        PlannedInfusion.objects.create(
            plan=plan,
            sequence=n,
            scheduled_start=moment(d, 10)
            if d <= 0
            else timezone.make_aware(datetime.combine(day(d), time(10))),
            location=patient.location,
            status="done" if d < 0 else "planned",
        )
    services.due_refresh(patient_ids=[patient.pk])  # written here without the services, refreshed as they do
    return plan


def answer(user, patient, instrument, offset, timepoint, n=None):
    answers = phq9(6) if instrument == "phq9" else gad7(5)
    return services.response_record(
        user=user,
        patient=patient,
        instrument=instrument,
        answers=answers,
        authored_at=moment(offset, 8),
        timepoint=timepoint,
        infusion_number=n,
    )


@pytest.fixture
def course(staff, patient, protocols):
    """Baseline answered; infusion 2 passed without answers; infusion 3 with PHQ-9 only; infusion 4 is
    today."""
    nurse = staff[Role.NURSE]
    give_plan(patient, protocols, staff[Role.PRESCRIBER], staff[Role.INTAKE])
    for inst in ("phq9", "gad7"):
        answer(nurse, patient, inst, -11, "baseline")
    answer(nurse, patient, "phq9", -3, "pre_infusion", 3)
    Patient.objects.filter(pk=patient.pk).update(email="maria.garcia@example.org")
    type(patient.location).objects.filter(pk=patient.location_id).update(phone="617-555-0100")
    patient.refresh_from_db()
    return patient


def statuses(items) -> dict[tuple[str, int | None, str], DueStatus]:
    return {
        (i.questionnaire.timepoint, i.questionnaire.infusion_number, i.instrument): i.status for i in items
    }


def test_each_due_questionnaire_has_a_status(course):
    s = statuses(selectors.due_status_for_patient(course))
    assert s[("baseline", None, "phq9")] is s[("baseline", None, "gad7")] is DueStatus.DONE
    assert s[("pre_infusion", 2, "phq9")] is DueStatus.OVERDUE
    assert s[("follow_up", None, "phq9")] is DueStatus.OVERDUE  # day 3, window closed day 5: still answerable
    assert (
        s[("pre_infusion", 3, "phq9")] is DueStatus.DONE
        and s[("pre_infusion", 3, "gad7")] is DueStatus.OVERDUE
    )
    assert s[("pre_infusion", 4, "phq9")] is s[("pre_infusion", 4, "gad7")] is DueStatus.DUE
    assert s[("pre_infusion", 5, "phq9")] is DueStatus.UPCOMING
    assert {v for k, v in s.items() if k[0] in ("post_series", "monthly")} == {DueStatus.UPCOMING}


def test_a_corrected_answer_still_counts_through_its_replacement_and_ad_hoc_never_counts(course, staff):
    nurse = staff[Role.NURSE]
    original = QuestionnaireResponse.objects.get(timepoint="pre_infusion", infusion_number=3)
    services.response_correct(user=nurse, response=original, answers=phq9(7), reason="Item 1 was misread")
    services.response_record(
        user=nurse,
        patient=course,
        instrument="gad7",
        answers=gad7(4),
        timepoint="ad_hoc",
        authored_at=moment(-3, 9),
    )
    s = statuses(selectors.due_status_for_patient(course))
    assert s[("pre_infusion", 3, "phq9")] is DueStatus.DONE
    assert s[("pre_infusion", 3, "gad7")] is DueStatus.OVERDUE


def test_the_worklist_lists_due_and_overdue_while_an_answer_still_counts(course, staff):
    w = selectors.questionnaire_worklist(user=staff[Role.INTAKE], location=course.location)
    rows = [
        (
            r.item.questionnaire.timepoint,
            r.item.questionnaire.infusion_number,
            r.item.instrument,
            r.item.status,
        )
        for r in w.rows
    ]
    assert rows == [
        ("follow_up", None, "gad7", DueStatus.OVERDUE),
        ("follow_up", None, "phq9", DueStatus.OVERDUE),
        ("pre_infusion", 4, "gad7", DueStatus.DUE),
        ("pre_infusion", 4, "phq9", DueStatus.DUE),
    ]
    assert all(r.sendable and not r.hand_out and r.live_link is None for r in w.rows)


def test_bulk_statuses_equal_the_patients_own(course, staff, protocols, intake, downtown):
    nurse = staff[Role.NURSE]
    no_plan = register(intake, downtown, given_name="Ana", family_name="Lopez", birth_date=date(1990, 1, 2))
    answer(nurse, no_plan, "phq9", -40, "baseline")
    answer(nurse, no_plan, "phq9", -36, "pre_infusion", 2)
    answer(nurse, no_plan, "phq9", -20, "post_series")
    other = register(intake, downtown, given_name="Ben", family_name="Okafor", birth_date=date(1970, 5, 6))
    give_plan(other, protocols, staff[Role.PRESCRIBER], intake, days=(2, 5, 9))
    everyone = selectors.worklist_patients(downtown).values_list("pk", flat=True)
    bulk = {due.patient_id: due for due in selectors.patients_due(everyone)}
    assert set(bulk) == {course.pk, no_plan.pk, other.pk}
    today = timezone.localdate()
    for p in (course, no_plan, other):
        assert tuple(d.on(today) for d in bulk[p.pk].items) == selectors.due_status_for_patient(p), p


def _more_patients(n, staff, protocols, downtown):
    for k in range(n):
        p = register(
            staff[Role.INTAKE],
            downtown,
            given_name=f"P{k}",
            family_name="Test",
            birth_date=date(1980, 1, 1 + k),
            email=f"p{k}@example.org",
        )
        give_plan(p, protocols, staff[Role.PRESCRIBER], staff[Role.INTAKE])


def test_the_worklist_takes_a_bounded_number_of_queries(
    course, staff, protocols, downtown, client_for, django_assert_max_num_queries
):
    intake = staff[Role.INTAKE]
    _more_patients(2, staff, protocols, downtown)
    with CaptureQueriesContext(connection) as few:
        selectors.questionnaire_worklist(user=intake, location=downtown)
    _more_patients(6, staff, protocols, downtown)
    with CaptureQueriesContext(connection) as many:
        w = selectors.questionnaire_worklist(user=intake, location=downtown)
    assert len(w.rows) == 9 * 4
    assert len(many) == len(few) <= 12
    client = client_for(intake)
    with django_assert_max_num_queries(30):
        page = client.get("/outcomes/worklist/?location=downtown")
    assert page.status_code == 200


def test_worklist_page_shows_statuses_and_actions(course, staff, client_for):
    page = client_for(staff[Role.INTAKE]).get("/outcomes/worklist/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Questionnaires due and overdue · Downtown" in body
    assert body.count('class="badge qs-overdue"') == 2 and body.count('class="badge qs-due"') == 2
    assert body.count("Send link now") == 4 and "Enter answers" in body
    assert "timepoint=pre_infusion&amp;infusion_number=4" in body


def test_worklist_is_for_questionnaire_recorders_at_their_own_locations(
    course, staff, client_for, other_patient
):
    assert client_for(staff[Role.BILLING]).get("/outcomes/worklist/").status_code == 403
    assert client_for(staff[Role.ADMIN]).get("/outcomes/worklist/").status_code == 403
    assert client_for(staff[Role.NURSE]).get("/outcomes/worklist/?location=northside").status_code == 403
    assert client_for(staff[Role.NURSE]).get("/outcomes/worklist/?location=nowhere").status_code == 404


def test_the_patient_page_shows_status_badges(course, staff, client_for):
    body = client_for(staff[Role.NURSE]).get(f"/outcomes/patient/{course.external_id}/").content.decode()
    assert 'class="badge qs-done"' in body and 'class="badge qs-overdue"' in body
    assert 'class="badge qs-due"' in body and 'class="badge qs-upcoming"' in body
    assert f"/outcomes/responses/{QuestionnaireResponse.objects.first().external_id}/correct/" in body


# -- the daily job ------------------------------------------------------------------------------------------

# Nothing about the patient's care: no questionnaire name, treatment or diagnosis. (The crisis sentence names
# the 988 Suicide & Crisis Lifeline, the same for everybody, so "suicid" is checked apart from it.)
FORBIDDEN_WORDS = (
    "phq",
    "gad",
    "pcl",
    "cssrs",
    "cadss",
    "depress",
    "anxi",
    "ketamine",
    "infusion",
    "patient health",
    "ptsd",
    "trauma",
    "diagnos",
    "pain",
    "score",
)
CRISIS = (
    "If you are in crisis or thinking about harming yourself, call or text 988 (Suicide & Crisis Lifeline) "
    "now, call Downtown Clinic at 617-555-0100, or call 911."
)


def send() -> str:
    from io import StringIO

    out = StringIO()
    call_command("send_due_links", stdout=out)
    run_ready_jobs()  # the outbox's worker sends what was queued
    return out.getvalue()


def test_send_due_links_emails_one_message_per_patient_revealing_nothing_clinical(course):
    out = send()
    assert "2 queued to be emailed" in out
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["maria.garcia@example.org"]
    assert message.subject == "A short questionnaire from Downtown Clinic"
    # The link tokens are random letters (one may spell "gad"): the words are checked with the links taken
    # out.
    text = re.sub(r"https://\S+", "", message.subject + message.body).lower()
    assert not [w for w in FORBIDDEN_WORDS if w in text]
    assert CRISIS in message.body and text.count("suicid") == 1 and "2 short questionnaires" in message.body
    urls = re.findall(r"https://clinic\.example\.org/q/([\w-]+)/", str(message.body))
    assert len(urls) == 2
    links = PatientLink.objects.order_by("instrument")
    assert [(link.instrument, link.timepoint, link.infusion_number, link.created_by) for link in links] == [
        ("gad7", "pre_infusion", 4, None),
        ("phq9", "pre_infusion", 4, None),
    ]
    end_of_today = timezone.make_aware(datetime.combine(day(1), time.min))  # infusion 4's window ends today
    if end_of_today - timezone.now() > timedelta(hours=1, minutes=5):  # else the 1-hour minimum applies
        assert {link.expires_at for link in links} == {end_of_today}
        assert f"until the end of {day(0):%A %B %-d}." in message.body
    (sent,) = OutboundMessage.objects.all()
    assert (sent.status, sent.to_masked, sent.channel, sent.created_by) == (
        "sent",
        "m***@example.org",
        "email",
        None,
    )
    assert set(sent.reference.split()) == {str(link.external_id) for link in links}
    assert not re.search(r"/q/[\w-]{20,}/", sent.body)  # the delivered links are not kept readable
    assert AuditEntry.objects.filter(action="system", summary__endswith="m***@example.org: sent").count() == 1
    # The patient answers through the emailed link: that questionnaire is done.
    token = next(t for t in urls if services.link_open(t).instrument == "phq9")
    services.link_submit(token=token, answers=phq9(5))
    s = statuses(selectors.due_status_for_patient(course))
    assert (
        s[("pre_infusion", 4, "phq9")] is DueStatus.DONE and s[("pre_infusion", 4, "gad7")] is DueStatus.DUE
    )


def test_running_twice_the_same_day_sends_nothing_twice(course):
    send()
    out = send()
    assert "0 queued" in out and "2 already have a live link" in out
    assert len(mail.outbox) == 1 and OutboundMessage.objects.count() == 1 and PatientLink.objects.count() == 2


@pytest.mark.parametrize("status", ["stopped", "draft"])
def test_the_daily_job_never_emails_a_patient_whose_plan_was_stopped_or_is_not_signed(course, status):
    plan = TreatmentPlan.objects.get(patient=course)
    if status == "draft":  # a later revision awaiting signature replaces the signed one
        TreatmentPlan.objects.filter(pk=plan.pk).update(status="superseded")
        TreatmentPlan.objects.create(
            patient=course,
            screening=plan.screening,
            indication="trd",
            protocol_version=plan.protocol_version,
            series_count=6,
            max_per_week=2,
            min_spacing_hours=48,
            evaluation_after=3,
            status="draft",
        )
    else:
        TreatmentPlan.objects.filter(pk=plan.pk).update(status="stopped")
    out = send()
    assert "0 queued" in out and "not sent: no active or completed plan" in out
    assert not mail.outbox and not PatientLink.objects.exists() and not OutboundMessage.objects.exists()


def test_answers_alone_never_start_automatic_emails(staff, intake, downtown):
    """A baseline answered by someone screened out (no plan) must not set off follow-up emails."""
    someone = register(intake, downtown, given_name="Lena", family_name="Park", email="lena.park@example.org")
    answer(staff[Role.NURSE], someone, "phq9", -3, "baseline")
    rows = selectors.questionnaire_worklist(user=None, location=None).due
    assert any(r.patient == someone for r in rows)  # staff still see it on the worklist
    out = send()
    assert "0 queued" in out and " 0 not sent: no active" not in out
    assert not mail.outbox and not PatientLink.objects.exists()


def test_a_patient_without_email_is_recorded_once_and_listed_to_hand_out(course, staff, client_for):
    Patient.objects.filter(pk=course.pk).update(email="")
    assert "2 without an email address" in send()
    assert "2 without an email address" in send()
    assert mail.outbox == []
    assert list(LinkDispatch.objects.values_list("outcome", flat=True)) == ["no_address", "no_address"]
    assert not PatientLink.objects.exists()
    w = selectors.questionnaire_worklist(user=staff[Role.NURSE], location=course.location)
    assert all(r.hand_out for r in w.rows)
    body = client_for(staff[Role.NURSE]).get("/outcomes/worklist/").content.decode()
    assert body.count("No email address: hand out a link") == 4 and "Create link to hand out" in body


def test_a_patient_opted_out_of_email_is_listed_to_hand_out_and_never_emailed(course, staff, client_for):
    contact_preference_set(user=staff[Role.INTAKE], patient=course, sms_opted_out=False, email_opted_out=True)
    assert "2 without an email address or opted out of email" in send()
    assert mail.outbox == [] and not PatientLink.objects.exists() and not OutboundMessage.objects.exists()
    body = client_for(staff[Role.NURSE]).get("/outcomes/worklist/").content.decode()
    assert body.count("Opted out of email: hand out a link") == 4


def test_a_failed_email_is_retried_by_the_outbox_and_shown_failed_never_sent(
    course, staff, client_for, monkeypatch
):
    def refuse(self, fail_silently=False):
        raise smtplib.SMTPRecipientsRefused({"maria.garcia@example.org": (550, b"No such user")})

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    send()
    for _ in range(SEND_ATTEMPTS):
        DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now() - timedelta(seconds=1))
        run_ready_jobs()
    message = OutboundMessage.objects.get()
    assert (message.status, message.attempts, message.sent_at) == ("failed", SEND_ATTEMPTS, None)
    assert "m***@example.org" in message.last_error and "maria.garcia" not in message.last_error
    assert not AuditEntry.objects.filter(summary__contains="maria.garcia").exists()
    assert mail.outbox == []
    body = html.unescape(client_for(staff[Role.NURSE]).get("/outcomes/worklist/").content.decode())
    assert body.count("Email to m***@example.org failed: The mail server did not accept it") == 2
    assert "sent by email" not in body
    monkeypatch.undo()
    assert "2 already have a live link" in send()  # the run does not send the same links twice


def test_dispatches_are_append_only(course):
    Patient.objects.filter(pk=course.pk).update(email="")
    send()
    d = LinkDispatch.objects.first()
    with pytest.raises(DatabaseError), transaction.atomic():
        LinkDispatch.objects.filter(pk=d.pk).update(outcome="failed", error="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        LinkDispatch.objects.filter(pk=d.pk).delete()


@override_settings(KETACLINIC_BASE_URL="http://clinic.example.org")
def test_the_job_refuses_to_send_links_that_are_not_https(course):
    with pytest.raises(CommandError, match="https://"):
        send()
    assert mail.outbox == []


# -- "Send link now" ----------------------------------------------------------------------------------------


def post_send(client, patient, **overrides):
    data = {
        "instrument": "phq9",
        "timepoint": "follow_up",
        "infusion_number": "",
        "due_on": day(-7).isoformat(),
        "how": "email",
        "location": "downtown",
        **overrides,
    }
    return client.post(f"/outcomes/patient/{patient.external_id}/send-due-link/", data)


def test_send_link_now_emails_an_overdue_questionnaire(course, staff, client_for):
    nurse = staff[Role.NURSE]
    client = client_for(nurse)
    response = post_send(client, course)
    assert response.status_code == 302 and response["Location"] == "/outcomes/worklist/?location=downtown"
    assert "Link queued by email" in client.get("/outcomes/worklist/").content.decode()
    assert (
        "waiting to be sent by email to m***@example.org"
        in client.get("/outcomes/worklist/").content.decode()
    )
    assert mail.outbox == [] and run_ready_jobs() == 1
    assert len(mail.outbox) == 1 and "a short questionnaire" in mail.outbox[0].body
    m = OutboundMessage.objects.get()
    link = PatientLink.objects.get()
    assert (m.status, m.created_by, link.timepoint, link.created_by) == ("sent", nurse, "follow_up", nurse)
    body = client.get("/outcomes/worklist/").content.decode()
    assert "Link sent by email to m***@example.org" in body
    # A questionnaire that can no longer be answered (infusion 2 is past) is refused; nothing is sent.
    refused = post_send(
        client, course, timepoint="pre_infusion", infusion_number="2", due_on=day(-7).isoformat()
    )
    assert refused.status_code == 302 and run_ready_jobs() == 0 and len(mail.outbox) == 1
    assert "is not waiting for an answer" in client.get("/outcomes/worklist/").content.decode()


def test_a_double_click_on_send_link_now_sends_once_and_a_later_resend_is_allowed(course, staff, client_for):
    client = client_for(staff[Role.NURSE])
    post_send(client, course)
    post_send(client, course)
    run_ready_jobs()
    assert len(mail.outbox) == 1 and PatientLink.objects.count() == 1
    assert "was not sent again" in client.get("/outcomes/worklist/").content.decode()
    PatientLink.objects.update(
        created_at=timezone.now() - timedelta(minutes=11)
    )  # the patient lost the email
    post_send(client, course)
    run_ready_jobs()
    assert len(mail.outbox) == 2


def test_without_email_staff_get_a_link_to_hand_out(course, staff, client_for):
    Patient.objects.filter(pk=course.pk).update(email="")
    client = client_for(staff[Role.INTAKE])
    shown = post_send(
        client,
        course,
        how="handout",
        timepoint="pre_infusion",
        infusion_number="4",
        due_on=day(0).isoformat(),
    )
    link = PatientLink.objects.get()
    assert (link.timepoint, link.infusion_number, link.instrument) == ("pre_infusion", 4, "phq9")
    body = shown.content.decode()
    assert shown.status_code == 200 and "shown only now" in body and re.search(r"/q/[\w-]{20,}/", body)
    assert "Back to the questionnaire worklist" in body
    assert "shown only now" not in client.get("/outcomes/worklist/").content.decode()
    assert mail.outbox == [] and not LinkDispatch.objects.exists()


# -- the correction page ------------------------------------------------------------------------------------


def correction_data(answers, reason="Item 1 entered as 3; the patient said 1"):
    data = {f"phq9_{n}": "" if a is None else str(a) for n, a in enumerate(answers, start=1)}
    return {**data, "reason": reason}


def test_the_correction_page_is_prefilled_and_saves_a_replacement_that_raises_flags(
    staff, patient, client_for
):
    nurse = staff[Role.NURSE]
    original = services.response_record(
        user=nurse,
        patient=patient,
        instrument="phq9",
        answers=[3, 1, 1, 1, 1, 1, 1, 1, 0],
        timepoint="baseline",
    )
    client = client_for(nurse)
    url = f"/outcomes/responses/{original.external_id}/correct/"
    page = client.get(url).content.decode()
    assert 'name="phq9_1" value="3" class="" id="id_phq9_1_3" checked' in page or re.search(
        r'name="phq9_1" value="3"[^>]*checked', page
    )
    assert 'name="reason"' in page
    done = client.post(url, correction_data([1, 1, 1, 1, 1, 1, 1, 1, 1]))
    assert done.status_code == 302
    new = QuestionnaireResponse.objects.get(replaces=original)
    assert (new.total, new.replace_reason, new.timepoint, new.authored_at) == (
        9.0,
        "Item 1 entered as 3; the patient said 1",
        "baseline",
        original.authored_at,
    )
    assert QuestionnaireResponse.objects.get(pk=original.pk).answers["phq9_1"] == 3  # kept, unchanged
    flag = SafetyFlag.objects.get()
    assert flag.response == new and flag.reason == "suicidal_ideation"
    followed = client.get(done["Location"]).content.decode()
    assert "corrected" in followed and "URGENT safety flag raised" in followed
    again = client.get(url).content.decode()
    assert "already corrected" in again and 'name="reason"' not in again


@pytest.mark.parametrize(
    ("answers", "reason", "message"),
    [
        ([1] * 9, "", "This field is required."),
        ([1] * 9, "typo", "A correction needs a reason (at least 5 characters)."),
        (
            [None, None, None, 1, 1, 1, 1, 1, 0],
            "Three items were left out",
            "3 items unanswered (questions 1, 2 and 3); at most 2 may be missing",
        ),
    ],
)
def test_a_refused_correction_saves_nothing_and_says_why(
    staff, patient, client_for, answers, reason, message
):
    nurse = staff[Role.NURSE]
    original = services.response_record(user=nurse, patient=patient, instrument="phq9", answers=phq9(8))
    response = client_for(nurse).post(
        f"/outcomes/responses/{original.external_id}/correct/", correction_data(answers, reason)
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Nothing was saved." in body and message in body
    assert QuestionnaireResponse.objects.count() == 1


def test_a_gad7_with_a_missing_item_is_refused_stating_the_rule(staff, patient, client_for):
    nurse = staff[Role.NURSE]
    original = services.response_record(user=nurse, patient=patient, instrument="gad7", answers=gad7(8))
    data = {f"gad7_{n}": str(a) for n, a in enumerate(gad7(8), start=1)} | {
        "gad7_7": "",
        "reason": "Item 7 was not asked",
    }
    response = client_for(nurse).post(f"/outcomes/responses/{original.external_id}/correct/", data)
    assert response.status_code == 400
    assert "every item is required" in response.content.decode()


def test_billing_may_not_open_the_correction_page(staff, patient, client_for):
    original = services.response_record(
        user=staff[Role.NURSE], patient=patient, instrument="phq9", answers=phq9(8)
    )
    assert (
        client_for(staff[Role.BILLING])
        .get(f"/outcomes/responses/{original.external_id}/correct/")
        .status_code
        == 403
    )
