"""Email: composing the messages patients and prescribers receive, and sending them. Nothing clinical goes
in a message (no questionnaire name, no score): a patient's message carries links, the clinic's name and the
crisis lines; a prescriber's says a flag waits and links to it. Each attempt is recorded by the caller or
here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, send_mail
from django.urls import reverse
from django.utils import timezone

from ketaclinic.accounts.models import Location, User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.core.errors import ValidationError
from ketaclinic.outcomes.models import SafetyFlag
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import TreatmentPlan

EMAIL_SUBJECT = "A short questionnaire from {clinic}"
EMAIL_BODY = """Hello {first_name},

{clinic} asks you to answer {what}. It takes a few minutes. Please open {this_link}:

{links}

{each_link} once, until {expires}. Your answers go to your care team at {clinic}.

If you are in crisis or thinking about harming yourself, call or text 988 (Suicide & Crisis Lifeline) \
now{crisis}, or call 911.

This message was sent automatically; please do not reply to it.
"""


NO_BASE_URL = "Set KETACLINIC_BASE_URL to the clinic's https:// address: patients' links start with it."


def link_url(base_url: str, token: str) -> str:
    """The address a patient opens: the clinic's base address and the link's token."""
    if not base_url:
        raise ValidationError(NO_BASE_URL, field="base_url", value=base_url)
    return base_url.rstrip("/") + reverse("questionnaire_answer", args=[token])


def email_masked(address: str) -> str:
    """``maria.garcia@example.org`` -> ``m***@example.org``: enough to recognise, not to harvest."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def crisis_line(location: Location | None) -> str:
    """The clinic's crisis line: the location's phone, else ``KETACLINIC_CRISIS_LINE`` (988 is always given
    too)."""
    return (location.phone if location and location.phone else "") or settings.KETACLINIC_CRISIS_LINE


def until_words(expires: datetime) -> str:
    """``the end of Wednesday November 25`` for a link ending at midnight, else ``Wednesday November 25 at
    3:15 PM``."""
    local = timezone.localtime(expires)
    if local.time() == time.min:
        return f"the end of {local - timedelta(days=1):%A %B %-d}"
    return f"{local:%A %B %-d at %-I:%M %p}"


def questionnaire_email(*, patient: Patient, urls: Sequence[str], expires: datetime) -> EmailMessage:
    """The message: the clinic's name, the links, the crisis line and 988; no questionnaire name, nothing
    clinical."""
    clinic = patient.location.name
    line = crisis_line(patient.location)
    many = len(urls) > 1
    body = EMAIL_BODY.format(
        first_name=patient.preferred_name or patient.given_name,
        clinic=clinic,
        what=f"{len(urls)} short questionnaires" if many else "a short questionnaire",
        this_link="each of these links" if many else "this link",
        links="\n\n".join(urls),
        each_link="Each link works" if many else "The link works",
        expires=until_words(expires),
        crisis=f", call {clinic} at {line}" if line else "",
    )
    return EmailMessage(subject=EMAIL_SUBJECT.format(clinic=clinic), body=body, to=[patient.email])


def send(message: EmailMessage, *, connection: Any = None) -> str:
    """Send one message; the transport's failure as words ('' when sent), for the caller to record and
    retry."""
    message.connection = connection
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - any transport failure is recorded, shown, and retried next run
        return f"{type(exc).__name__}: {exc}"
    return ""


FLAG_EMAIL_SUBJECT = "ketaclinic: a patient needs your review today"
FLAG_EMAIL_BODY = (
    "A patient at {location} has an urgent safety flag that needs a prescriber's assessment and plan "
    "before any further infusion.\n\nOpen it in ketaclinic: {link}\n\n"
    "This message holds no clinical details; sign in to see them."
)


def safety_flag_recipients(flag: SafetyFlag) -> list[User]:
    """Who is told that a flag was raised: the signer of the patient's active plan, else the prescribers of
    the patient's location (those with an email address)."""
    plan = (
        TreatmentPlan.objects.filter(patient=flag.patient, status=TreatmentPlan.Status.ACTIVE)
        .select_related("signed_by")
        .order_by("-signed_at")
        .first()
    )
    if plan is not None and plan.signed_by is not None and plan.signed_by.email:
        return [plan.signed_by]
    return list(
        User.objects.filter(role="prescriber", is_active=True, locations=flag.patient.location)
        .exclude(email="")
        .order_by("id")
    )


def safety_flag_email(flag: SafetyFlag, user: User) -> str:
    """Email one prescriber that a flag waits (nothing clinical in it) and audit the attempt (the address
    masked); the transport's failure as words, '' when sent."""
    base = getattr(settings, "KETACLINIC_BASE_URL", "") or ""
    link = f"{base}{reverse('outcomes:flag', args=[flag.external_id])}"
    try:
        send_mail(
            FLAG_EMAIL_SUBJECT,
            FLAG_EMAIL_BODY.format(location=flag.patient.location.name, link=link),
            None,
            [user.email],
        )
        error, status = "", "sent"
    except Exception as exc:  # noqa: BLE001 - a failed email is recorded here and retried by the job
        error, status = f"{type(exc).__name__}: {exc}", f"failed ({type(exc).__name__})"
    audit_record(
        action=AuditEntry.Action.CREATE,
        patient=flag.patient,
        summary=f"Safety flag: prescriber {user} notified by email ({status})",
        detail={"flag": str(flag.external_id), "to": email_masked(user.email), "status": status},
    )
    return error.replace(user.email, email_masked(user.email))


def safety_flag_nobody(flag: SafetyFlag) -> None:
    audit_record(
        action=AuditEntry.Action.CREATE,
        patient=flag.patient,
        summary="Safety flag: no prescriber with an email address to notify",
        detail={"flag": str(flag.external_id)},
    )


SMS_BODY = (
    "{clinic}: please answer a short questionnaire for your care team: {links} "
    "(works once, until {expires}). In crisis? Call or text 988{crisis}."
)


def questionnaire_sms(*, patient: Patient, urls: Sequence[str], expires: datetime) -> str:
    """The text message: the clinic's name, the link(s), until when, 988; nothing clinical."""
    line = crisis_line(patient.location)
    return SMS_BODY.format(
        clinic=patient.location.name,
        links=" ".join(urls),
        expires=until_words(expires),
        crisis=f" or call {line}" if line else "",
    )
