"""The questionnaires worklist: which questionnaires are due or overdue at a location, with each one's live
link and latest emailing; and which patients the daily job may email. A fixed number of queries whatever the
number of patients, and each query bounded by the location's patients, never by the network's."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from ketaclinic.accounts.models import Location, User
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.core.access import Permission
from ketaclinic.core.instruments import shipped_instruments
from ketaclinic.core.outcomes import (
    DueItem,
    DueStatus,
    answerable_days_after_last,
    due_schedule,
    due_statuses,
)
from ketaclinic.core.protocols.document import OutcomesSection
from ketaclinic.outcomes.emails import until_words
from ketaclinic.outcomes.models import LinkDispatch, PatientLink, QuestionnaireResponse
from ketaclinic.outcomes.selectors.care import (
    _ANSWER_FIELDS,
    LOCATION_NOT_YOURS,
    _answered,
    _schedule,
    current_responses,
    outcomes_settings_for,
)
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.protocols.models import ProtocolVersion
from ketaclinic.screening.models import Referral

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
    zone = timezone.get_current_timezone()
    plans: dict[int, TreatmentPlan] = {}
    for latest in (
        TreatmentPlan.objects.filter(patient__in=patients, status__in=["active", "completed"])
        .select_related("protocol_version", "patient", "patient__location")
        .order_by("-created_at", "-id")
    ):
        plans.setdefault(latest.patient_id, latest)
    # one instance per protocol version, so each document is parsed once, not once per patient's plan
    versions: dict[int, ProtocolVersion] = {}
    for signed in plans.values():
        signed.protocol_version = versions.setdefault(signed.protocol_version_id, signed.protocol_version)
    series: dict[int, list[date]] = {}
    for plan_id, start in (
        PlannedInfusion.objects.filter(plan__in=list(plans.values()), kind="series")
        .exclude(status="cancelled")
        .order_by("scheduled_start")
        .values_list("plan_id", "scheduled_start")
    ):
        series.setdefault(plan_id, []).append(start.astimezone(zone).date())
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
        done.setdefault(patient_id, []).append(start.astimezone(zone).date())
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


def worklist_patients(location: Location | None, today: date | None = None) -> QuerySet[Patient]:
    """Patients who can have questionnaires due: a signed plan, or answers at a baseline or before an
    infusion.

    Each condition is a subquery restricted to the location's patients (an index range on the patient's
    location), so the cost follows the clinic, not the network. A corrected answer counts like its correction
    (a correction keeps the patient and the time point: ``response_correct``), so "answers" need not be the
    current ones here.

    With ``today``, only patients for whom something can still be answered: an infusion or a dated answer
    within the longest answerable stretch after a series (:func:`answerable_horizon_days`), or a plan with no
    infusion scheduled yet (its baseline is due today). A clinic's former patients, years of them, cost
    nothing. The conditions are a superset of what ``_due_items_by_patient`` reads its dates from, so no
    patient with an answerable questionnaire is left out (tests/outcomes/test_worklist_horizon.py)."""
    patients = Patient.objects.all()
    plans = TreatmentPlan.objects.filter(status__in=["active", "completed"])
    answers = QuestionnaireResponse.objects.filter(timepoint__in=["baseline", "pre_infusion"])
    infusions = PlannedInfusion.objects.all()
    if location is not None:
        patients = patients.filter(location=location)
        plans = plans.filter(patient__location=location)
        answers = answers.filter(patient__location=location)
        infusions = infusions.filter(plan__patient__location=location)
    if today is None:
        return patients.filter(Q(pk__in=plans.values("patient_id")) | Q(pk__in=answers.values("patient_id")))
    zone = timezone.get_current_timezone()
    # two days' margin: dates are local days, an answer marks its infusion 30 minutes later
    since = datetime.combine(
        today - timedelta(days=answerable_horizon_days() + 2), datetime.min.time(), tzinfo=zone
    )
    live_series = infusions.filter(kind="series").exclude(status="cancelled")
    recent = (
        Q(pk__in=live_series.filter(plan__in=plans, scheduled_start__gte=since).values("plan__patient_id"))
        | Q(pk__in=infusions.filter(status="done", scheduled_start__gte=since).values("plan__patient_id"))
        | Q(
            pk__in=answers.filter(
                Q(authored_at__gte=since)
                | Q(timepoint="pre_infusion", infusion_number__isnull=True)  # marks no infusion
                | Q(timepoint="pre_infusion", infusion_number=0)
            ).values("patient_id")
        )
        | Q(pk__in=plans.exclude(Exists(live_series.filter(plan=OuterRef("pk")))).values("patient_id"))
    )
    return patients.filter(recent)


def answerable_horizon_days() -> int:
    """The longest stretch after a series' last infusion in which any protocol loaded here (or the default
    schedule) still takes an answer."""
    digests = set(ProtocolVersion.objects.values_list("sha256", flat=True))
    for version in ProtocolVersion.objects.filter(sha256__in=digests - _HORIZONS.keys()):
        section = version.parsed.outcomes or OutcomesSection()
        _HORIZONS[version.sha256] = answerable_days_after_last(_schedule(section))
    default = answerable_days_after_last(_schedule(OutcomesSection()))
    return max([default, *(_HORIZONS[d] for d in digests if d in _HORIZONS)])


_HORIZONS: dict[str, int] = {}  # a protocol document's sha256 -> its horizon in days (parsed once)


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
    patients = worklist_patients(location, today)
    if among is not None:
        patients = patients.filter(pk__in=among)
    if location is not None:
        # One clinic: its patients' keys first (an index range on the location), so that every later query
        # probes the patient indexes for those keys instead of joining the network's rows.
        patients = Patient.objects.filter(pk__in=list(patients.values_list("pk", flat=True)))
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


def due_link_chunks(
    location: Location | None, chunk_size: int, today: date | None = None
) -> Iterator[list[int]]:
    """The ids of the patients who can have questionnaires due, ``chunk_size`` at a time, in id order (each
    chunk one indexed range query from the last id, so no chunk costs more than the first)."""
    after = 0
    while True:
        chunk = list(
            worklist_patients(location, today or timezone.localdate())
            .filter(pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[:chunk_size]
        )
        if not chunk:
            return
        yield chunk
        after = chunk[-1]
