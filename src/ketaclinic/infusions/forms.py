"""Forms of the session pages: they parse what the nurse typed; every rule is the services' and the core's.

Each action form carries ``expected_version`` (the version the page showed) so a change made meanwhile by
someone else is refused instead of overwritten. Times are optional ("if not now") and read in the session
location's time zone, which the view activates.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django import forms
from django.db.models import QuerySet

from ketaclinic.accounts.models import User
from ketaclinic.core.protocols.formulary import FormularyEntry
from ketaclinic.infusions.models import AdverseEvent, MedicationAdministration, VitalSigns


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


def _at(label: str = "When, if not now") -> forms.DateTimeField:
    return forms.DateTimeField(
        required=False,
        label=label,
        widget=DateTimeInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        help_text="Leave empty for now; a late entry gives the time it happened.",
    )


class VersionForm(forms.Form):
    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def _backdate_reason() -> forms.CharField:
    return forms.CharField(
        required=False,
        max_length=300,
        label="Why entered late",
        help_text="Needed when the time is more than a few minutes ago.",
    )


class AtForm(VersionForm):
    at = _at()
    backdate_reason = _backdate_reason()


class VialCheckForm(VersionForm):
    """The second clinician types what they read off the vial and the syringe; the order's numbers are not
    shown."""

    vial_mg_per_ml = forms.FloatField(min_value=0, label="Vial strength on the label (mg/mL)")
    drawn_ml = forms.FloatField(min_value=0, label="Volume drawn, on the syringe (mL)")


class ReasonAtForm(AtForm):
    reason = forms.CharField(required=False, max_length=300, label="Reason")


class CancelForm(VersionForm):
    reason = forms.CharField(max_length=200, label="Why is the session cancelled?")


class ChecklistAnswerForm(VersionForm):
    code = forms.CharField(max_length=41, widget=forms.HiddenInput)
    answer = forms.CharField(required=False, max_length=20)
    value = forms.CharField(required=False, max_length=20, label="Value")
    unit = forms.ChoiceField(
        required=False,
        choices=[("", "— unit —"), ("kg", "kg"), ("lb", "lb")],
        label="Unit",
        help_text="No unit is assumed: choose kg or lb.",
    )
    confirm_weight = forms.BooleanField(
        required=False,
        label="Confirmed after re-checking (needed for a large change "
        "from the last record or an unusual BMI)",
    )


class ChecklistOverrideForm(VersionForm):
    code = forms.CharField(max_length=41, widget=forms.HiddenInput)
    reason = forms.CharField(max_length=300, label="Override reason (prescriber)")


class OrderCreateForm(VersionForm):
    dose = forms.CharField(
        required=False,
        max_length=40,
        label="Dose, if not the protocol's default",
        help_text="With its unit, e.g. 0.5 mg/kg.",
    )
    duration_min = forms.FloatField(required=False, min_value=1, max_value=600, label="Duration (min)")


class OrderSignForm(VersionForm):
    order = forms.UUIDField(widget=forms.HiddenInput)
    override_reason = forms.CharField(
        required=False, label="Soft-limit override reason", widget=forms.Textarea(attrs={"rows": 2})
    )


class RateChangeForm(AtForm):
    """A prescriber orders as themselves (no signer field); a nurse records a verbal order with read-back."""

    rate_mg_per_h = forms.FloatField(min_value=0, label="New rate (mg/h)")
    reason = forms.CharField(max_length=300, label="Reason for the change")
    signer: forms.ModelChoiceField[User] = forms.ModelChoiceField(
        queryset=None,
        to_field_name="external_id",
        required=False,
        label="Verbal order from (prescriber)",
        empty_label="Choose the prescriber who gave the order",
    )
    read_back = forms.BooleanField(
        required=False, label="I read the new rate back to the prescriber and they confirmed it"
    )
    override_reason = forms.CharField(
        required=False,
        max_length=500,
        label="Prescriber's reason to go beyond a soft limit",
        help_text="Only when the rate or the dose goes beyond a soft limit (at least 15 characters).",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, prescribers: QuerySet[User] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        signer = self.fields["signer"]
        assert isinstance(signer, forms.ModelChoiceField)
        signer.queryset = prescribers


class CosignForm(forms.Form):
    event = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


SEDATION_CHOICES = [("", "Not assessed"), *VitalSigns.Sedation.choices]


class VitalsForm(forms.Form):
    client_id = forms.CharField(max_length=64, widget=forms.HiddenInput(attrs={"data-client-id": ""}))
    taken_at = _at("Taken at, if not now")
    backdate_reason = _backdate_reason()
    systolic_mmhg = forms.FloatField(required=False, label="BP systolic (mmHg)")
    diastolic_mmhg = forms.FloatField(required=False, label="BP diastolic (mmHg)")
    heart_rate_bpm = forms.FloatField(required=False, label="Heart rate (/min)")
    spo2_percent = forms.FloatField(required=False, label="SpO₂ (%)")
    respiratory_rate_per_min = forms.FloatField(required=False, label="Respiratory rate (/min)")
    sedation = forms.ChoiceField(required=False, choices=SEDATION_CHOICES, label="Sedation / dissociation")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"client_id": str(uuid.uuid4())})
        super().__init__(*args, **kwargs)


class AlertAckForm(forms.Form):
    alert = forms.UUIDField(widget=forms.HiddenInput)
    note = forms.CharField(required=False, max_length=300, label="What was done")


class AdverseEventForm(AtForm):
    kind = forms.ChoiceField(choices=AdverseEvent.Kind.choices, label="Adverse event")
    severity = forms.ChoiceField(choices=AdverseEvent.Severity.choices)
    notes = forms.CharField(required=False, max_length=500, label="Notes")


class AdministrationForm(AtForm):
    """A medication from the session protocol's formulary. The unit is chosen every time (never defaulted):
    the formulary declares one unit per drug and the core refuses any other."""

    medication = forms.ChoiceField(choices=[], label="Medication")
    dose = forms.CharField(max_length=20)
    unit = forms.ChoiceField(
        choices=[("", "— unit —"), ("mg", "mg"), ("mcg", "mcg (micrograms)")], label="Unit"
    )
    route = forms.ChoiceField(choices=[("", "— route —"), *MedicationAdministration.Route.choices])
    reason = forms.CharField(required=False, max_length=200)
    override_reason = forms.CharField(
        required=False,
        max_length=300,
        label="Prescriber's reason to go beyond the usual maximum (soft limit)",
    )
    adverse_event = forms.ChoiceField(required=False, choices=[], label="For adverse event")

    def __init__(
        self,
        *args: Any,
        medications: Iterable[FormularyEntry] = (),
        adverse_events: Iterable[AdverseEvent] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        medication, adverse_event = self.fields["medication"], self.fields["adverse_event"]
        assert isinstance(medication, forms.ChoiceField)
        assert isinstance(adverse_event, forms.ChoiceField)
        medication.choices = [("", "— medication —"), *[(m.code, m.label) for m in medications]]
        adverse_event.choices = [
            ("", "—"),
            *[(str(e.external_id), f"{e.get_kind_display()} ({e.severity})") for e in adverse_events],
        ]


PADSS = [(2, "2"), (1, "1"), (0, "0")]


def _padss(choices: list[tuple[int, str]], label: str) -> forms.TypedChoiceField:
    """A PADSS item scored from blank: radio buttons, none pre-selected, one required."""
    return forms.TypedChoiceField(
        choices=choices, coerce=int, empty_value=None, required=True, label=label, widget=forms.RadioSelect
    )


class DischargeAssessForm(VersionForm):
    activity_mental_status = _padss(
        [
            (2, "2 — steady gait, no dizziness, oriented"),
            (1, "1 — needs assistance"),
            (0, "0 — unable to walk / not oriented"),
        ],
        "Activity and mental status",
    )
    pain = _padss([(2, "2 — minimal"), (1, "1 — moderate"), (0, "0 — severe")], "Pain")
    nausea_vomiting = _padss(
        [(2, "2 — minimal"), (1, "1 — moderate"), (0, "0 — severe")], "Nausea / vomiting"
    )
    intake_output = _padss(
        [(2, "2 — drinking and voided"), (1, "1 — one of the two"), (0, "0 — neither")], "Intake and output"
    )
    escort_present = forms.BooleanField(required=False, label="Escort present")
    escort_name = forms.CharField(required=False, max_length=120, label="Escort's name")
    instructions_given = forms.BooleanField(
        required=False, label="Discharge instructions given and explained"
    )


class AdverseReviewForm(forms.Form):
    event = forms.CharField(max_length=40, widget=forms.HiddenInput)
    note = forms.CharField(max_length=1000, label="Review note (assessment and plan)")


class AddendumForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Addendum")
    reason = forms.CharField(max_length=300, label="Why")


LEVEL_CHOICES = [
    ("", "—"),
    ("none", "None"),
    ("mild", "Mild"),
    ("moderate", "Moderate"),
    ("severe", "Severe"),
]
SAE_CHOICES = [("yes", "Yes"), ("no", "No")]


class RemsConfirmForm(forms.Form):
    """The prescriber's answers to the REMS Patient Monitoring Form; one group of fields per required check
    of the protocol's ``rems`` section (``check_fields`` names them)."""

    device_lots = forms.CharField(
        label="Device lot numbers",
        max_length=200,
        required=False,
        help_text="As printed on each box, comma separated.",
    )
    spo2_lowest_percent = forms.IntegerField(label="Lowest oxygen saturation (%)", required=False)
    concomitant_medications = forms.CharField(
        label="Concomitant medications that may cause sedation or blood pressure changes",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Benzodiazepines, sedative hypnotics, psychostimulants, MAOIs, opioids; 'none' if none.",
    )
    serious_adverse_event = forms.ChoiceField(
        label="Serious adverse event during the session?",
        choices=SAE_CHOICES,
        widget=forms.RadioSelect,
        required=False,
    )
    serious_adverse_event_description = forms.CharField(
        label="If yes, what happened", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args: Any, checks: Iterable[tuple[str, str, bool]] = (), **kwargs: Any) -> None:
        """``checks``: (code, label, is_blood_pressure) for every check the protocol requires."""
        super().__init__(*args, **kwargs)
        self.check_groups: list[tuple[str, str, list[str]]] = []
        for n, (code, label, bp) in enumerate(checks):
            names = [f"c{n}_at"]
            self.fields[f"c{n}_at"] = _at("Time taken")
            self.fields[f"c{n}_at"].help_text = "Leave empty if none was taken."
            if bp:
                self.fields[f"c{n}_sys"] = forms.IntegerField(label="Systolic (mmHg)", required=False)
                self.fields[f"c{n}_dia"] = forms.IntegerField(label="Diastolic (mmHg)", required=False)
                names += [f"c{n}_sys", f"c{n}_dia"]
            else:
                self.fields[f"c{n}_level"] = forms.ChoiceField(
                    label="Observed", choices=LEVEL_CHOICES, required=False
                )
                names.append(f"c{n}_level")
            self.check_groups.append((code, label, names))


class RemsSubmitForm(forms.Form):
    reference = forms.CharField(
        label="REMS confirmation number",
        max_length=60,
        help_text="The number the REMS programme gave on submission.",
    )
    submitted_at = _at("Submitted at, if not now")
