"""Insurance writes for billing staff: payers, a patient's policies (coverage share, priority) and their prior
authorizations. One function per action, each in one transaction, audited; a refusal names the field, the
value and the allowed range, and nothing is saved."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import require
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.billing.models import InsurancePolicy, Payer, PriorAuthorization
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.patients.access import patient_for
from ketaclinic.patients.models import Patient

NAME_REQUIRED = "A payer needs a name (up to 120 characters)."
KIND_UNKNOWN = "The payer kind '{value}' is not one of: {allowed}. A self-paying patient needs no payer."
PAYER_INACTIVE = (
    "{payer} is no longer billed by the clinic (marked inactive on the payers page); choose an active payer, "
    "or mark it active again first."
)
MEMBER_REQUIRED = "A policy needs the member id on the patient's insurance card."
COVERAGE_RANGE = "Coverage of {value}% is outside 0 to 100%: give the share the payer covers, 0 to 100."
PRIORITY_RANGE = "Priority {value} is neither 1 (primary) nor 2 (secondary)."
TWO_PRIMARIES = (
    "{patient} already has an active {rank} policy ({payer}, member {member}): deactivate it or make "
    "this one {other}."
)
UNITS_RANGE = "Approved sessions of {value} is not allowed: an authorization approves 1 to 99 sessions."
LAST_BEFORE_FIRST = (
    "The last day {last} is before the first day {first}: the last day must be on or after it."
)
NUMBER_REQUIRED = "An authorization needs the payer's authorization number."
DUPLICATE_NUMBER = (
    "Authorization number {number} is already on file with {payer}: each number once per payer."
)
STATUS_UNKNOWN = "The status '{value}' is not one of: {allowed}."
RANKS = {1: "primary", 2: "secondary"}


def _audit(user: User, action: str, summary: str, patient: Patient | None, detail: dict[str, Any]) -> None:
    audit_record(
        action=action,
        actor=user,
        patient=patient,
        summary=summary,
        detail={k: str(v) for k, v in detail.items()},
        location_code=patient.location.code if patient is not None else "",
    )


def _payer_fields(name: str, kind: str, payer_id: str, address: str) -> dict[str, str]:
    name = name.strip()
    if not name or len(name) > 120:
        raise ValidationError(NAME_REQUIRED, field="name", value=name)
    if kind not in Payer.Kind.values:
        allowed = ", ".join(str(label) for label in Payer.Kind.labels)
        raise ValidationError(KIND_UNKNOWN.format(value=kind, allowed=allowed), field="kind", value=kind)
    return {"name": name, "kind": kind, "payer_id": payer_id.strip(), "address": address.strip()}


@transaction.atomic
def payer_add(*, user: User, name: str, kind: str, payer_id: str = "", address: str = "") -> Payer:
    require(user, Permission.BILLING_RECORD)
    payer = Payer(**_payer_fields(name, kind, payer_id, address))
    payer.full_clean()
    payer.save(force_insert=True)
    _audit(user, AuditEntry.Action.CREATE, f"Payer added: {payer.name}", None, {"payer": payer.external_id})
    return payer


@transaction.atomic
def payer_edit(
    *, user: User, payer: Payer, name: str, kind: str, payer_id: str = "", address: str = ""
) -> Payer:
    require(user, Permission.BILLING_RECORD)
    payer = Payer.objects.select_for_update().get(pk=payer.pk)
    before = {"name": payer.name, "kind": payer.kind, "payer_id": payer.payer_id, "address": payer.address}
    after = _payer_fields(name, kind, payer_id, address)
    for field, value in after.items():
        setattr(payer, field, value)
    payer.full_clean()
    payer.save()
    changed = {k: f"{before[k]} → {v}" for k, v in after.items() if before[k] != v}
    changed["payer"] = str(payer.external_id)
    _audit(user, AuditEntry.Action.UPDATE, f"Payer changed: {payer.name}", None, changed)
    return payer


@transaction.atomic
def payer_active_set(*, user: User, payer: Payer, active: bool) -> Payer:
    """Stop billing a payer (no new policies; those on file stay) or take it back; audited."""
    require(user, Permission.BILLING_RECORD)
    payer = Payer.objects.select_for_update().get(pk=payer.pk)
    if payer.active == active:
        return payer
    payer.active = active
    payer.save(update_fields=["active"])
    summary = f"Payer {'taken back' if active else 'no longer billed'}: {payer.name}"
    _audit(user, AuditEntry.Action.UPDATE, summary, None, {"payer": str(payer.external_id), "active": active})
    return payer


def _check_fields(member_id: str, coverage_percent: int, priority: int) -> None:
    """A policy's own fields: a member id, a share from 0 to 100 %, primary or secondary."""
    if not member_id.strip():
        raise ValidationError(MEMBER_REQUIRED, field="member_id", value=member_id)
    if not 0 <= coverage_percent <= 100:
        raise ValidationError(
            COVERAGE_RANGE.format(value=coverage_percent), field="coverage_percent", value=coverage_percent
        )
    if priority not in RANKS:
        raise ValidationError(PRIORITY_RANGE.format(value=priority), field="priority", value=priority)


