"""The questionnaires worklist: which questionnaires are due or overdue at a location, with each one's live
link and latest emailing; and which patients the daily job may email.

It reads the stored windows (``outcomes.QuestionnaireDue``, kept by the services): "due" and "overdue" on a
day are comparisons of dates in one indexed range at the location (the items opened in the last few weeks),
paged, so its cost follows the rows listed, not the patients in care. A fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from ketaclinic.accounts.models import Location, User
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.core.access import Permission
from ketaclinic.core.instruments import shipped_instruments
from ketaclinic.core.outcomes import (
    DEFAULT_WINDOWS,
    DueItem,
    DueQuestionnaire,
    DueStatus,
    DueWindow,
    longest_window_days,
)
from ketaclinic.messaging.models import OutboundMessage
from ketaclinic.messaging.selectors import email_opted_out, messages_by_reference
from ketaclinic.outcomes.emails import until_words
from ketaclinic.outcomes.models import LinkDispatch, PatientLink, QuestionnaireDue
from ketaclinic.outcomes.selectors.care import LOCATION_NOT_YOURS
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import TreatmentPlan

PAGE_SIZE = 100  # rows a page lists

# -- the questionnaires worklist --------------------------------------------------------------------------

ItemKey = tuple[str, str, int | None]  # instrument, timepoint, infusion number


def item_key(item: DueItem) -> ItemKey:
    return item.instrument, item.questionnaire.timepoint, item.questionnaire.infusion_number


@dataclass(frozen=True)
class WorklistRow:
    patient: Patient
    item: DueItem
    live_link: PatientLink | None  # an unused, unexpired link for this questionnaire
    dispatch: LinkDispatch | None  # the latest record of a patient without an address for it
    sendable: bool  # its wording ships, so it can go by link
    instrument_name: str
    message: OutboundMessage | None = None  # the outbox's message carrying the live link, with its status
    email_opted_out: bool = False

    @property
    def link_until(self) -> str:
        return until_words(self.live_link.expires_at) if self.live_link is not None else ""

    @property
    def hand_out(self) -> bool:
        """No email address, or opted out of email: a member of staff hands the patient a link (or enters the
        answers)."""
        return not self.patient.email or self.email_opted_out


@dataclass(frozen=True)
class Worklist:
    today: date
    location: Location | None
    rows: list[WorklistRow]  # this page's
    overdue_count: int = 0  # on every page
    due_count: int = 0
    page: int = 1
    page_size: int | None = None  # None: every row on one page

    @property
    def overdue(self) -> list[WorklistRow]:
        return [r for r in self.rows if r.item.status is DueStatus.OVERDUE]

    @property
    def due(self) -> list[WorklistRow]:
        return [r for r in self.rows if r.item.status is DueStatus.DUE]

    @property
    def total(self) -> int:
        return self.overdue_count + self.due_count

    @property
    def first_shown(self) -> int:
        return min(self.total, (self.page - 1) * (self.page_size or 0) + 1)

    @property
    def last_shown(self) -> int:
        return min(self.total, self.first_shown + len(self.rows) - 1)

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.last_shown < self.total else None

    @property
    def previous_page(self) -> int | None:
        return self.page - 1 if self.page > 1 else None


def waiting_on(today: date) -> Q:
    """Stored items with something to answer on ``today``: a baseline due whatever the day (no infusion yet),
    or a window opened on or before today (and at most the longest window ago: a bounded index range) whose
    late limit has not passed, with no answer counted on or before today."""
    opened = Q(
        opens_on__gte=today - timedelta(days=longest_window_days()),
        opens_on__lte=today,
        late_until__gte=today,
    )
    return Q(due_on=None) | (opened & (Q(answered_on=None) | Q(answered_on__gt=today)))


def due_today(today: date) -> Q:
    """Of those, the ones whose window is open (due, not overdue): what the daily job emails."""
    return waiting_on(today) & (Q(due_on=None) | Q(closes_on__gte=today))


def _item(row: QuestionnaireDue, today: date) -> DueItem:
    opens, closes, late = row.opens_on, row.closes_on, row.late_until
    if row.due_on is None or opens is None or closes is None or late is None:  # undated: all four (a check)
        rule = DEFAULT_WINDOWS[row.timepoint]  # due today, its window the rule's days around today
        due_on = today
        window = DueWindow(
            today + timedelta(days=rule.opens_days),
            today + timedelta(days=rule.closes_days),
            today + timedelta(days=rule.late_days),
        )
    else:
        due_on, window = row.due_on, DueWindow(opens, closes, late)
    questionnaire = DueQuestionnaire(row.timepoint, due_on, row.label, (row.instrument,), row.infusion_number)
    status = DueStatus.OVERDUE if today > window.closes else DueStatus.DUE
    return DueItem(questionnaire, row.instrument, window, status, today)


def location_today(location: Location | None) -> date:
    """Today in the location's time zone (the clinic default's without a location)."""
    if location is None:
        return timezone.localdate()
    return timezone.localtime(timezone=ZoneInfo(location.timezone)).date()


def questionnaire_worklist(
    *,
    user: User | None,
    location: Location | None,
    today: date | None = None,
    among: Sequence[int] | None = None,
    page: int = 1,
    page_size: int | None = PAGE_SIZE,
    only_due: bool = False,
) -> Worklist:
    """Questionnaires due today or overdue (while an answer would still count) at a location, overdue first,
    then by due date and name, ``page_size`` at a time (``None``: all), with each one's live link and latest
    emailing: a count, a page of rows, the rows' links, their address records, their messages and the
    patients' opt-outs (six queries).

    ``user=None`` is the daily job (every location when ``location`` is None), by chunks of ``among`` ids;
    ``only_due`` leaves out the overdue ones."""
    if user is not None:
        require(user, Permission.QUESTIONNAIRE_RECORD)
        if location is None or location.pk not in user_location_ids(user):
            raise PermissionDenied(LOCATION_NOT_YOURS.format(value=location))
    today = today or location_today(location)
    found = QuestionnaireDue.objects.filter(due_today(today) if only_due else waiting_on(today))
    if location is not None:
        found = found.filter(location=location)
    if among is not None:
        found = found.filter(patient_id__in=list(among))
    late = Q(closes_on__lt=today)
    counts = found.aggregate(overdue=Count("pk", filter=late), due=Count("pk", filter=~late))
    ordered = found.select_related("patient").order_by(
        Case(When(late, then=Value(0)), default=Value(1)),
        Coalesce("due_on", Value(today)),
        "patient__family_name",
        "patient__given_name",
        "patient_id",
        "instrument",
        "position",
    )
    page = max(1, page)
    shown = list(ordered if page_size is None else ordered[(page - 1) * page_size : page * page_size])
    waiting = [(row.patient, _item(row, today)) for row in shown]
    live: dict[tuple[int, ItemKey], PatientLink] = {}
    dispatches: dict[tuple[int, ItemKey, date], LinkDispatch] = {}
    carried: dict[str, OutboundMessage] = {}
    opted_out: set[int] = set()
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
        if live:
            carried = messages_by_reference(
                ids,
                [str(link.external_id) for link in live.values()],
                since=min(link.created_at for link in live.values()) - timedelta(minutes=1),
            )
        opted_out = email_opted_out(ids)
    library = shipped_instruments()
    rows = []
    for patient, item in waiting:
        key = item_key(item)
        live_link = live.get((patient.pk, key))
        rows.append(
            WorklistRow(
                patient,
                item,
                live_link,
                dispatches.get((patient.pk, key, item.questionnaire.due_on)),
                item.instrument in library and library[item.instrument].wording == "shipped",
                library[item.instrument].name if item.instrument in library else item.instrument,
                carried.get(str(live_link.external_id)) if live_link is not None else None,
                patient.pk in opted_out,
            )
        )
    return Worklist(
        today=today,
        location=location,
        rows=rows,
        overdue_count=counts["overdue"],
        due_count=counts["due"],
        page=page,
        page_size=page_size,
    )


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
    """The ids of the patients with a questionnaire due on ``today`` (window open, nothing answered),
    ``chunk_size`` at a time, in id order (each chunk one query from the last id, so no chunk costs more than
    the first)."""
    today = today or location_today(location)
    due = QuestionnaireDue.objects.filter(due_today(today))
    if location is not None:
        due = due.filter(location=location)
    after = 0
    while True:
        chunk = list(
            due.filter(patient_id__gt=after)
            .order_by("patient_id")
            .values_list("patient_id", flat=True)
            .distinct()[:chunk_size]
        )
        if not chunk:
            return
        yield chunk
        after = chunk[-1]
