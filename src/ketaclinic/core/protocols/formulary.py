"""The ``formulary`` section of a protocol: every medication a session may record, with its limits.

Like a smart pump's drug library, each entry declares the drug (RxNorm ingredient code where verified),
the routes it is given by, the ONE unit its doses are written in (mg or mcg: a dose in another unit is
refused, never converted or guessed), the usual adult dose, a soft and a hard maximum per dose and per
session, and whether a prescriber's order is needed before a nurse gives it.

``administration`` says how the drug reaches the MAR:

* ``as_needed``: a rescue medication recorded by hand (``administration_record``), checked against the
  limits here by ``ketaclinic.core.infusion.medications.administration_check``;
* ``infusion_order``: the infusion itself (ketamine). Never recorded by hand: its MAR line is written when
  the infusion stops, from the signed order and the pump events;
* ``signed_order_dose``: a dose given exactly as the signed order says (esketamine nasal spray): the dose
  recorded must equal the signed order's dose.

``allergy_names`` and ``classes`` are what a charted allergy is matched against (case-insensitive, whole
words): a "benzodiazepine" allergy stops midazolam and lorazepam, a "ketamine" allergy stops esketamine.
Every number is a clinic default with its source in the protocol file.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DoseUnit(StrEnum):
    MG = "mg"
    MCG = "mcg"


class AdministrationKind(StrEnum):
    AS_NEEDED = "as_needed"
    INFUSION_ORDER = "infusion_order"
    SIGNED_ORDER_DOSE = "signed_order_dose"


ROUTES = ("iv", "im", "po", "sl", "intranasal")
ROUTE_LABELS = {
    "iv": "intravenous",
    "im": "intramuscular",
    "po": "by mouth",
    "sl": "sublingual",
    "intranasal": "intranasal",
}


class FormularyEntry(_Section):
    code: str = Field(pattern="^[a-z][a-z0-9_]{1,40}$")
    label: str = Field(min_length=2, max_length=80)
    rxnorm: str = Field(
        default="", pattern="^[0-9]{0,10}$", description="RxNorm ingredient RxCUI; blank until verified."
    )
    use: str = Field(min_length=3)
    administration: AdministrationKind = AdministrationKind.AS_NEEDED
    routes: tuple[str, ...] = Field(min_length=1)
    unit: DoseUnit
    usual_dose: float | None = Field(default=None, gt=0)
    soft_max_per_dose: float | None = Field(default=None, gt=0)
    hard_max_per_dose: float | None = Field(default=None, gt=0)
    soft_max_per_session: float | None = Field(default=None, gt=0)
    hard_max_per_session: float | None = Field(default=None, gt=0)
    needs_prescriber_order: bool = True
    allergy_names: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    source: str = Field(min_length=3)

    @model_validator(mode="after")
    def _limits(self) -> FormularyEntry:
        unknown = [r for r in self.routes if r not in ROUTES]
        if unknown:
            raise ValueError(
                f"formulary entry {self.code}: unknown routes "
                f"{', '.join(unknown)}; allowed are {', '.join(ROUTES)}"
            )
        if self.administration is AdministrationKind.AS_NEEDED:
            limits = (
                self.usual_dose,
                self.soft_max_per_dose,
                self.hard_max_per_dose,
                self.soft_max_per_session,
                self.hard_max_per_session,
            )
            if any(v is None for v in limits):
                raise ValueError(
                    f"formulary entry {self.code} (as needed) needs usual_dose and soft and hard maxima "
                    "per dose and per session"
                )
            usual, soft_d, hard_d, soft_s, hard_s = (float(v) for v in limits if v is not None)
            if not usual <= soft_d <= hard_d:
                raise ValueError(
                    f"formulary entry {self.code}: needs usual_dose <= soft_max_per_dose <= hard_max_per_dose"
                )
            if not soft_s <= hard_s:
                raise ValueError(
                    f"formulary entry {self.code}: soft_max_per_session must not exceed hard_max_per_session"
                )
            if soft_d > soft_s or hard_d > hard_s:
                raise ValueError(
                    f"formulary entry {self.code}: a per-dose maximum must not exceed the per-session one"
                )
        return self

    @property
    def names(self) -> tuple[str, ...]:
        """Every name a charted allergy may use for this drug: code, label, other names, classes."""
        return tuple(
            dict.fromkeys(n.lower() for n in (self.code, self.label, *self.allergy_names, *self.classes) if n)
        )


class FormularySection(_Section):
    drugs: tuple[FormularyEntry, ...] = Field(min_length=1)
    source: str = Field(min_length=3)

    @model_validator(mode="after")
    def _unique(self) -> FormularySection:
        codes = [d.code for d in self.drugs]
        if len(set(codes)) != len(codes):
            raise ValueError("formulary drug codes must be unique")
        return self

    def entry(self, code: str) -> FormularyEntry | None:
        return next((d for d in self.drugs if d.code == code), None)

    @property
    def ordered(self) -> tuple[FormularyEntry, ...]:
        """The drugs given only as a signed order says (ketamine, esketamine)."""
        return tuple(d for d in self.drugs if d.administration is not AdministrationKind.AS_NEEDED)

    @property
    def as_needed(self) -> tuple[FormularyEntry, ...]:
        return tuple(d for d in self.drugs if d.administration is AdministrationKind.AS_NEEDED)