def _check_billed(payer: Payer) -> None:
    """A payer newly put on a policy is one the clinic still bills (read fresh, not from the form's copy)."""
    if not Payer.objects.filter(pk=payer.pk, active=True).exists():
        raise ValidationError(PAYER_INACTIVE.format(payer=payer.name), field="payer", value=payer.name)


def _check_rank(patient: Patient, priority: int, exclude: int | None) -> None:
    """One active primary and one active secondary per patient (the patient's active policies locked)."""
    same_rank = InsurancePolicy.objects.select_for_update().filter(
        patient=patient, active=True, priority=priority
    )
    if exclude is not None:
        same_rank = same_rank.exclude(pk=exclude)
    clash = same_rank.select_related("payer").first()
    if clash is not None:
        raise ValidationError(
            TWO_PRIMARIES.format(
                patient=patient.display_name,
                rank=RANKS[priority],
                payer=clash.payer.name,
                member=clash.member_id,
                other=RANKS[3 - priority],
            ),
            field="priority",
            value=priority,
        )


@transaction.atomic
def policy_add(
    *,
    user: User,
    patient: Patient,
    payer: Payer,
    member_id: str,
    coverage_percent: int,
    priority: int = 1,
    group_number: str = "",
) -> InsurancePolicy:
    require(user, Permission.BILLING_RECORD)
    patient_for(user, patient, Permission.BILLING_RECORD)
    _check_fields(member_id, coverage_percent, priority)
    _check_billed(payer)
    _check_rank(patient, priority, None)
    policy = InsurancePolicy(
        patient=patient,
        payer=payer,
        member_id=member_id.strip(),
        group_number=group_number.strip(),
        coverage_percent=coverage_percent,
        priority=priority,
        created_by=user,
        updated_by=user,
    )
    policy.full_clean()
    policy.save(force_insert=True)
    _audit(
        user,
        AuditEntry.Action.CREATE,
        f"Insurance policy added: {payer.name}, member {policy.member_id}, covers {coverage_percent}%, "
        f"{RANKS[priority]}",
        patient,
        {"policy": policy.external_id},
    )
    return policy


@transaction.atomic
def policy_edit(
    *,
    user: User,
    policy: InsurancePolicy,
    payer: Payer,
    member_id: str,
    coverage_percent: int,
    priority: int,
    group_number: str = "",
) -> InsurancePolicy:
    require(user, Permission.BILLING_RECORD)
    policy = InsurancePolicy.objects.select_for_update().select_related("patient__location").get(pk=policy.pk)
    patient_for(user, policy.patient, Permission.BILLING_RECORD)
    _check_fields(member_id, coverage_percent, priority)
    if payer.pk != policy.payer_id:  # a payer no longer billed keeps its policies, takes no new ones
        _check_billed(payer)
    if policy.active:
        _check_rank(policy.patient, priority, policy.pk)
    policy.payer, policy.member_id, policy.group_number = payer, member_id.strip(), group_number.strip()
    policy.coverage_percent, policy.priority, policy.updated_by = coverage_percent, priority, user
    policy.full_clean()
    policy.save()
    _audit(
        user,
        AuditEntry.Action.UPDATE,
        f"Insurance policy changed: {payer.name}, member {policy.member_id}, covers {coverage_percent}%, "
        f"{RANKS[priority]}",
        policy.patient,
        {"policy": policy.external_id},
    )
    return policy


