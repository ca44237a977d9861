from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from ketaclinic.accounts.models import Chair, Location
from ketaclinic.core.series import WEEKDAY_NAMES
from ketaclinic.patients.models import Patient
from ketaclinic.screening.models import Screening


class DateInput(forms.DateInput):
    input_type = "date"


class TimeInput(forms.TimeInput):
    input_type = "time"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"


class PlaceForm(forms.Form):
    location = forms.ModelChoiceField(
        queryset=Location.objects.filter(active=True),
        to_field_name="code",
        help_text="A clinic, or a mobile location for home infusions.",
    )
    chair = forms.ModelChoiceField(
        queryset=Chair.objects.filter(active=True).select_related("location"),
        to_field_name="external_id",
        required=False,
    )
    at_home = forms.BooleanField(required=False, label="At the patient's home (mobile clinic)")


class PlanForm(PlaceForm):
    screening = forms.ModelChoiceField(
        queryset=Screening.objects.none(),
        to_field_name="external_id",
        help_text="Only signed eligible screenings can carry a plan.",
    )
    start = forms.DateField(widget=DateInput(), label="First infusion on or after")
    weekdays = forms.TypedMultipleChoiceField(
        choices=list(enumerate(WEEKDAY_NAMES)),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        initial=[0, 3],
    )
    at = forms.TimeField(widget=TimeInput(), label="Start time (location's local time)", initial="09:00")
    closed = forms.CharField(
        required=False,
        label="Closed dates",
        help_text="Dates the clinic is closed, as YYYY-MM-DD separated by commas.",
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    field_order = ["screening", "start", "weekdays", "at", "location", "chair", "at_home", "closed", "notes"]

    def __init__(self, *args: Any, patient: Patient, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        screening = self.fields["screening"]
        assert isinstance(screening, forms.ModelChoiceField)
        screening.queryset = patient.screenings.filter(status="signed", signed_outcome="eligible")

    def clean_closed(self) -> list[date]:
        raw = [p.strip() for p in self.cleaned_data["closed"].split(",") if p.strip()]
        try:
            return [date.fromisoformat(p) for p in raw]
        except ValueError:
            raise forms.ValidationError("Write closed dates as YYYY-MM-DD, separated by commas.") from None


class MoveForm(PlaceForm):
    start = forms.DateTimeField(widget=DateTimeInput(), label="New start (location's local time)")
    field_order = ["start", "location", "chair", "at_home"]


class BoosterForm(MoveForm):
    pass


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=200)


class ReviseForm(forms.Form):
    series_count = forms.IntegerField(min_value=1, max_value=30)
    max_per_week = forms.IntegerField(min_value=1, max_value=3)
    min_spacing_hours = forms.IntegerField(min_value=0, max_value=672)
    evaluation_after = forms.IntegerField(min_value=1, max_value=30)
    booster_min_days = forms.IntegerField(min_value=1, max_value=365)
    booster_policy = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
