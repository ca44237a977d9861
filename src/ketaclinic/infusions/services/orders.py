"""The infusion order: calculate it, sign it (a prescriber), and the second clinician's independent check
of the bag."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.base.models import clean_or_refuse
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.actions import SessionOp
from ketaclinic.core.infusion.vial_check import typed_values, vial_check_compare
from ketaclinic.core.pharmacology.ceiling import order_peak_check
from ketaclinic.core.pharmacology.dosing import (
    MIN_OVERRIDE_REASON_CHARS,
    NO_WARNINGS_TO_OVERRIDE,
    OVERRIDE_TOO_SHORT,
    dose_calculate,
)
from ketaclinic.core.pharmacology.units import Kind, quantity_parse
from ketaclinic.infusions.models import InfusionOrder, InfusionSession, VialCheck
from ketaclinic.infusions.selectors.orders import order_prediction, signed_order
from ketaclinic.infusions.selectors.pathway import session_document
from ketaclinic.infusions.services._common import (
    NO_DOSING,
    NO_SIGNED_ORDER,
    VIAL_CHECK_SAME_PERSON,
    _allowed,
    _audit,
    _local,
    _lock,
    _order_allergy_refuse,
    _save,
)
from ketaclinic.patients.models import BodyMeasurement

VIAL_CHECK_NO_BAG = "This session's order has no bag to check ({route})."
OVERRIDE_REQUIRED = (
    "This order goes beyond a soft limit ({warnings}); a prescriber must give an override reason to sign it."
)
ORDER_OTHER_SESSION = "That order belongs to another session."
ORDER_NOT_CURRENT = "This order was replaced by a newer calculation; sign the current one."
ORDER_ALREADY_SIGNED = "This session already has an order signed by {who} at {when}."
NO_WEIGHT_TODAY = "Record today's weight on the checklist before calculating the order."


@transaction.atomic
def order_create(
    *,
    user: User,
    session: InfusionSession,
    expected_version: int,
    dose: str | None = None,
    duration_min: float | None = None,
    vial_mg_per_ml: float | None = None,
    bag_ml: float | None = None,
) -> InfusionOrder:
    """Calculate the order from today's weight with the dose engine (hard limits refused for anyone)."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    _allowed(session, SessionOp.ORDER_CALCULATE)
    signed = (
        session.orders.filter(signed_at__isnull=False, voided_at__isnull=True)
        .select_related("signed_by")
        .first()
    )
    if signed is not None:
        raise ValidationError(
            ORDER_ALREADY_SIGNED.format(who=signed.signed_by, when=_local(session, signed.signed_at)),
            field="order",
            value=str(signed.external_id),
        )
    if session.weight_kg is None:
        raise ValidationError(NO_WEIGHT_TODAY, field="weight", value=None)
    _order_allergy_refuse(session)
    doc = session_document(session)
    if doc.dosing is None:
        raise ValidationError(NO_DOSING.format(value=doc.id), field="protocol", value=doc.id)
    height = session.patient.measurements.filter(kind=BodyMeasurement.Kind.HEIGHT).first()
    sex = session.patient.sex_at_birth if session.patient.sex_at_birth in ("male", "female") else None
    parsed = (
        None
        if not dose
        else quantity_parse(dose, Kind.RATE if doc.dosing.basis.is_rate else Kind.DOSE, field="dose")
    )
    calc = dose_calculate(
        doc.dosing,
        weight_kg=float(session.weight_kg),
        height_cm=None if height is None else float(height.value_si),
        sex=sex,
        dose=parsed,
        duration_min=duration_min,
        vial_mg_per_ml=vial_mg_per_ml,
        bag_ml=bag_ml,
        require_height=True,
    )
    order_peak_check(doc.dosing, calc)
    session.orders.filter(signed_at__isnull=True, superseded=False).update(superseded=True)
    p = calc.pump
    order = InfusionOrder(
        session=session,
        weight_kg=session.weight_kg,
        dosing_weight_kg=calc.dosing_weight.kg,
        dosing_weight_basis=calc.dosing_weight.basis.value,
        dose_mg=calc.dose_mg,
        dose_mg_per_kg=calc.dose_mg_per_kg,
        route=calc.route.value,
        duration_min=calc.duration_min,
        rate_mg_per_h=None if p is None else p.delivered_rate_mg_per_h,
        rate_ml_per_h=None if p is None else p.rate_ml_per_h,
        concentration_mg_per_ml=None if p is None else p.concentration_mg_per_ml,
        vial_mg_per_ml=None if p is None else p.vial_mg_per_ml,
        drug_volume_ml=None if p is None else p.drug_volume_ml,
        bag_ml=None if p is None else p.bag_ml,
        vtbi_ml=None if p is None else p.vtbi_ml,
        calculation=calc.as_dict(),
        prediction=order_prediction(doc.dosing.pk_model, calc),
        warnings=[w.message for w in calc.warnings],
        created_by=user,
        updated_by=user,
    )
    clean_or_refuse(order)
    order.save()
    _save(session, user)
    _audit(
        user,
        session,
        f"Calculated infusion order: {calc.dose_mg:.1f} mg ({calc.dose_mg_per_kg:.3g} mg/kg)"
        + (f", {len(calc.warnings)} soft-limit warning(s)" if calc.warnings else ""),
        AuditEntry.Action.CREATE,
        order=str(order.external_id),
        warnings=order.warnings,
    )
    return order


