"""The running infusion: start, pause, resume, titrate (with verbal orders and their co-signature), stop."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import require
from ketaclinic.audit.models import AuditEntry
from ketaclinic.base.models import clean_or_refuse
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.actions import SessionOp
from ketaclinic.core.infusion.delivery import delivered_regimen
from ketaclinic.core.infusion.medications import medication_get
from ketaclinic.core.infusion.pathway import pathway_message, pathway_problems
from ketaclinic.core.infusion.state import Guards, SessionAction
from ketaclinic.core.infusion.titration import (
    TITRATION_NO_WARNINGS,
    TitrationCheck,
    titration_check,
    titration_override,
)
from ketaclinic.core.infusion.vitals import open_alerts_problem
from ketaclinic.infusions.models import (
    InfusionOrder,
    InfusionSession,
    MedicationAdministration,
    RateEvent,
    VialCheck,
    VitalSigns,
)
from ketaclinic.infusions.selectors.checklist import checklist_result
from ketaclinic.infusions.selectors.orders import (
    bag_delivery,
    latest_vial_check,
    rate_points,
    session_delivery,
    signed_order,
)
from ketaclinic.infusions.selectors.pathway import pathway_facts, session_document
from ketaclinic.infusions.services._common import (
    NO_DOSING,
    NO_SIGNED_ORDER,
    REASON_REQUIRED,
    VIAL_CHECK_SAME_PERSON,
    _allowed,
    _audit,
    _consent_required,
    _event_at,
    _lock,
    _move,
    _order_allergy_refuse,
    _save,
)
from ketaclinic.patients.access import can_access_patient, patient_for

MAR_BAG_EMPTY = (
    "Infusion per signed order; the whole bag ({vtbi:.1f} mL) was given, the pump ran empty "
    "before the stop (a second bag needs a new signed order)"
)
VIAL_CHECK_MISMATCH = (
    "The last independent check of the bag by {who} at {when} did not match the order; the infusion "
    "cannot start. Check the bag again (a new check by a second clinician), or prepare a new bag."
)
VIAL_CHECK_REQUIRED = (
    "Before the start, a second clinician must check the vial strength and the volume drawn "
    "against the order (the independent double check)."
)
NOT_STARTED = "The infusion has not started."
COSIGN_ALREADY = "This verbal order was already co-signed by {who} at {when}."
NO_SUCH_RATE_EVENT = "This session has no pump event number {value}; reload the session."
COSIGN_NOT_VERBAL = (
    "Only a verbal order is co-signed; this rate change was ordered by the prescriber in person."
)
TITRATION_OVERRIDE_REQUIRED = (
    "This rate goes beyond a soft limit ({warnings}); the prescriber must give an "
    "override reason to order it."
)
READ_BACK_REQUIRED = (
    "A verbal order is recorded only after reading it back to the prescriber: confirm the "
    "read-back of {rate:g} mg/h to {who}."
)
SIGNER_REQUIRED = "Name the prescriber who gave this verbal order."
SIGNER_NOT_SELF = (
    "A prescriber orders a titration as themselves: {user} cannot record it for {who}; "
    "{who} signs in and orders it, or a nurse records it as a verbal order."
)
SIGNER_OTHER_LOCATION = "{who} does not work at this patient's location."
SIGNER_NOT_PRESCRIBER = "{who} may not order a titration: only a prescriber signs rate changes."
NO_PUMP = "This session's order has no pump program ({route}); rates cannot be changed."
RATE_ABOVE_PUMP = "Rate {value:.1f} mL/h is above the pump's maximum of {high:g} mL/h."
RATE_ABOVE_MAX = "Rate {value:g} mg/h is above the protocol's maximum of {high:g} mg/h."
RATE_NOT_POSITIVE = "A rate must be above 0 mg/h; to stop the pump use pause or stop."


def _last_event_at(session: InfusionSession) -> datetime | None:
    last = session.rate_events.order_by("-at", "-id").first()
    return None if last is None else last.at


def _last_pump_event(session: InfusionSession) -> tuple[str, datetime | None]:
    return ("the last pump event", _last_event_at(session))


def _vial_check_passed(session: InfusionSession, order: InfusionOrder, user: User) -> VialCheck | None:
    """The matching independent check of this order's bag by a second clinician, or refused. None when the
    order has no bag (e.g. an intranasal session)."""
    if order.vial_mg_per_ml is None or order.drug_volume_ml is None:
        return None
    check = latest_vial_check(session, order)
    if check is None:
        raise ValidationError(VIAL_CHECK_REQUIRED, field="vial_check", value=None)
    if not check.match:
        raise ValidationError(
            VIAL_CHECK_MISMATCH.format(
                who=check.checked_by, when=f"{timezone.localtime(check.checked_at):%H:%M}"
            ),
            field="vial_check",
            value=check.pk,
        )
    if check.checked_by_id in (user.pk, order.created_by_id):
        raise ValidationError(
            VIAL_CHECK_SAME_PERSON.format(who=check.checked_by), field="vial_check", value=check.pk
        )
    return check


def _event(
    session: InfusionSession,
    user: User,
    kind: str,
    at: datetime,
    *,
    rate_mg: float = 0.0,
    rate_ml: float = 0.0,
    reason: str = "",
    signer: User | None = None,
    backdate_reason: str = "",
) -> RateEvent:
    event = RateEvent(
        session=session,
        kind=kind,
        at=at,
        rate_mg_per_h=rate_mg,
        rate_ml_per_h=rate_ml,
        reason=reason,
        recorded_by=user,
        signer=signer,
        backdate_reason=backdate_reason.strip(),
    )
    clean_or_refuse(event)
    event.save()
    return event


def _no_open_alerts(session: InfusionSession, action: str) -> None:
    """The pump does not (re)start while an alert is not acknowledged (the rule: core
    ``open_alerts_problem``)."""
    messages = tuple(
        a.message for a in session.alerts.filter(acknowledged_at__isnull=True).order_by("raised_at", "id")
    )
    problem = open_alerts_problem(action, messages)
    if problem is not None:
        raise ValidationError(problem, field="alerts", value=len(messages))


@transaction.atomic
def infusion_start(
    *,
    user: User,
    session: InfusionSession,
    expected_version: int,
    at: datetime | None = None,
    backdate_reason: str = "",
) -> RateEvent:
    """Start the pump at the signed order's rate; refused without a signed order, a passed checklist or a
    matching independent check of the bag by a second clinician; never timed before any of them."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    order = signed_order(session)
    result = checklist_result(session)
    _move(
        session,
        SessionAction.START,
        Guards(order_signed=order is not None, checklist_failures=result.failures),
    )
    _no_open_alerts(session, "start")
    if order is None:  # the guard refused already
        raise ValidationError(NO_SIGNED_ORDER, field="order", value=None)
    _order_allergy_refuse(session)
    check = _vial_check_passed(session, order, user)
    when = _event_at(
        session,
        "Start",
        at,
        backdate_reason,
        ("the check-in", session.checked_in_at),
        ("the checklist passed", session.prechecks_done_at),
        ("the order was signed", order.signed_at),
        ("the independent check of the bag", None if check is None else check.checked_at),
    )
    start_problems = pathway_problems(pathway_facts(session, at=when), at_start=True)
    if start_problems:
        raise ValidationError(pathway_message(start_problems), field="pathway", value=list(start_problems))
    _consent_required(
        session
    )  # at the real clock time (``when`` may be backdated), even without a consent item
    session.started_at = when
    event = _event(
        session,
        user,
        RateEvent.Kind.START,
        when,
        rate_mg=order.rate_mg_per_h or 0.0,
        rate_ml=order.rate_ml_per_h or 0.0,
        backdate_reason=backdate_reason,
    )
    _save(session, user, "state", "started_at")
    _audit(
        user,
        session,
        f"Started the infusion at {event.rate_mg_per_h:.1f} mg/h ({event.rate_ml_per_h:.1f} mL/h)",
    )
    return event