@transaction.atomic
def policy_deactivate(*, user: User, policy: InsurancePolicy) -> InsurancePolicy:
    """The policy stops counting (its authorizations no longer hold bookings); kept for the history."""
    require(user, Permission.BILLING_RECORD)
    policy = (
        InsurancePolicy.objects.select_for_update()
        .select_related("patient__location", "payer")
        .get(pk=policy.pk)
    )
    patient_for(user, policy.patient, Permission.BILLING_RECORD)
    policy.active, policy.updated_by = False, user
    policy.save(update_fields=["active", "updated_by", "updated_at"])
    _audit(
        user,
        AuditEntry.Action.UPDATE,
        f"Insurance policy deactivated: {policy.payer.name}, member {policy.member_id}",
        policy.patient,
        {"policy": policy.external_id},
    )
    return policy


def _status(status: str) -> str:
    if status not in PriorAuthorization.Status.values:
        allowed = ", ".join(str(label).lower() for label in PriorAuthorization.Status.labels)
        raise ValidationError(
            STATUS_UNKNOWN.format(value=status, allowed=allowed), field="status", value=status
        )
    return status


@transaction.atomic
def authorization_add(
    *,
    user: User,
    policy: InsurancePolicy,
    number: str,
    approved_units: int,
    first_day: date,
    last_day: date,
    status: str = PriorAuthorization.Status.APPROVED,
) -> PriorAuthorization:
    """Record a payer's prior authorization on a policy (the days are the clinic's calendar days)."""
    require(user, Permission.BILLING_RECORD)
    policy = InsurancePolicy.objects.select_related("patient__location", "payer").get(pk=policy.pk)
    patient_for(user, policy.patient, Permission.BILLING_RECORD)
    number = number.strip()
    if not number:
        raise ValidationError(NUMBER_REQUIRED, field="number", value=number)
    if not 1 <= approved_units <= 99:
        raise ValidationError(
            UNITS_RANGE.format(value=approved_units), field="approved_units", value=approved_units
        )
    if last_day < first_day:
        raise ValidationError(
            LAST_BEFORE_FIRST.format(last=last_day.isoformat(), first=first_day.isoformat()),
            field="last_day",
            value=last_day,
        )
    # Lock the payer row so two clerks typing one number at once are serialised on PostgreSQL.
    Payer.objects.select_for_update().get(pk=policy.payer_id)
    if PriorAuthorization.objects.filter(policy__payer_id=policy.payer_id, number__iexact=number).exists():
        raise ValidationError(
            DUPLICATE_NUMBER.format(number=number, payer=policy.payer.name), field="number", value=number
        )
    auth = PriorAuthorization(
        policy=policy,
        number=number,
        approved_units=approved_units,
        first_day=first_day,
        last_day=last_day,
        status=_status(status),
        created_by=user,
        updated_by=user,
    )
    auth.full_clean()
    auth.save(force_insert=True)
    _audit(
        user,
        AuditEntry.Action.CREATE,
        f"Prior authorization {number} ({policy.payer.name}): {approved_units} sessions, "
        f"{first_day.isoformat()} to {last_day.isoformat()}, {auth.get_status_display().lower()}",
        policy.patient,
        {"authorization": auth.external_id},
    )
    return auth


@transaction.atomic
def authorization_status_set(
    *, user: User, authorization: PriorAuthorization, status: str
) -> PriorAuthorization:
    require(user, Permission.BILLING_RECORD)
    auth = PriorAuthorization.objects.select_for_update().get(pk=authorization.pk)
    policy = InsurancePolicy.objects.select_related("patient__location", "payer").get(pk=auth.policy_id)
    patient_for(user, policy.patient, Permission.BILLING_RECORD)
    before = auth.get_status_display().lower()
    auth.status, auth.updated_by = _status(status), user
    auth.save(update_fields=["status", "updated_by", "updated_at"])
    after = auth.get_status_display().lower()
    _audit(
        user,
        AuditEntry.Action.UPDATE,
        f"Prior authorization {auth.number} ({policy.payer.name}): {before} → {after}",
        policy.patient,
        {"authorization": auth.external_id},
    )
    return auth
