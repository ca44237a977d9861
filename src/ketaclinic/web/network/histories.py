"""One patient's synthetic history, decided by the core and queued as rows: referral, screening (the core's
eligibility decision, signed), a signed treatment plan with its series (the core's ``propose_series``),
sessions with their signed order (the dose engine), pump events and vitals every five minutes (each
reading through ``reading_check``, alerts from ``alerts_for``), questionnaires on the plan's schedule
(``due_schedule``, each scored by ``score``) with their safety flags, and the audit entries of it all.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.eligibility import (
    Answer,
    FailedTrial,
    ScreeningFacts,
    SubstanceUseStatus,
    assess_eligibility,
)
from ketaclinic.core.series import SeriesRules, propose_series
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.plans.selectors import dose_strategy_of
from ketaclinic.protocols.models import ProtocolVersion
from ketaclinic.screening.models import Referral, Screening, TreatmentTrial
from ketaclinic.web.demo import ANTIDEPRESSANTS
from ketaclinic.web.network.context import Context
from ketaclinic.web.network.people import PatientDraft
from ketaclinic.web.network.visits import questionnaires_add, session_add

CONTRAINDICATIONS = (
    "ketamine_hypersensitivity",
    "uncontrolled_hypertension",
    "vascular_aneurysm",
    "intracerebral_haemorrhage",
    "raised_icp_iop",
    "psychosis_history",
    "pregnancy",
    "hepatic_impairment",
)
REFERRERS = ("Dr. Susan Blake", "Dr. Amir Haddad", "Karen Liu, LICSW", "Dr. Paul Ortiz")


class History(Context):
    """Draws one patient's history into ``store``."""

    def patient(self, d: PatientDraft, stage: str) -> None:
        """``stage``: registered, referred, not_eligible or treated."""
        if stage == "registered":
            return
        rng, clinic = self.rng, d.clinic
        indication = rng.choice(list(self.protocols))
        pv = self.protocols[indication]
        reg_day = d.registered.astimezone(clinic.tz).date()
        referral = Referral(
            external_id=uuid.uuid4(),
            created_at=d.registered,
            updated_at=d.registered,
            created_by=clinic.intake,
            patient=d.patient,
            indication=indication,
            referrer_name=rng.choice(REFERRERS),
            referrer_role=rng.choice(["psychiatrist", "psychiatrist", "therapist"]),
            reason="Persistent symptoms despite adequate treatment; requests evaluation for IV ketamine.",
            received_on=reg_day - timedelta(days=rng.randint(0, 10)),
            status="received" if stage == "referred" else "closed",
        )
        self.store.add(referral)
        self.audit(d.registered, clinic.intake, AuditEntry.Action.CREATE, "Recorded referral", d)
        if stage == "referred":
            return
        screen_day = min(reg_day + timedelta(days=rng.randint(3, 14)), self.today)
        trials = [
            FailedTrial("antidepressant", name, rng.randint(6, 16))
            for name, _ in rng.sample(ANTIDEPRESSANTS, rng.randint(2, 4))
        ]
        active_use = stage == "not_eligible"
        facts = ScreeningFacts(
            birth_date=d.patient.birth_date,
            decision_date=screen_day,
            indication=indication,
            has_referral=True,
            failed_trials=tuple(trials),
            substance_use=SubstanceUseStatus.ACTIVE if active_use else SubstanceUseStatus.NONE,
            contraindications={c: Answer.NO for c in CONTRAINDICATIONS},
        )
        decision = assess_eligibility(facts, pv.parsed)
        signed_at = self.at(d, screen_day, time(15, rng.randint(0, 59)))
        prescriber = rng.choice(clinic.prescribers)
        outcome = decision.outcome.value
        if outcome == "needs_review":
            outcome = "not_eligible" if active_use else "eligible"
        screening = Screening(
            external_id=uuid.uuid4(),
            created_at=signed_at - timedelta(hours=2),
            updated_at=signed_at,
            created_by=clinic.intake,
            patient=d.patient,
            referral=referral,
            indication=indication,
            protocol_version=pv,
            screening_date=screen_day,
            substance_use=facts.substance_use.value,
            contraindication_answers={k: v.value for k, v in facts.contraindications.items()},
            computed_outcome=decision.outcome.value,
            computed_reasons=[
                {"code": r.code, "outcome": r.outcome.value, "message": r.message} for r in decision.reasons
            ],
            status="signed",
            signed_outcome=outcome,
            signed_by=prescriber,
            signed_at=signed_at,
            signed_note="" if outcome == decision.outcome.value else "Reviewed with the referring clinician.",
        )
        self.store.add(screening)
        for t in trials:
            self.store.add(TreatmentTrial(screening=screening, kind=t.kind, name=t.name, weeks=t.weeks))
        self.audit(signed_at, prescriber, AuditEntry.Action.SIGN, f"Signed screening: {outcome}", d)
        if outcome != "eligible":
            return
        self.treat(d, pv, screening, screen_day, prescriber)

    def treat(
        self, d: PatientDraft, pv: ProtocolVersion, screening: Screening, screen_day: date, prescriber: User
    ) -> None:
        rng, clinic, indication = self.rng, d.clinic, screening.indication
        series = pv.parsed.series
        assert series is not None  # only protocols with a series are drawn
        chairs = self.chairs[clinic.location.pk]
        want = screen_day + timedelta(days=rng.randint(2, 10))
        weekdays = rng.choice([(0, 3), (1, 4), (0, 2), (2, 4)])
        rules = SeriesRules(
            count=series.initial_count,
            max_per_week=series.max_per_week,
            min_spacing_hours=series.min_spacing_hours,
        )
        starts: tuple[datetime, ...] = ()
        slot = None
        for _ in range(40):
            for s in chairs.slots(rng, 12):
                starts = propose_series(
                    rules=rules, start=want, weekdays=weekdays, at=chairs.starts[s.n], tz=clinic.tz
                )
                if all(chairs.free(x.astimezone(clinic.tz).date(), s) for x in starts):
                    slot = s
                    break
            if slot is not None:
                break
            want += timedelta(days=7)
        if slot is None:
            return  # the clinic is full for months: the patient waits (no plan yet)
        for x in starts:
            chairs.take(x.astimezone(clinic.tz).date(), slot)
        self.tally.treated += 1
        plan_signed = self.at(d, min(want - timedelta(days=1), self.today), time(16, rng.randint(0, 59)))
        last_day = starts[-1].astimezone(clinic.tz).date()
        plan = TreatmentPlan(
            external_id=uuid.uuid4(),
            created_at=plan_signed - timedelta(hours=1),
            updated_at=plan_signed,
            created_by=prescriber,
            patient=d.patient,
            screening=screening,
            indication=indication,
            protocol_version=pv,
            dose_strategy=dose_strategy_of(pv.parsed.dosing),
            series_count=series.initial_count,
            max_per_week=series.max_per_week,
            min_spacing_hours=series.min_spacing_hours,
            evaluation_after=series.evaluation_after,
            booster_policy=series.booster.text,
            booster_min_days=series.booster.min_days_between,
            status="completed" if last_day < self.today else "active",
            signed_by=prescriber,
            signed_at=plan_signed,
        )
        self.store.add(plan)
        self.plans[d.patient.pk] = (plan, pv)
        self.audit(plan_signed, prescriber, AuditEntry.Action.SIGN, "Signed treatment plan", d)
        booked = [(x, slot) for x in starts]
        # boosters: every three to six weeks after the series while the patient stays in care
        b = starts[-1].astimezone(clinic.tz).date() + timedelta(days=rng.randint(21, 42))
        while rng.random() < 0.95 and b <= self.today:
            free = chairs.free_slot(b, rng)
            if free is not None:
                chairs.take(b, free)
                booked.append((self.at(d, b, chairs.starts[free.n]), free))
            b += timedelta(days=rng.randint(21, 42))
        for seq, (start, s) in enumerate(booked, 1):
            day = start.astimezone(clinic.tz).date()
            planned = PlannedInfusion(
                external_id=uuid.uuid4(),
                created_at=plan_signed,
                updated_at=plan_signed,
                created_by=prescriber,
                plan=plan,
                sequence=seq,
                kind="series" if seq <= series.initial_count else "booster",
                scheduled_start=start,
                duration_minutes=series.chair_minutes,
                location=clinic.location,
                chair=clinic.chairs[s.chair],
                status="done" if day < self.today else "planned",
            )
            self.store.add(planned)
            if day <= self.today:
                session_add(self, d, plan, pv, planned, prescriber)
        questionnaires_add(self, d, plan, [x.astimezone(clinic.tz).date() for x in starts], prescriber)
