"""The outcomes dashboard's summaries (``DashboardEndpoint``, ``DashboardMeasurePatient``): written from a
patient's current answers by the pure core (``core.outcomes.summary``), never edited.

* :func:`outcome_summaries_refresh` — in the transaction that records or corrects a PHQ-9 or GAD-7 answer
  (``responses._save_response``): the patient's rows are replaced by what their answers now give, so the
  dashboard is exact and current, with no "as of".
* :func:`outcome_summaries_rebuild` — every patient, in batches by id, each batch its own transaction; then
  the build is recorded (``DashboardSummaryBuild``). On a database that held answers before the summaries
  existed, the dashboard reads the summaries from then on (the answers until then).
  Idempotent: run it again and the rows are the same (``ketaclinic manage outcome_summaries_rebuild``; the
  network generator and ``benchmarks/outcomes.py`` run it after writing answers in bulk).

Both lock the patients' rows first: a batch of the rebuild and an answer recorded meanwhile for one of its
patients take turns, and whichever comes second reads the other's answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict

from django.db import transaction
from django.utils import timezone

from ketaclinic.core.outcomes.summary import patient_endpoints, patient_measure_index
from ketaclinic.outcomes.models import DashboardEndpoint, DashboardMeasurePatient, DashboardSummaryBuild
from ketaclinic.outcomes.selectors import SUMMARISED_INSTRUMENTS, summary_answers, summary_patient_chunks
from ketaclinic.patients.models import Patient

REBUILD_BATCH = 500


@transaction.atomic
def outcome_summaries_refresh(*, patient_ids: Sequence[int]) -> int:
    """Replace these patients' summary rows with what their current answers give; the number of patients.
    Six queries whatever the number of patients or answers."""
    ids = sorted(set(patient_ids))
    list(Patient.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
    answers = summary_answers(ids)
    DashboardEndpoint.objects.filter(patient_id__in=ids).delete()
    DashboardMeasurePatient.objects.filter(patient_id__in=ids).delete()
    endpoints, measures = [], []
    for patient_id, mine in answers.items():
        endpoints += [
            DashboardEndpoint(patient_id=patient_id, **asdict(e))
            for e in patient_endpoints(mine, SUMMARISED_INSTRUMENTS)
        ]
        m = patient_measure_index(mine)
        if m is not None:
            measures.append(
                DashboardMeasurePatient(
                    patient_id=patient_id,
                    index_on=m.index.on,
                    index_total=m.index.total,
                    index_location_id=m.location_id,
                    indication=m.indication,
                    six_months_on=m.six_months.on if m.six_months else None,
                    six_months_total=m.six_months.total if m.six_months else None,
                    twelve_months_on=m.twelve_months.on if m.twelve_months else None,
                    twelve_months_total=m.twelve_months.total if m.twelve_months else None,
                )
            )
    DashboardEndpoint.objects.bulk_create(endpoints, batch_size=2000)
    DashboardMeasurePatient.objects.bulk_create(measures, batch_size=2000)
    return len(ids)


def outcome_summaries_rebuild(
    *, batch: int = REBUILD_BATCH, log: Callable[[str], object] | None = None
) -> DashboardSummaryBuild:
    """Every patient's summaries anew, ``batch`` patients a transaction; then the build is recorded (and one
    the migration left unfinished is finished)."""
    done = 0
    for chunk in summary_patient_chunks(batch):
        done += outcome_summaries_refresh(patient_ids=chunk)
        if log is not None and done % (batch * 20) < batch:
            log(f"outcome summaries: {done:,} patients")
    now = timezone.now()
    DashboardSummaryBuild.objects.filter(finished_at__isnull=True).update(finished_at=now, patients=done)
    return DashboardSummaryBuild.objects.create(finished_at=now, patients=done)
