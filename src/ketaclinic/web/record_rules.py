"""The input rules applied to every clinical record before it is written (a ``pre_save`` guard).

Whatever path a value takes (API, page, command, a service called from another service), a row of a
ketaclinic app is written only if each text field passes :func:`ketaclinic.core.input_rules.text_check`
(no control characters, line breaks only in multi-line text, no text-direction characters in a name,
at most the field's maximum length), each phone number of a patient or referrer is a real number
(stored in E.164), each NPI has a valid check digit, no date is before 1900 or (where the record belongs
to a patient) before the patient's birth, and no number is NaN or infinite. PostgreSQL would refuse an
over-long value with a database error (a 500) where SQLite stores it silently; this refusal is the same
on both and names the field. The audit trail is left out: its entries are composed by the server,
shortened to fit, and must always be writable.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from django.db import models
from django.db.models.signals import pre_save
from django.utils import timezone

from ketaclinic.core import input_rules as rules

APPS = {
    "accounts",
    "inquiries",
    "patients",
    "screening",
    "plans",
    "consent",
    "infusions",
    "outcomes",
    "protocols",
    "scheduling",
}

#: Maximum lengths of multi-line text (TextField) by ``app.Model.field``; any other: rules.TEXT_MAX.
TEXT_LIMITS = {
    "infusions.NoteAddendum.text": rules.ADDENDUM_MAX,
    "infusions.SessionNote.text": rules.DOCUMENT_MAX,
    "consent.ConsentDocument.body": rules.DOCUMENT_MAX,
    "infusions.InfusionOrder.override_reason": rules.REASON_MAX,
    "infusions.RateEvent.reason": rules.REASON_MAX,
    "infusions.RateEvent.backdate_reason": rules.REASON_MAX,
    "infusions.RateEvent.override_reason": rules.REASON_MAX,
    "infusions.VitalSigns.backdate_reason": rules.REASON_MAX,
    "infusions.VitalAlert.acknowledgement_note": rules.REASON_MAX,
    "infusions.ChecklistItemResponse.override_reason": rules.REASON_MAX,
}
#: Phone numbers people type for a patient or a referrer: parsed (US by default) and stored in E.164.
PHONE_FIELDS = {
    "patients.Patient.phone",
    "patients.Patient.emergency_contact_phone",
    "patients.Patient.escort_phone",
    "screening.Referral.referrer_phone",
    "inquiries.Inquiry.phone",
}
#: Names, where a text-direction character could make one person's name look like another's.
NAME_FIELDS = {
    "given_name",
    "family_name",
    "preferred_name",
    "first_name",
    "last_name",
    "typed_name",
    "username",
    "name",
    "substance",
}
#: Record-keeping times the server sets itself, never a clinical date a person typed.
SERVER_TIMES = {"created_at", "updated_at", "recorded_at", "loaded_at"}


def _is_name(field: str) -> bool:
    return field in NAME_FIELDS or field.endswith("_name")


def text_limit(key: str, field: models.Field[Any, Any]) -> int:
    if isinstance(field, models.TextField):
        return TEXT_LIMITS.get(key, rules.TEXT_MAX)
    return int(field.max_length or rules.TEXT_MAX)


def _birth_date(instance: models.Model) -> date | None:
    try:
        field = instance._meta.get_field("patient")
    except Exception:  # noqa: BLE001 - a record without a patient
        return None
    if not isinstance(field, models.ForeignKey) or not field.is_cached(instance):
        return None  # never query the database from a guard: the services hand the patient over
    patient = field.get_cached_value(instance)
    return getattr(patient, "birth_date", None)


def record_check(instance: models.Model, update_fields: frozenset[str] | None = None) -> None:
    """Apply the rules to ``instance`` (only ``update_fields`` when given); normalise phone numbers in
    place."""
    meta = instance._meta
    birth = _birth_date(instance)
    for field in meta.concrete_fields:
        if update_fields is not None and field.name not in update_fields:
            continue
        key = f"{meta.app_label}.{meta.object_name}.{field.name}"
        value = getattr(instance, field.attname)
        if value is None:
            continue
        if isinstance(field, models.CharField | models.TextField) and isinstance(value, str):
            rules.text_check(
                value,
                field=field.name,
                label=str(field.verbose_name).capitalize(),
                max_length=text_limit(key, field),
                multiline=isinstance(field, models.TextField),
                name=_is_name(field.name),
            )
            if key in PHONE_FIELDS:
                setattr(
                    instance,
                    field.attname,
                    rules.phone_normalise(
                        value, field=field.name, label=str(field.verbose_name).capitalize()
                    ),
                )
            elif field.name.endswith("npi"):
                rules.npi_check(value, field=field.name, label=str(field.verbose_name))
        elif (
            isinstance(field, models.DateField) and isinstance(value, date) and field.name not in SERVER_TIMES
        ):
            label = str(field.verbose_name).capitalize()
            if field.name == "birth_date":
                rules.date_check(value, field=field.name, label=label, today=timezone.localdate())
            else:
                rules.date_check(value, field=field.name, label=label, birth_date=birth)
        elif isinstance(value, float) and not math.isfinite(value):
            rules.number_check(value, field=field.name, label=str(field.verbose_name).capitalize())


def _guard(
    sender: type[models.Model],
    instance: models.Model,
    raw: bool = False,
    update_fields: Any = None,
    **kwargs: Any,
) -> None:
    if raw or sender._meta.app_label not in APPS:
        return  # fixtures load as stored; the audit trail and Django's own tables are not typed by people
    record_check(instance, frozenset(update_fields) if update_fields is not None else None)


def connect() -> None:
    pre_save.connect(_guard, dispatch_uid="ketaclinic.record_rules")