@transaction.atomic
def infusion_pause(
    *,
    user: User,
    session: InfusionSession,
    expected_version: int,
    reason: str = "",
    at: datetime | None = None,
    backdate_reason: str = "",
) -> RateEvent:
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    _move(session, SessionAction.PAUSE)
    event = _event(
        session,
        user,
        RateEvent.Kind.PAUSE,
        _event_at(session, "Pause", at, backdate_reason, _last_pump_event(session)),
        reason=reason.strip(),
        backdate_reason=backdate_reason,
    )
    _save(session, user, "state")
    _audit(user, session, "Paused the infusion" + (f": {reason.strip()}" if reason.strip() else ""))
    return event


@transaction.atomic
def infusion_resume(
    *,
    user: User,
    session: InfusionSession,
    expected_version: int,
    reason: str = "",
    at: datetime | None = None,
    backdate_reason: str = "",
) -> RateEvent:
    """Resume at the rate in effect before the pause."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    _move(session, SessionAction.RESUME)
    _no_open_alerts(session, "resume")
    last_rate = (
        session.rate_events.filter(kind__in=["start", "resume", "rate"]).order_by("-at", "-id").first()
    )
    if last_rate is None:  # paused implies started
        raise ValidationError(NOT_STARTED, field="state", value=session.state)
    event = _event(
        session,
        user,
        RateEvent.Kind.RESUME,
        _event_at(session, "Resume", at, backdate_reason, _last_pump_event(session)),
        rate_mg=last_rate.rate_mg_per_h,
        rate_ml=last_rate.rate_ml_per_h,
        reason=reason.strip(),
        backdate_reason=backdate_reason,
    )
    _save(session, user, "state")
    _audit(user, session, f"Resumed the infusion at {event.rate_mg_per_h:.1f} mg/h")
    return event


def _titration_signer(
    user: User, signer: User | None, read_back: bool, session: InfusionSession, rate_mg_per_h: float
) -> tuple[User, bool]:
    """Who orders the titration: a prescriber in person (the user), or a verbal order the nurse read back."""
    if user.can(Permission.ORDER_SIGN):
        if signer is not None and signer.pk != user.pk:
            raise ValidationError(
                SIGNER_NOT_SELF.format(user=user, who=signer), field="signer", value=str(signer.external_id)
            )
        return user, False
    if signer is None:
        raise ValidationError(SIGNER_REQUIRED, field="signer", value=None)
    if not signer.can(Permission.ORDER_SIGN):
        raise ValidationError(
            SIGNER_NOT_PRESCRIBER.format(who=signer), field="signer", value=str(signer.external_id)
        )
    if not can_access_patient(signer, session.patient):
        raise ValidationError(
            SIGNER_OTHER_LOCATION.format(who=signer), field="signer", value=str(signer.external_id)
        )
    if not read_back:
        raise ValidationError(
            READ_BACK_REQUIRED.format(rate=rate_mg_per_h, who=signer), field="read_back", value=read_back
        )
    return signer, True


@transaction.atomic
def infusion_rate_change(
    *,
    user: User,
    session: InfusionSession,
    expected_version: int,
    rate_mg_per_h: float,
    reason: str,
    signer: User | None = None,
    read_back: bool = False,
    override_reason: str = "",
    at: datetime | None = None,
    backdate_reason: str = "",
) -> RateEvent:
    """Titration: a new rate with its reason, checked like an order by the core (limits, predicted peak).

    Ordered by a prescriber as themselves: in person (the user is the prescriber) or as a verbal order the
    nurse records with read-back, which the prescriber co-signs later (:func:`titration_cosign`).
    """
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    _allowed(session, SessionOp.RATE_CHANGE)
    signer, verbal = _titration_signer(user, signer, read_back, session, rate_mg_per_h)
    if not reason.strip():
        raise ValidationError(REASON_REQUIRED, field="reason", value=reason)
    order = signed_order(session)
    if order is None or not order.concentration_mg_per_ml:
        raise ValidationError(
            NO_PUMP.format(route=order.route if order else "no order"), field="order", value=None
        )
    if not rate_mg_per_h > 0:
        raise ValidationError(RATE_NOT_POSITIVE, field="rate_mg_per_h", value=rate_mg_per_h)
    dosing = session_document(session).dosing
    if dosing is None:
        raise ValidationError(NO_DOSING.format(value=session.protocol_version), field="protocol", value=None)
    when = _event_at(session, "Rate change", at, backdate_reason, _last_pump_event(session))
    points = rate_points(session)
    given = bag_delivery(points, when, order)  # the dose given so far, as the MAR will record it
    check = titration_check(
        dosing,
        new_rate_mg_per_h=rate_mg_per_h,
        dosing_weight_kg=order.dosing_weight_kg,
        actual_weight_kg=float(order.weight_kg),
        given_mg=given.delivered_mg,
        remaining_min=max((order.duration_min or 0.0) - given.infusing_min, 0.0),
        history=delivered_regimen(points, when),
    )
    override = (override_reason or "").strip()
    if check.warnings:
        if not override:
            raise ValidationError(
                TITRATION_OVERRIDE_REQUIRED.format(warnings="; ".join(w.message for w in check.warnings)),
                field="override_reason",
                value=override_reason,
            )
        check = titration_override(check, override)
    elif override:
        raise ValidationError(TITRATION_NO_WARNINGS, field="override_reason", value=override_reason)
    rate_ml = round(rate_mg_per_h / order.concentration_mg_per_ml, 1)
    pump_max = dosing.pump.max_rate_ml_per_h if dosing.pump is not None else None
    if pump_max is not None and rate_ml > pump_max:
        raise ValidationError(
            RATE_ABOVE_PUMP.format(value=rate_ml, high=pump_max), field="rate_mg_per_h", value=rate_mg_per_h
        )
    event = RateEvent(
        session=session,
        kind=RateEvent.Kind.RATE,
        at=when,
        rate_mg_per_h=rate_mg_per_h,
        rate_ml_per_h=rate_ml,
        reason=reason.strip(),
        recorded_by=user,
        signer=signer,
        verbal_order=verbal,
        read_back=verbal and read_back,
        override_reason=check.override_reason or "",
        limit_check=_limit_check(check),
        backdate_reason=backdate_reason.strip(),
    )
    clean_or_refuse(event)
    event.save()
    _save(session, user)
    _audit(
        user,
        session,
        f"Changed the rate to {rate_mg_per_h:g} mg/h ({rate_ml:g} mL/h), "
        + (f"verbal order of {signer}, read back" if verbal else f"ordered by {signer}")
        + f": {reason.strip()}"
        + (f" (override: {check.override_reason})" if check.override_reason else ""),
        signer=str(signer.external_id),
        verbal_order=verbal,
    )
    return event


def _limit_check(check: TitrationCheck) -> dict[str, Any]:
    return {
        "rate_mg_per_h": check.rate_mg_per_h,
        "rate_mg_per_kg_per_h": round(check.rate_mg_per_kg_per_h, 4),
        "given_mg": round(check.given_mg, 3),
        "given_mg_per_kg": round(check.given_mg_per_kg, 4),
        "remaining_min": round(check.remaining_min, 2),
        "projected_mg": round(check.projected_mg, 3),
        "projected_mg_per_kg": round(check.projected_mg_per_kg, 4),
        "predicted_peak_ng_per_ml": None
        if check.predicted_peak_ng_per_ml is None
        else round(check.predicted_peak_ng_per_ml, 1),
        "warnings": [w.message for w in check.warnings],
    }


@transaction.atomic
def titration_cosign(*, user: User, event: RateEvent) -> RateEvent:
    """A prescriber co-signs a verbal titration order: the named prescriber or another at the patient's
    location.

    Fills the co-signature once (the database refuses any other change of a rate event); audited."""
    require(user, Permission.ORDER_SIGN)
    event = (
        RateEvent.objects.select_for_update(of=("self",))
        .select_related(  # cosigned_by read after the lock
            "session__patient", "signer"
        )
        .get(pk=event.pk)
    )
    patient_for(user, event.session.patient, Permission.ORDER_SIGN)
    if not event.verbal_order:
        raise ValidationError(COSIGN_NOT_VERBAL, field="event", value=event.pk)
    if event.cosigned_at is not None:
        raise ValidationError(
            COSIGN_ALREADY.format(
                who=event.cosigned_by, when=f"{timezone.localtime(event.cosigned_at):%Y-%m-%d %H:%M}"
            ),
            field="event",
            value=event.pk,
        )
    event.cosigned_by, event.cosigned_at = user, timezone.now()
    event.save(update_fields=["cosigned_by", "cosigned_at"])
    _audit(
        user,
        event.session,
        f"Co-signed the verbal order of {event.signer} ({event.rate_mg_per_h:g} mg/h at "
        f"{timezone.localtime(event.at):%H:%M})",
        AuditEntry.Action.SIGN,
        rate_event=event.pk,
    )
    return event


@transaction.atomic
def infusion_stop(
    *,
    user: User,
    session: InfusionSession,
    expected_version: int,
    reason: str = "",
    at: datetime | None = None,
    backdate_reason: str = "",
) -> RateEvent:
    """Stop the pump: recovery (and the observation clock) begins at the stop; the ketamine given goes on the
    MAR.

    The stop may be entered late within the protocol's bounds, never before the last pump event nor before the
    last reading taken during the infusion (so a late stop cannot shorten the infusion the record shows). The
    MAR records what the pump delivered up to the stop, never more than the bag held (its VTBI)."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    _move(session, SessionAction.STOP)
    last_reading = (
        session.vitals.filter(phase=VitalSigns.Phase.INFUSION)
        .order_by("-taken_at")
        .values_list("taken_at", flat=True)
        .first()
    )
    when = _event_at(
        session,
        "Stop",
        at,
        backdate_reason,
        _last_pump_event(session),
        ("the last reading taken during the infusion", last_reading),
    )
    event = _event(
        session, user, RateEvent.Kind.STOP, when, reason=reason.strip(), backdate_reason=backdate_reason
    )
    session.ended_at = when
    given = session_delivery(session, when)
    order = signed_order(session)
    if (
        round(given.delivered_mg, 3) > 0
    ):  # an intranasal session's doses are recorded as administrations instead
        bag_empty = given.vtbi_reached_at is not None
        assert session.started_at is not None  # ketamine was delivered: the infusion started
        MedicationAdministration.objects.create(
            session=session,
            medication="ketamine",
            rxnorm=medication_get("ketamine").rxnorm,
            dose=Decimal(str(round(given.delivered_mg, 3))),
            unit="mg",
            route=order.route if order else "iv",
            at=session.started_at,
            ended_at=when,
            reason=(
                MAR_BAG_EMPTY.format(vtbi=given.vtbi_ml or 0.0) if bag_empty else "Infusion per signed order"
            ),
            created_by=user,
            updated_by=user,
        )
    _save(session, user, "state", "ended_at")
    _audit(
        user,
        session,
        f"Stopped the infusion after {given.elapsed_min:.0f} min: {given.delivered_mg:.1f} mg given"
        + (f" ({reason.strip()})" if reason.strip() else ""),
        delivered_mg=round(given.delivered_mg, 3),
    )
    return event
