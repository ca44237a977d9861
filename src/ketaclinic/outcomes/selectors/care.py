"""Reads of measurement-based care shared by pages and the API: open safety flags, boosters, a patient's
responses and trajectories, which questionnaires are due, the worklist, and each patient's settings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from ketaclinic.accounts.models import Location, User
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import DomainError
from ketaclinic.core.outcomes import (
    Answered,
    DueItem,
    DueQuestionnaire,
    MeasurementSchedule,
    TrajectoryPoint,
    TrajectoryStatus,
    due_schedule,
    due_statuses,
    trajectory_status,
)
from ketaclinic.core.protocols.document import OutcomesSection
from ketaclinic.outcomes.models import (
    BoosterProposal,
    QuestionnaireResponse,
    SafetyFlag,
)
from ketaclinic.patients.access import patient_for
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.protocols.selectors import protocol_for_indication

PHQ9_RESPONSE_MIN_BASELINE = (
    10  # the clinic's short-term response definition (the PHQ-9 definition's change section)
)
PHQ9_REMISSION_BELOW = 5  # the clinic's short-term remission definition
LOCATION_NOT_YOURS = "You do not work at {value}: the questionnaires worklist shows only your own locations."


def current_plan(patient: Patient) -> TreatmentPlan | None:
    return (
        TreatmentPlan.objects.filter(patient=patient, status__in=["active", "completed"])
        .select_related("protocol_version")
        .order_by("-created_at")
        .first()
    )


def outcomes_settings_for(
    plan: TreatmentPlan | None,
    indication: str | None,
    by_indication: dict[str, OutcomesSection] | None = None,
) -> OutcomesSection:
    """The one rule for a patient's measurement settings: the ``outcomes`` section of the plan's protocol;
    without a plan (or a section there), that of the protocol for the referral's indication; else the
    defaults. ``by_indication`` caches the protocol lookups when many patients are read at once."""
    if plan is not None and plan.protocol_version.parsed.outcomes is not None:
        return plan.protocol_version.parsed.outcomes
    if not indication:
        return OutcomesSection()
    cache = by_indication if by_indication is not None else {}
    if indication not in cache:
        try:
            found = protocol_for_indication(indication).parsed.outcomes
        except DomainError:
            found = None
        cache[indication] = found or OutcomesSection()
    return cache[indication]


def outcomes_settings(patient: Patient, plan: TreatmentPlan | None = None) -> OutcomesSection:
    """The protocol's ``outcomes`` section for this patient (the plan's protocol), or the defaults."""
    plan = plan if plan is not None else current_plan(patient)
    if plan is not None and plan.protocol_version.parsed.outcomes is not None:
        return plan.protocol_version.parsed.outcomes
    referral = patient.referrals.order_by("-received_on", "-id").first()
    return outcomes_settings_for(plan, referral.indication if referral else None)


def indication_of(patient: Patient, plan: TreatmentPlan | None) -> str:
    if plan is not None:
        return plan.indication
    referral = patient.referrals.order_by("-received_on").first()
    return referral.indication if referral else ""


def link_expiry(item: DueItem, now: datetime) -> datetime:
    """An emailed link lasts until the end of the last day an answer still counts (clinic time), at most
    72 hours and at least 1 hour from now."""
    end = timezone.make_aware(datetime.combine(item.window.late_until + timedelta(days=1), time.min))
    return max(now + timedelta(hours=1), min(now + timedelta(hours=72), end))


def current_responses() -> QuerySet[QuestionnaireResponse]:
    """Responses no correction has replaced.

    ``NOT EXISTS`` rather than ``replaced_by__isnull=True``: Django writes the latter as a LEFT JOIN filtered
    on the joined row's key being NULL, which PostgreSQL neither turns into an anti-join nor estimates (a key
    is never NULL: it counts on 1 row, then nests loops over the whole table); ``NOT EXISTS`` is an anti-join
    on the unique index of ``replaces`` with the right estimate, on both databases."""
    return QuestionnaireResponse.objects.filter(
        ~Exists(QuestionnaireResponse.objects.filter(replaces=OuterRef("pk")))
    )


# -- safety flags ---------------------------------------------------------------------------------------


def open_safety_flags(
    location: Location, on: date | None = None, *, patients: Iterable[int] = ()
) -> list[SafetyFlag]:
    """Open (urgent) flags of a location's patients, and of ``patients`` (ids: those on the day board, who may
    be cared for elsewhere, as on a home visit), raised on or before ``on``: for the day board. One query; no
    permission check (the board's selector checked ``board.view`` and the location)."""
    on = on or timezone.localdate()
    end = timezone.make_aware(datetime.combine(on + timedelta(days=1), time.min))
    return list(
        SafetyFlag.objects.filter(
            Q(patient__location=location) | Q(patient_id__in=list(patients)),
            status=SafetyFlag.Status.OPEN,
            raised_at__lt=end,
        )
        .select_related("patient", "response")
        .order_by("raised_at")
    )


def safety_flags_open_for(*, user: User) -> list[SafetyFlag]:
    """Open flags of the user's locations (dashboard and API); one query."""
    require(user, Permission.CLINICAL_VIEW)
    return list(
        SafetyFlag.objects.filter(
            status=SafetyFlag.Status.OPEN, patient__location_id__in=user_location_ids(user)
        )
        .select_related("patient", "response")
        .order_by("raised_at")
    )


def safety_flag_get(
    *, user: User, external_id: str, permission: Permission = Permission.CLINICAL_VIEW
) -> SafetyFlag:
    flag = SafetyFlag.objects.select_related("patient", "response", "assessed_by").get(
        external_id=external_id
    )
    patient_for(user, flag.patient, permission)
    return flag


def booster_proposals_open_for(*, user: User) -> list[BoosterProposal]:
    require(user, Permission.BOOSTER_DECIDE)
    return list(
        BoosterProposal.objects.filter(
            status="proposed", patient__location_id__in=user_location_ids(user)
        ).select_related("patient", "response")
    )


def booster_get(*, user: User, external_id: str) -> BoosterProposal:
    proposal = BoosterProposal.objects.select_related("patient").get(external_id=external_id)
    patient_for(user, proposal.patient, Permission.BOOSTER_DECIDE)
    return proposal


def response_get(
    *, user: User, external_id: str, permission: Permission = Permission.CLINICAL_VIEW
) -> QuestionnaireResponse:
    response = QuestionnaireResponse.objects.select_related("patient").get(external_id=external_id)
    patient_for(user, response.patient, permission)
    return response


def responses_for_patient(*, user: User, patient: Patient) -> list[QuestionnaireResponse]:
    patient_for(user, patient, Permission.CLINICAL_VIEW)
    return list(
        QuestionnaireResponse.objects.filter(patient=patient)
        .select_related("patient", "replaces", "replaced_by")
        .order_by("-authored_at", "-id")
    )


# -- trajectory -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trajectory:
    instrument: str
    points: list[tuple[datetime, float, int]]  # authored_at, total, infusions before it
    infusions: list[tuple[datetime, int]]  # when, number
    status: TrajectoryStatus


def infusion_marks(patient: Patient) -> list[tuple[datetime, int]]:
    """Infusions given: the plan's done PlannedInfusions; without a plan, one after each baseline or
    before-infusion questionnaire (a pre-infusion questionnaire N is answered just before infusion N)."""
    done = list(
        PlannedInfusion.objects.filter(plan__patient=patient, status="done")
        .order_by("scheduled_start")
        .values_list("scheduled_start", flat=True)
    )
    if done:
        return [(when, n) for n, when in enumerate(done, start=1)]
    rows = (
        current_responses()
        .filter(patient=patient, timepoint__in=["baseline", "pre_infusion"])
        .values_list("authored_at", "infusion_number", "timepoint")
        .order_by("authored_at")
    )
    marks: dict[int, datetime] = {}
    for when, number, timepoint in rows:
        n = 1 if timepoint == "baseline" else number
        if n and n not in marks:
            marks[n] = when + timedelta(minutes=30)
    return sorted(((when, n) for n, when in marks.items()), key=lambda m: m[0])


def trajectory_get(*, user: User, patient: Patient, instrument: str) -> Trajectory:
    patient_for(user, patient, Permission.CLINICAL_VIEW)
    marks = infusion_marks(patient)
    rows = list(
        current_responses()
        .filter(patient=patient, instrument=instrument, total__isnull=False)
        .order_by("authored_at", "id")
        .values_list("authored_at", "total")
    )
    points = [  # every total is there (the filter): the check is for the type checker
        (when, total, sum(1 for m, _ in marks if m < when)) for when, total in rows if total is not None
    ]
    fraction = outcomes_settings(patient).relapse_fraction
    status = trajectory_status(
        instrument, [TrajectoryPoint(t, n) for _, t, n in points], relapse_fraction=fraction
    )
    return Trajectory(instrument, points, marks, status)


def _schedule(section: OutcomesSection) -> MeasurementSchedule:
    return MeasurementSchedule(
        instruments=section.instruments,
        follow_up_days=section.follow_up_days,
        post_series_weeks=section.post_series_weeks,
        monthly_days=section.monthly_days,
        monthly_count=section.monthly_count,
    )


def due_for_patient(patient: Patient, today: date | None = None) -> tuple[DueQuestionnaire, ...]:
    """The measurement schedule from the plan's infusions (or today's baseline) and the protocol's section."""
    today = today or timezone.localdate()
    plan = current_plan(patient)
    dates = []
    if plan is not None:
        dates = [
            timezone.localdate(s)
            for s in plan.infusions.filter(kind="series")
            .exclude(status="cancelled")
            .order_by("scheduled_start")
            .values_list("scheduled_start", flat=True)
        ]
    if not dates:  # no plan on this branch of the pathway: the infusions the answers show
        dates = [timezone.localdate(when) for when, _ in infusion_marks(patient)]
    return due_schedule(dates, today=today, schedule=_schedule(outcomes_settings(patient, plan)))


def _answered(rows: Iterable[tuple[str, str, int | None, datetime]]) -> list[Answered]:
    zone = timezone.get_current_timezone()  # once: looking it up per answer cost the worklist a tenth
    return [
        Answered(instrument, timepoint, number, at.astimezone(zone).date())
        for instrument, timepoint, number, at in rows
    ]


_ANSWER_FIELDS = ("instrument", "timepoint", "infusion_number", "authored_at")


def due_status_for_patient(patient: Patient, today: date | None = None) -> tuple[DueItem, ...]:
    """Each due questionnaire and instrument with its status (core ``due_statuses``) from the current
    answers."""
    today = today or timezone.localdate()
    rows = (
        current_responses().filter(patient=patient).exclude(timepoint="ad_hoc").values_list(*_ANSWER_FIELDS)
    )
    return due_statuses(due_for_patient(patient, today), _answered(rows), today=today)
