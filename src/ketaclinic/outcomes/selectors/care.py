"""Reads of measurement-based care shared by pages and the API: open safety flags, boosters, a patient's
responses and trajectories, which questionnaires are due, the worklist, and each patient's settings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from ketaclinic.accounts.models import Location, User
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import DomainError
from ketaclinic.core.instruments import shipped_instruments
from ketaclinic.core.outcomes import (
    Answered,
    DueItem,
    DueQuestionnaire,
    DueStatus,
    MeasurementSchedule,
    TrajectoryPoint,
    TrajectoryStatus,
    due_schedule,
    due_statuses,
    trajectory_status,
)
from ketaclinic.core.protocols.document import OutcomesSection
from ketaclinic.outcomes.emails import until_words
from ketaclinic.outcomes.models import (
    BoosterProposal,
    LinkDispatch,
    PatientLink,
    QuestionnaireResponse,
    SafetyFlag,
)
from ketaclinic.patients.access import patient_for
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.protocols.selectors import protocol_for_indication
from ketaclinic.screening.models import Referral

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
    """Responses no correction has replaced."""
    return QuestionnaireResponse.objects.filter(replaced_by__isnull=True)


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
        .select_related("replaced_by")
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
    return [
        Answered(instrument, timepoint, number, timezone.localdate(at))
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


# -- the questionnaires worklist --------------------------------------------------------------------------

ItemKey = tuple[str, str, int | None]  # instrument, timepoint, infusion number


def item_key(item: DueItem) -> ItemKey:
    return item.instrument, item.questionnaire.timepoint, item.questionnaire.infusion_number


@dataclass(frozen=True)
class WorklistRow:
    patient: Patient
    item: DueItem
    live_link: PatientLink | None  # an unused, unexpired link for this questionnaire
    dispatch: LinkDispatch | None  # the latest attempt to email a link for it
    sendable: bool  # its wording ships, so it can go by link
    instrument_name: str

    @property
    def link_until(self) -> str:
        return until_words(self.live_link.expires_at) if self.live_link is not None else ""

    @property
    def hand_out(self) -> bool:
        """No email address: a member of staff hands the patient a link (or enters the answers)."""
        return not self.patient.email


@dataclass(frozen=True)
class Worklist:
    today: date
    location: Location | None
    rows: list[WorklistRow]

    @property
    def overdue(self) -> list[WorklistRow]:
        return [r for r in self.rows if r.item.status is DueStatus.OVERDUE]

    @property
    def due(self) -> list[WorklistRow]:
        return [r for r in self.rows if r.item.status is DueStatus.DUE]


def _due_items_by_patient(patients: QuerySet[Patient], today: date) -> dict[Patient, tuple[DueItem, ...]]:
    """``due_status_for_patient`` for many patients in a bounded number of queries (plans, their series,
    done infusions of patients without a plan, current answers, referrals, plus one per protocol lookup)."""
    plans: dict[int, TreatmentPlan] = {}
    for latest in (
        TreatmentPlan.objects.filter(patient__in=patients, status__in=["active", "completed"])
        .select_related("protocol_version", "patient", "patient__location")
        .order_by("-created_at", "-id")
    ):
        plans.setdefault(latest.patient_id, latest)
    series: dict[int, list[date]] = {}
    for plan_id, start in (
        PlannedInfusion.objects.filter(plan__in=list(plans.values()), kind="series")
        .exclude(status="cancelled")
        .order_by("scheduled_start")
        .values_list("plan_id", "scheduled_start")
    ):
        series.setdefault(plan_id, []).append(timezone.localdate(start))
    answers: dict[int, list[tuple[str, str, int | None, datetime]]] = {}
    for patient_id, *row in (
        current_responses()
        .filter(patient__in=patients)
        .exclude(timepoint="ad_hoc")
        .order_by("authored_at", "id")
        .values_list("patient_id", *_ANSWER_FIELDS)
    ):
        answers.setdefault(patient_id, []).append(tuple(row))
    others = {
        p.pk: p for p in Patient.objects.filter(pk__in=set(answers) - set(plans)).select_related("location")
    }
    fallback = {pid for pid in [*plans, *others] if not (pid in plans and series.get(plans[pid].pk))}
    done: dict[int, list[date]] = {}
    for patient_id, start in (
        PlannedInfusion.objects.filter(plan__patient_id__in=fallback, status="done")
        .order_by("scheduled_start")
        .values_list("plan__patient_id", "scheduled_start")
    ):
        done.setdefault(patient_id, []).append(timezone.localdate(start))
    referrals: dict[int, str] = {}
    for patient_id, indication in (
        Referral.objects.filter(patient_id__in=[*plans, *others])
        .order_by("received_on", "id")
        .values_list("patient_id", "indication")
    ):
        referrals[patient_id] = indication  # the latest wins
    by_indication: dict[str, OutcomesSection] = {}

    def section(patient_id: int, plan: TreatmentPlan | None) -> OutcomesSection:
        return outcomes_settings_for(plan, referrals.get(patient_id), by_indication)

    out: dict[Patient, tuple[DueItem, ...]] = {}
    for patient_id in [*plans, *others]:
        plan = plans.get(patient_id)
        patient = plan.patient if plan is not None else others[patient_id]
        rows = answers.get(patient_id, [])
        dates = series.get(plan.pk, []) if plan is not None else []
        if not dates:  # as infusion_marks: done infusions, else one per baseline / before-infusion answer
            dates = done.get(patient_id) or _marks_from_answers(rows)
        items = due_schedule(sorted(dates), today=today, schedule=_schedule(section(patient_id, plan)))
        out[patient] = due_statuses(items, _answered(rows), today=today)
    return out


def _marks_from_answers(rows: list[tuple[str, str, int | None, datetime]]) -> list[date]:
    marks: dict[int, datetime] = {}
    for _instrument, timepoint, number, when in sorted(rows, key=lambda r: r[3]):
        if timepoint not in ("baseline", "pre_infusion"):
            continue
        n = 1 if timepoint == "baseline" else number
        if n and n not in marks:
            marks[n] = when + timedelta(minutes=30)
    return [timezone.localdate(when) for when in sorted(marks.values())]


def worklist_patients(location: Location | None) -> QuerySet[Patient]:
    """Patients who can have questionnaires due: a signed plan, or answers at a baseline or before an
    infusion."""
    patients = Patient.objects.all() if location is None else Patient.objects.filter(location=location)
    return patients.filter(
        Exists(TreatmentPlan.objects.filter(patient=OuterRef("pk"), status__in=["active", "completed"]))
        | Exists(
            current_responses().filter(patient=OuterRef("pk"), timepoint__in=["baseline", "pre_infusion"])
        )
    )


def questionnaire_worklist(
    *,
    user: User | None,
    location: Location | None,
    today: date | None = None,
    among: Sequence[int] | None = None,
) -> Worklist:
    """Questionnaires due today or overdue (while an answer would still count) at a location, with each one's
    live link and latest emailing; a fixed number of queries whatever the number of patients.

    ``user=None`` is the daily job (every location when ``location`` is None), by chunks of ``among`` ids."""
    if user is not None:
        require(user, Permission.QUESTIONNAIRE_RECORD)
        if location is None or location.pk not in user_location_ids(user):
            raise PermissionDenied(LOCATION_NOT_YOURS.format(value=location))
    today = today or timezone.localdate()
    patients = (
        worklist_patients(location) if among is None else worklist_patients(location).filter(pk__in=among)
    )
    by_patient = _due_items_by_patient(patients, today)
    waiting = [
        (patient, item) for patient, items in by_patient.items() for item in items if item.can_still_answer
    ]
    live: dict[tuple[int, ItemKey], PatientLink] = {}
    dispatches: dict[tuple[int, ItemKey, date], LinkDispatch] = {}
    if waiting:
        ids = {patient.pk for patient, _ in waiting}
        for link in PatientLink.objects.filter(
            patient_id__in=ids, used_at__isnull=True, expires_at__gt=timezone.now()
        ).order_by("expires_at"):
            live[(link.patient_id, (link.instrument, link.timepoint, link.infusion_number))] = link
        earliest = min(item.questionnaire.due_on for _, item in waiting)
        for d in LinkDispatch.objects.filter(patient_id__in=ids, due_on__gte=earliest).order_by(
            "sent_at", "id"
        ):
            dispatches[(d.patient_id, (d.instrument, d.timepoint, d.infusion_number), d.due_on)] = (
                d  # the latest wins
            )
    library = shipped_instruments()
    rows = []
    for patient, item in waiting:
        key = item_key(item)
        rows.append(
            WorklistRow(
                patient,
                item,
                live.get((patient.pk, key)),
                dispatches.get((patient.pk, key, item.questionnaire.due_on)),
                item.instrument in library and library[item.instrument].wording == "shipped",
                library[item.instrument].name if item.instrument in library else item.instrument,
            )
        )
    rows.sort(
        key=lambda r: (
            r.item.status is not DueStatus.OVERDUE,
            r.item.questionnaire.due_on,
            r.patient.family_name,
            r.patient.given_name,
            r.patient.pk,
            r.item.instrument,
        )
    )
    return Worklist(today=today, location=location, rows=rows)


def patients_in_treatment(patients: set[Patient]) -> set[int]:
    """Patients whose latest plan (superseded revisions aside) is active or completed: only they are emailed
    automatically. A patient screened out, with a plan still in draft, or whose plan was stopped (an adverse
    event, a withdrawal) is left to staff on the worklist, never emailed by the daily job."""
    latest: dict[int, str] = {}
    for patient_id, status in (
        TreatmentPlan.objects.filter(patient__in=patients)
        .exclude(status=TreatmentPlan.Status.SUPERSEDED)
        .order_by("patient_id", "-created_at", "-id")
        .values_list("patient_id", "status")
    ):
        latest.setdefault(patient_id, status)
    return {
        pid
        for pid, status in latest.items()
        if status in (TreatmentPlan.Status.ACTIVE, TreatmentPlan.Status.COMPLETED)
    }
