"""The pre-infusion checklist: answer an item, override it (a prescriber), complete it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.core.access import Permission
from ketaclinic.core.body import order_weight_problem, weight_confirmations, weight_measure
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.actions import SessionOp
from ketaclinic.core.infusion.checklist import answer_check, item_get, override_check
from ketaclinic.core.infusion.state import SessionAction, SessionState
from ketaclinic.core.protocols.monitoring import ChecklistItem, ChecklistKind
from ketaclinic.infusions.models import ChecklistItemResponse, InfusionSession
from ketaclinic.infusions.selectors.checklist import (
    checklist_result,
    consent_problem,
    interacting_medications,
    major_interactions,
    session_consent,
)
from ketaclinic.infusions.selectors.pathway import session_checklist
from ketaclinic.infusions.services._common import _allowed, _audit, _consent_required, _lock, _move, _save
from ketaclinic.patients.models import BodyMeasurement
from ketaclinic.patients.services import measurement_record

CHECKLIST_FAILED = "The pre-infusion checklist has not passed: {items}."


def _reopen_if_failing(session: InfusionSession) -> None:
    if session.state == SessionState.PRECHECKS_DONE and not checklist_result(session).passed:
        _move(session, SessionAction.PRECHECKS_REOPEN)
        session.prechecks_done_at = None


@transaction.atomic
def checklist_record(
    *,
    user: User,
    session: InfusionSession,
    expected_version: int,
    code: str,
    answer: str = "",
    value: Any = None,
    unit: str | None = None,
    confirm_weight: bool = False,
) -> ChecklistItemResponse:
    """Answer one item (again: the new answer replaces the old, both audited). Weight needs its unit (kg or
    lb, never assumed); a weight far from the last one, or an implausible BMI, needs ``confirm_weight``; a
    changed weight voids a signed order."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    _allowed(session, SessionOp.CHECKLIST_ANSWER)
    item = item_get(session_checklist(session), code)
    number: float | None = None
    if item.kind is ChecklistKind.WEIGHT:
        _weight_confirmed(session, item, weight_measure(value, unit).value_si, confirm_weight)
        m = measurement_record(user=user, patient=session.patient, kind="weight", value=value, unit=unit)
        number = float(m.value_si)
        session.weight_kg = m.value_si
        _void_if_weight_changed(user, session)
    elif item.kind.answer_form == "number":
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
    consent = consent_problem(session_consent(session)) if item.kind is ChecklistKind.CONSENT else None
    checked = answer_check(
        item,
        answer.strip().lower(),
        number,
        consent_problem=consent,
        major_interactions=major_interactions(session.patient),
    )
    reviewed = item.kind is ChecklistKind.MEDICATIONS_REVIEW
    detail = "; ".join(interacting_medications(session.patient)) if reviewed else ""
    if item.kind is ChecklistKind.PHQ9_TODAY and checked.value is not None:
        session.phq9_total = int(checked.value)
    response, _ = ChecklistItemResponse.objects.update_or_create(
        session=session,
        code=code,
        defaults={
            "answer": checked.answer,
            "value": None if checked.value is None else Decimal(str(checked.value)),
            "detail": detail[:300],
            "recorded_by": user,
            "recorded_at": timezone.now(),
            "override_reason": "",
            "overridden_by": None,
            "overridden_at": None,
        },
    )
    _reopen_if_failing(session)
    _save(session, user, "weight_kg", "phq9_total", "state", "prechecks_done_at")
    _audit(
        user,
        session,
        f"Checklist: {item.question} — {checked.answer or checked.value}",
        item=code,
        answer=checked.answer,
        value=checked.value,
    )
    return response


def _weight_confirmed(
    session: InfusionSession, item: ChecklistItem, new_kg: Decimal, confirmed: bool
) -> None:
    """Refuse, showing both weights, a weight the core says needs confirming unless the nurse confirmed it."""
    previous = (
        session.patient.measurements.filter(kind=BodyMeasurement.Kind.WEIGHT)
        .order_by("-measured_at", "-id")
        .first()
    )
    height = (
        session.patient.measurements.filter(kind=BodyMeasurement.Kind.HEIGHT)
        .order_by("-measured_at", "-id")
        .first()
    )
    needed = weight_confirmations(
        new_kg,
        previous_kg=None if previous is None else previous.value_si,
        height_cm=None if height is None else height.value_si,
        change_percent=item.confirm_change_percent or 0.0,
        bmi_low=item.confirm_bmi_below or 0.0,
        bmi_high=item.confirm_bmi_above or 0.0,
    )
    if needed and not confirmed:
        raise ValidationError(" ".join(needed), field="confirm_weight", value=str(new_kg))


def _void_if_weight_changed(user: User, session: InfusionSession) -> None:
    """A signed order calculated for another weight is void (marked, audited); a new order must be signed."""
    order = session.orders.filter(signed_at__isnull=False, voided_at__isnull=True).first()
    if order is None:
        return
    problem = order_weight_problem(order.weight_kg, session.weight_kg)
    if problem is None:
        return
    order.voided_at, order.void_reason, order.updated_by = timezone.now(), problem[:300], user
    order.save(update_fields=["voided_at", "void_reason", "updated_by", "updated_at"])
    _audit(user, session, f"Signed infusion order void: {problem}", order=str(order.external_id))


@transaction.atomic
def checklist_override(
    *, user: User, session: InfusionSession, expected_version: int, code: str, reason: str
) -> ChecklistItemResponse:
    """A prescriber overrides a failed (or unanswerable) item with a reason; some items cannot be
    overridden."""
    session = _lock(user, session, Permission.ORDER_SIGN, expected_version)
    _allowed(session, SessionOp.CHECKLIST_OVERRIDE)
    item = item_get(session_checklist(session), code)
    text = override_check(
        item,
        reason,
        consent_problem=consent_problem(session_consent(session))
        if item.kind is ChecklistKind.CONSENT
        else None,
    )
    now = timezone.now()
    response, _ = ChecklistItemResponse.objects.get_or_create(
        session=session, code=code, defaults={"recorded_by": user, "recorded_at": now}
    )
    response.override_reason, response.overridden_by, response.overridden_at = text, user, now
    response.save()
    _save(session, user)
    _audit(user, session, f"Overrode checklist item {item.question}: {text}", item=code, reason=text)
    return response


@transaction.atomic
def checklist_complete(*, user: User, session: InfusionSession, expected_version: int) -> InfusionSession:
    """Mark the pre-checks done; refused while any item fails or is missing (naming them)."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    result = checklist_result(session)
    if not result.passed:
        raise ValidationError(
            CHECKLIST_FAILED.format(items=", ".join(result.failures)),
            field="checklist",
            value=list(result.failures),
        )
    _consent_required(session)  # even when the protocol's checklist has no consent item
    _move(session, SessionAction.PRECHECKS_PASS)
    session.prechecks_done_at = timezone.now()
    _save(session, user, "state", "prechecks_done_at")
    _audit(
        user,
        session,
        "Pre-infusion checklist passed"
        + (f" (overridden: {', '.join(result.overridden)})" if result.overridden else ""),
    )
    return session