@transaction.atomic
def order_sign(
    *, user: User, order: InfusionOrder, expected_version: int, override_reason: str = ""
) -> InfusionOrder:
    """A prescriber signs; beyond a soft limit the override reason is required (hard limits never got
    here)."""
    session = _lock(user, order.session, Permission.ORDER_SIGN, expected_version)
    order = InfusionOrder.objects.select_for_update(of=("self",)).get(
        pk=order.pk
    )  # signed_by read after the lock
    if order.signed:
        raise ValidationError(
            ORDER_ALREADY_SIGNED.format(who=order.signed_by, when=_local(session, order.signed_at)),
            field="order",
            value=str(order.external_id),
        )
    if order.superseded:
        raise ValidationError(ORDER_NOT_CURRENT, field="order", value=str(order.external_id))
    _order_allergy_refuse(session)
    _allowed(session, SessionOp.ORDER_SIGN)
    reason = (override_reason or "").strip()
    if order.warnings and not reason:
        raise ValidationError(
            OVERRIDE_REQUIRED.format(warnings="; ".join(order.warnings)),
            field="override_reason",
            value=override_reason,
        )
    if reason and not order.warnings:
        raise ValidationError(NO_WARNINGS_TO_OVERRIDE, field="override_reason", value=override_reason)
    if reason and len(reason) < MIN_OVERRIDE_REASON_CHARS:
        raise ValidationError(
            OVERRIDE_TOO_SHORT.format(low=MIN_OVERRIDE_REASON_CHARS, value=override_reason),
            field="override_reason",
            value=override_reason,
        )
    order.override_reason, order.signed_by, order.signed_at, order.updated_by = (
        reason,
        user,
        timezone.now(),
        user,
    )
    order.save()
    _save(session, user)
    _audit(
        user,
        session,
        f"Signed infusion order {order.dose_mg:.1f} mg" + (f" (override: {reason})" if reason else ""),
        AuditEntry.Action.SIGN,
        order=str(order.external_id),
    )
    return order


@transaction.atomic
def vial_check_record(
    *, user: User, session: InfusionSession, expected_version: int, vial_mg_per_ml: Any, drawn_ml: Any
) -> VialCheck:
    """A second clinician's independent check of the bag: the vial strength and volume drawn they read, typed
    without seeing the order. Recorded whether it matches or not; a mismatch blocks the start."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    _allowed(session, SessionOp.BAG_CHECK)
    order = signed_order(session)
    if order is None:
        raise ValidationError(NO_SIGNED_ORDER, field="order", value=None)
    if order.vial_mg_per_ml is None or order.drug_volume_ml is None:
        raise ValidationError(
            VIAL_CHECK_NO_BAG.format(route=order.route), field="order", value=str(order.external_id)
        )
    if user.pk == order.created_by_id:
        raise ValidationError(
            VIAL_CHECK_SAME_PERSON.format(who=user), field="user", value=str(user.external_id)
        )
    vial, drawn = typed_values(vial_mg_per_ml, drawn_ml)
    result = vial_check_compare(
        ordered_vial_mg_per_ml=order.vial_mg_per_ml,
        ordered_drawn_ml=order.drug_volume_ml,
        typed_vial_mg_per_ml=vial,
        typed_drawn_ml=drawn,
    )
    check = VialCheck.objects.create(
        session=session,
        order=order,
        checked_by=user,
        checked_at=timezone.now(),
        typed_vial_mg_per_ml=vial,
        typed_drawn_ml=drawn,
        match=result.match,
        problems=list(result.problems(vial, drawn)),
    )
    _save(session, user)
    _audit(
        user,
        session,
        "Independent check of the bag: "
        + ("matches the order" if result.match else "DOES NOT match the order; the start is blocked"),
        AuditEntry.Action.CREATE,
        vial_check=check.pk,
        match=result.match,
    )
    return check
