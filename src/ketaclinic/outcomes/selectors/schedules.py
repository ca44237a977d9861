"""What is due for many patients at once, whatever the day: each patient's questionnaires with their dated
windows and first counting answers (core ``dated_items``), in the time zone of the patient's location. The
source of the stored rows (``outcomes.QuestionnaireDue``) that the services keep and the rebuild fills; the
worklist reads those rows, not this.

The same rule as :func:`ketaclinic.outcomes.selectors.care.due_status_for_patient` (the patient page's), for
a batch of patients in a bounded number of queries: the latest active or completed plan and its series
(cancelled slots aside); without a series, the done infusions; without those, one infusion per baseline or
before-infusion answer; the protocol's ``outcomes`` section, else the referral's indication's, else the
defaults."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, QuerySet

from ketaclinic.accounts.models import Location
from ketaclinic.core.outcomes import Answered, DatedItem, dated_items, due_schedule
from ketaclinic.core.protocols.document import OutcomesSection
from ketaclinic.outcomes.models import QuestionnaireResponse
from ketaclinic.outcomes.selectors.care import (
    _ANSWER_FIELDS,
    _schedule,
    current_responses,
    outcomes_settings_for,
)
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.protocols.models import ProtocolVersion
from ketaclinic.screening.models import Referral

UNDATED = date(2000, 1, 1)  # any day: an undated schedule's rows keep no dates
AnswerRow = tuple[str, str, int | None, datetime]  # instrument, timepoint, infusion number, authored at


@dataclass(frozen=True)
class PatientDue:
    """One patient's questionnaires, dated. ``undated``: no infusion is known (planned, given, or shown by an
    answer), so the schedule is the baseline alone, due on whatever day it is looked at; its windows are
    then relative to that day and nothing can have answered it (a baseline answer would mark infusion 1)."""

    patient_id: int
    location_id: int
    items: tuple[DatedItem, ...]
    undated: bool


def worklist_patients(location: Location | None = None) -> QuerySet[Patient]:
    """Patients who can have questionnaires due: a signed (active or completed) plan, or answers at a baseline
    or before an infusion (a corrected answer counts like its correction, which keeps the time point)."""
    patients = Patient.objects.all()
    if location is not None:
        patients = patients.filter(location=location)
    # correlated EXISTS, one index probe per patient (plans by patient, answers by patient first): the
    # rebuild reads 1,000 patients at a time in id order, and an OR of two IN lists made PostgreSQL rescan the
    # answers for every patient of every batch (over 2 minutes a batch at 100,000 patients)
    plans = TreatmentPlan.objects.filter(patient=OuterRef("pk"), status__in=["active", "completed"])
    answers = QuestionnaireResponse.objects.filter(
        patient=OuterRef("pk"), timepoint__in=["baseline", "pre_infusion"]
    )
    return patients.filter(Exists(plans) | Exists(answers))


def patients_on_indication_settings() -> QuerySet[Patient]:
    """Patients whose measurement settings may come from the current protocol for their referral's indication
    (no signed plan, or a plan whose protocol has no ``outcomes`` section): loading a protocol version can
    change their schedule."""
    without = [v.pk for v in ProtocolVersion.objects.all() if v.parsed.outcomes is None]
    signed = TreatmentPlan.objects.filter(patient=OuterRef("pk"), status__in=["active", "completed"])
    return worklist_patients().filter(
        ~Exists(signed) | Exists(signed.filter(protocol_version_id__in=without))
    )


def patients_due(patient_ids: Iterable[int]) -> list[PatientDue]:
    """Each patient's dated questionnaires (only patients of :func:`worklist_patients`; the others have none),
    in a bounded number of queries whatever the number of patients: plans, series, answers, done infusions,
    referrals, plus one per protocol lookup by indication."""
    patients = {
        p.pk: p
        for p in worklist_patients()
        .filter(pk__in=list(patient_ids))
        .select_related("location")
        .order_by("pk")
    }
    zones: dict[str, ZoneInfo] = {}

    def zone(patient_id: int) -> ZoneInfo:
        name = patients[patient_id].location.timezone
        return zones.setdefault(name, ZoneInfo(name))

    plans: dict[int, TreatmentPlan] = {}
    for latest in (
        TreatmentPlan.objects.filter(patient_id__in=patients, status__in=["active", "completed"])
        .select_related("protocol_version")
        .order_by("-created_at", "-id")
    ):
        plans.setdefault(latest.patient_id, latest)
    versions: dict[int, ProtocolVersion] = {}  # each document parsed once, not once per plan
    for signed in plans.values():
        signed.protocol_version = versions.setdefault(signed.protocol_version_id, signed.protocol_version)
    series: dict[int, list[datetime]] = {}
    for plan_id, start in (
        PlannedInfusion.objects.filter(plan__in=list(plans.values()), kind="series")
        .exclude(status="cancelled")
        .order_by("scheduled_start")
        .values_list("plan_id", "scheduled_start")
    ):
        series.setdefault(plan_id, []).append(start)
    answers: dict[int, list[AnswerRow]] = {}
    for patient_id, *row in (
        current_responses()
        .filter(patient_id__in=patients)
        .exclude(timepoint="ad_hoc")
        .order_by("authored_at", "id")
        .values_list("patient_id", *_ANSWER_FIELDS)
    ):
        answers.setdefault(patient_id, []).append(tuple(row))
    fallback = [pid for pid in patients if not (pid in plans and series.get(plans[pid].pk))]
    done: dict[int, list[datetime]] = {}
    for patient_id, start in (
        PlannedInfusion.objects.filter(plan__patient_id__in=fallback, status="done")
        .order_by("scheduled_start")
        .values_list("plan__patient_id", "scheduled_start")
    ):
        done.setdefault(patient_id, []).append(start)
    referrals: dict[int, str] = {}
    for patient_id, indication in (
        Referral.objects.filter(patient_id__in=patients)
        .order_by("received_on", "id")
        .values_list("patient_id", "indication")
    ):
        referrals[patient_id] = indication  # the latest wins
    by_indication: dict[str, OutcomesSection] = {}
    out = []
    for patient_id, patient in patients.items():
        tz = zone(patient_id)
        plan = plans.get(patient_id)
        rows = answers.get(patient_id, [])
        moments = series.get(plan.pk, []) if plan is not None else []
        dates = [m.astimezone(tz).date() for m in moments or done.get(patient_id, [])]
        if not dates:  # as infusion_marks: without a series or done infusions, the answers' infusions
            dates = _marks_from_answers(rows, tz)
        section = outcomes_settings_for(plan, referrals.get(patient_id), by_indication)
        schedule = due_schedule(sorted(dates), today=UNDATED, schedule=_schedule(section))
        given = [Answered(i, t, n, at.astimezone(tz).date()) for i, t, n, at in rows]
        out.append(PatientDue(patient_id, patient.location_id, dated_items(schedule, given), not dates))
    return out


def _marks_from_answers(rows: list[AnswerRow], tz: ZoneInfo) -> list[date]:
    """One infusion 30 minutes after the first baseline answer (infusion 1) and after the first answer before
    each numbered infusion (``infusion_marks`` for many patients)."""
    marks: dict[int, datetime] = {}
    for _instrument, timepoint, number, when in sorted(rows, key=lambda r: r[3]):
        if timepoint not in ("baseline", "pre_infusion"):
            continue
        n = 1 if timepoint == "baseline" else number
        if n and n not in marks:
            marks[n] = when + timedelta(minutes=30)
    return [when.astimezone(tz).date() for when in sorted(marks.values())]
