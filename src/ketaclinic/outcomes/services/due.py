"""What is due per patient, stored (``outcomes.QuestionnaireDue``): replaced in the transaction of every
action that changes it, and rebuilt in batches by ``ketaclinic manage outcomes_due_rebuild``.

What is due depends on the patient's latest signed plan (and its protocol), the plan's series slots, the
infusions given, the current answers (not ad hoc), the latest referral's indication and the protocol current
for it, and the location's time zone. The actions that change one of them: signing a plan (a revision
counts when signed), moving or cancelling a slot (``plans``), discharging a session (the slot is done:
``infusions``), recording, correcting or submitting an answer (here), receiving a referral (``screening``),
loading a protocol version (``protocols``). Those below ``outcomes`` send ``base.signals.due_inputs_changed``,
received here; a session cancelled, a link sent or a booster planned changes none of them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction

from ketaclinic.accounts.models import Location
from ketaclinic.outcomes.models import QuestionnaireDue
from ketaclinic.outcomes.selectors.schedules import (
    PatientDue,
    patients_due,
    patients_on_indication_settings,
    worklist_patients,
)
from ketaclinic.patients.models import Patient

REBUILD_BATCH = 500  # patients read and written at a time: memory and each transaction stay bounded


def _rows(found: Iterable[PatientDue]) -> list[QuestionnaireDue]:
    rows = []
    for due in found:
        for position, d in enumerate(due.items):
            q, window = d.questionnaire, d.window
            dated = not due.undated
            rows.append(
                QuestionnaireDue(
                    patient_id=due.patient_id,
                    location_id=due.location_id,
                    position=position,
                    instrument=d.instrument,
                    timepoint=q.timepoint,
                    infusion_number=q.infusion_number,
                    label=q.label,
                    due_on=q.due_on if dated else None,
                    opens_on=window.opens if dated else None,
                    closes_on=window.closes if dated else None,
                    late_until=window.late_until if dated else None,
                    answered_on=d.answered_on if dated else None,
                )
            )
    return rows


def due_refresh(*, patient_ids: Iterable[int]) -> int:
    """Replace these patients' stored questionnaires with what is due now (in the caller's transaction, or
    one of its own). The number of rows written."""
    ids = sorted(set(patient_ids))
    if not ids:
        return 0
    with transaction.atomic():
        list(
            Patient.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk")
        )  # one writer
        QuestionnaireDue.objects.filter(patient_id__in=ids).delete()
        rows = QuestionnaireDue.objects.bulk_create(_rows(patients_due(ids)), batch_size=1000)
    return len(rows)


def due_rebuild(
    *,
    location: Location | None = None,
    batch_size: int = REBUILD_BATCH,
    log: Callable[[str], Any] | None = None,
) -> int:
    """Fill the stored questionnaires from the records, ``batch_size`` patients per transaction in id order
    (every batch one indexed range from the last id); idempotent: rows of patients with nothing due any
    more are removed. The number of rows written."""
    after, written = 0, 0
    while True:
        batch = list(
            worklist_patients(location)
            .filter(pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        last = batch[-1] if batch else None
        with transaction.atomic():
            stale = QuestionnaireDue.objects.filter(patient_id__gt=after)
            if last is not None:
                stale = stale.filter(patient_id__lte=last)
            if location is not None:
                stale = stale.filter(patient__location=location)
            stale.exclude(patient_id__in=batch).delete()
            written += due_refresh(patient_ids=batch)
        if last is None:
            return written
        after = last
        if log is not None:
            log(f"patients up to id {after}: {written} rows")


def due_refresh_indication_settings() -> int:
    """After a protocol version is loaded: refresh the patients whose settings may come from the protocol
    current for their indication, in batches. The number of rows written."""
    if not worklist_patients().exists():
        return 0
    ids = list(patients_on_indication_settings().order_by("pk").values_list("pk", flat=True))
    return sum(due_refresh(patient_ids=ids[i : i + REBUILD_BATCH]) for i in range(0, len(ids), REBUILD_BATCH))


def due_inputs_changed(
    sender: object, *, patient_ids: Iterable[int] = (), indication_settings: bool = False, **kwargs: object
) -> None:
    """The receiver of ``base.signals.due_inputs_changed`` (connected in ``OutcomesConfig.ready``)."""
    due_refresh(patient_ids=patient_ids)
    if indication_settings:
        due_refresh_indication_settings()
