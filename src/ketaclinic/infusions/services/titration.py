"""Titration: rate changes ordered by a prescriber in person or verbally (read back by the nurse), checked
against the protocol's limits, and the co-signature of verbal orders."""

from __future__ import annotations

from datetime import datetime
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
from ketaclinic.core.infusion.titration import (
    TITRATION_NO_WARNINGS,
    TitrationCheck,
    titration_check,
    titration_override,
)
from ketaclinic.infusions.models import InfusionSession, RateEvent
from ketaclinic.infusions.selectors.orders import bag_delivery, rate_points, signed_order
from ketaclinic.infusions.selectors.pathway import session_document
from ketaclinic.infusions.services._common import (
    NO_DOSING,
    REASON_REQUIRED,
    _allowed,
    _audit,
    _event_at,
    _last_pump_event,
    _local,
    _lock,
    _save,
)
from ketaclinic.patients.access import can_access_patient, patient_for

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
            "session__patient", "session__location", "signer"
        )
        .get(pk=event.pk)
    )
    patient_for(user, event.session.patient, Permission.ORDER_SIGN)
    if not event.verbal_order:
        raise ValidationError(COSIGN_NOT_VERBAL, field="event", value=event.pk)
    if event.cosigned_at is not None:
        raise ValidationError(
            COSIGN_ALREADY.format(
                who=event.cosigned_by, when=_local(event.session, event.cosigned_at, "%Y-%m-%d %H:%M")
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
        f"{_local(event.session, event.at)})",
        AuditEntry.Action.SIGN,
        rate_event=event.pk,
    )
    return event
