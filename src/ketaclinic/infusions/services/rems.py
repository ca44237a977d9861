"""The REMS Patient Monitoring Form: the prescriber completes and confirms it; the clinic marks it submitted.

ketaclinic does not send the form anywhere: there is no REMS programme interface here. "Submitted" records
that someone at the clinic submitted it on the programme's site or by fax, when, and the reference number
the programme gave; from then on the form never changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion import rems as core
from ketaclinic.core.infusion.state import SessionState
from ketaclinic.infusions.models import InfusionSession, RemsMonitoringForm
from ketaclinic.infusions.selectors.rems import rems_form_state, rems_section
from ketaclinic.infusions.services._common import _audit, _local, _lock

NOT_REMS = "This session's protocol asks for no REMS monitoring form."
NOT_DISCHARGED_YET = "The REMS monitoring form is completed after the patient is discharged."
ALREADY_SUBMITTED = "The REMS form was submitted by {who} on {when} (ref. {reference}); it cannot change."
CHECK_UNKNOWN = "{value!r} is not one of this protocol's REMS checks ({allowed})."
BP_RANGE = "{what}: {part} pressure {value} mmHg is not possible; allowed is {low}-{high} mmHg."
SPO2_RANGE = "Lowest oxygen saturation {value} % is not possible; allowed is 0-100 %."
LOTS_LONG = "Device lot numbers are too long ({length} characters); at most 200."
REFERENCE_REQUIRED = "The reference number the REMS programme gave is required (up to 60 characters)."
NOT_READY = "The form cannot be marked submitted while items are missing: {items}."
SUBMITTED_IN_FUTURE = "The submission time {value} is in the future."
BP_LIMITS = {"systolic": (0, 350), "diastolic": (0, 250)}  # the protocols' plausible ranges


def _locked_form(
    user: User, session: InfusionSession, permission: Permission
) -> tuple[InfusionSession, RemsMonitoringForm | None]:
    session = _lock(user, session, permission, None)
    if rems_section(session) is None:
        raise ValidationError(NOT_REMS, field="session", value=str(session.external_id))
    if session.state != SessionState.DISCHARGED.value:
        raise ValidationError(NOT_DISCHARGED_YET, field="session", value=session.state)
    row = RemsMonitoringForm.objects.select_for_update(of=("self",)).filter(session=session).first()
    if row is not None and row.submitted:
        raise ValidationError(
            ALREADY_SUBMITTED.format(
                who=row.submitted_by,
                when=_local(session, row.submitted_at, "%Y-%m-%d %H:%M"),
                reference=row.reference,
            ),
            field="rems_form",
            value=row.reference,
        )
    return session, row


def _checks_valid(session: InfusionSession, checks: Sequence[core.CheckEntry]) -> list[dict[str, Any]]:
    section = rems_section(session)
    assert section is not None  # noqa: S101 — _locked_form refused a session without one
    labels = {c.code: core.check_label(c) for c in section.checks}
    out = []
    for e in checks:
        if e.code not in labels:
            allowed = ", ".join(labels.values())
            raise ValidationError(
                CHECK_UNKNOWN.format(value=e.code, allowed=allowed), field="checks", value=e.code
            )
        for part, value in (("systolic", e.systolic_mmhg), ("diastolic", e.diastolic_mmhg)):
            low, high = BP_LIMITS[part]
            if value is not None and not low <= value <= high:
                message = BP_RANGE.format(what=labels[e.code], part=part, value=value, low=low, high=high)
                raise ValidationError(message, field=f"{e.code}.{part}", value=value)
        if e.level and e.level not in core.LEVELS:
            raise ValidationError(
                core.LEVEL_UNKNOWN.format(what=labels[e.code], value=e.level), field=e.code, value=e.level
            )
        out.append(
            {
                "code": e.code,
                "at": None if e.at is None else e.at.isoformat(),
                "systolic_mmhg": e.systolic_mmhg,
                "diastolic_mmhg": e.diastolic_mmhg,
                "level": e.level,
            }
        )
    return out


@transaction.atomic
def rems_form_confirm(
    *,
    user: User,
    session: InfusionSession,
    device_lots: Sequence[str],
    checks: Sequence[core.CheckEntry],
    spo2_lowest_percent: int | None,
    concomitant_medications: str,
    serious_adverse_event: bool | None,
    serious_adverse_event_description: str = "",
) -> RemsMonitoringForm:
    """The prescriber completes the form and confirms it. The dose, the devices, the first device and the
    discharge come from the session's record, never typed. Saving again (before submission) replaces it."""
    session, row = _locked_form(user, session, Permission.ORDER_SIGN)
    lots = ", ".join(dict.fromkeys(x.strip() for x in device_lots if x.strip()))
    if len(lots) > 200:
        raise ValidationError(LOTS_LONG.format(length=len(lots)), field="device_lots", value=lots)
    if spo2_lowest_percent is not None and not 0 <= spo2_lowest_percent <= 100:
        raise ValidationError(
            SPO2_RANGE.format(value=spo2_lowest_percent),
            field="spo2_lowest_percent",
            value=spo2_lowest_percent,
        )
    stored = _checks_valid(session, checks)
    state = rems_form_state(session)
    assert state is not None  # noqa: S101 — the session has a rems section
    row = row or RemsMonitoringForm(session=session, created_by=user)
    row.first_device_at, row.discharged_at = state.form.first_device_at, state.form.discharged_at
    row.dose_total_mg = state.form.dose_total_mg
    row.device_count, row.device_lots, row.checks = state.form.device_count, lots, stored
    row.spo2_lowest_percent = spo2_lowest_percent
    row.concomitant_medications = concomitant_medications.strip()
    row.serious_adverse_event = serious_adverse_event
    row.serious_adverse_event_description = serious_adverse_event_description.strip()
    row.confirmed_by, row.confirmed_at, row.updated_by = user, timezone.now(), user
    row.full_clean(exclude=["session", "created_by", "updated_by"])
    row.save()
    _audit(
        user,
        session,
        "Confirmed the REMS monitoring form",
        AuditEntry.Action.UPDATE,
        rems=str(row.external_id),
    )
    return row


@transaction.atomic
def rems_form_submit(
    *, user: User, session: InfusionSession, reference: str, submitted_at: datetime | None = None
) -> RemsMonitoringForm:
    """Mark the confirmed, complete form as submitted to the REMS programme (done outside ketaclinic)."""
    session, row = _locked_form(user, session, Permission.NOTE_SIGN)
    reference = (reference or "").strip()
    if not reference or len(reference) > 60:
        raise ValidationError(REFERENCE_REQUIRED, field="reference", value=reference)
    state = rems_form_state(session)
    if state is None or row is None or state.missing:
        items = "; ".join(state.missing if state is not None else (core.NOT_CONFIRMED,))
        raise ValidationError(
            NOT_READY.format(items=items), field="rems_form", value=list(state.missing if state else ())
        )
    when = submitted_at or timezone.now()
    if when > timezone.now():
        raise ValidationError(
            SUBMITTED_IN_FUTURE.format(value=_local(session, when, "%Y-%m-%d %H:%M")),
            field="submitted_at",
            value=when,
        )
    row.submitted_by, row.submitted_at, row.reference, row.updated_by = user, when, reference, user
    row.save()
    _audit(
        user,
        session,
        f"Marked the REMS monitoring form submitted (reference {reference})",
        AuditEntry.Action.UPDATE,
        rems=str(row.external_id),
    )
    return row
