"""The running infusion: start, pause, resume and stop (titration is :mod:`.titration`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction

from ketaclinic.accounts.models import User
from ketaclinic.base.models import clean_or_refuse
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.medications import INFUSED_DRUG, medication_get
from ketaclinic.core.infusion.pathway import pathway_message, pathway_problems
from ketaclinic.core.infusion.state import Guards, SessionAction
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
from ketaclinic.infusions.selectors.orders import latest_vial_check, session_delivery, signed_order
from ketaclinic.infusions.selectors.pathway import pathway_facts
from ketaclinic.infusions.services._common import (
    NO_SIGNED_ORDER,
    VIAL_CHECK_SAME_PERSON,
    _audit,
    _consent_required,
    _event_at,
    _last_pump_event,
    _local,
    _lock,
    _move,
    _order_allergy_refuse,
    _save,
)

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
            VIAL_CHECK_MISMATCH.format(who=check.checked_by, when=_local(session, check.checked_at)),
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
            medication=INFUSED_DRUG,
            rxnorm=medication_get(INFUSED_DRUG).rxnorm,
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
