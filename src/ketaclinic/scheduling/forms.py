"""The front desk's forms: book an appointment (patient, kind, staff, chair or room, the day and the wanted
time), move one, cancel one with a reason. They read what was typed; every rule is the booking service's."""

from __future__ import annotations

from typing import Any

from django import forms

from ketaclinic.accounts.models import Chair, Location, User
from ketaclinic.core.access import Permission
from ketaclinic.patients.access import patients_visible_to
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling.models import AppointmentType, Room


class DateInput(forms.DateInput):
    input_type = "date"


class TimeInput(forms.TimeInput):
    input_type = "time"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"


class ChairChoice(forms.ModelChoiceField[Chair]):
    def label_from_instance(self, obj: Chair) -> str:
        return obj.name


class PatientChoice(forms.ModelChoiceField[Patient]):
    def label_from_instance(self, obj: Patient) -> str:
        return f"{obj.family_name}, {obj.given_name} ({obj.mrn})"


class _PlaceForm(forms.Form):
    chair = ChairChoice(queryset=Chair.objects.none(), to_field_name="external_id", required=False)
    room = forms.ModelChoiceField(queryset=Room.objects.none(), to_field_name="external_id", required=False)
    staff = forms.ModelChoiceField(queryset=User.objects.none(), to_field_name="external_id", label="With")

    def __init__(self, *args: Any, location: Location, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._field("chair").queryset = Chair.objects.filter(location=location, active=True).order_by("name")
        self._field("room").queryset = Room.objects.filter(location=location, active=True).order_by("name")
        self._field("staff").queryset = User.objects.filter(locations=location, is_active=True).order_by(
            "last_name", "first_name"
        )
        self._field("chair").empty_label = "No chair"
        self._field("room").empty_label = "No room"

    def _field(self, name: str) -> forms.ModelChoiceField[Any]:
        field = self.fields[name]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - declared above
        return field


class BookForm(_PlaceForm):
    patient = PatientChoice(queryset=Patient.objects.none(), to_field_name="external_id")
    type = forms.ModelChoiceField(
        queryset=AppointmentType.objects.filter(active=True).order_by("name"),
        to_field_name="code",
        label="Kind of appointment",
    )
    at_home = forms.BooleanField(required=False, label="At the patient's home (when the kind allows it)")
    day = forms.DateField(widget=DateInput(), label="Day")
    at = forms.TimeField(widget=TimeInput(), label="Wanted time (location's local time)", initial="09:00")
    reason = forms.CharField(
        required=False,
        max_length=300,
        label="Reason (an infusion outside the plan's dated slots)",
    )

    field_order = ["patient", "type", "staff", "chair", "room", "at_home", "day", "at", "reason"]

    def __init__(self, *args: Any, location: Location, user: User, **kwargs: Any) -> None:
        super().__init__(*args, location=location, **kwargs)
        # a clinic books its own patients; the mobile team visits any patient of the network the user may see
        # (their locations' patients and any opened with emergency access), wherever they are registered
        visible = patients_visible_to(user, Permission.SCHEDULE_MANAGE)
        if location.kind != Location.Kind.MOBILE:
            visible = visible.filter(location=location)
        self._field("patient").queryset = visible.order_by("family_name", "given_name")


class MoveForm(_PlaceForm):
    start = forms.DateTimeField(widget=DateTimeInput(), label="New start (location's local time)")
    field_order = ["start", "staff", "chair", "room"]


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=200, label="Reason for cancelling")
    cancelled_by = forms.ChoiceField(
        choices=[("patient", "The patient"), ("clinic", "The clinic")],
        initial="patient",
        required=False,
        widget=forms.RadioSelect,
        label="Who cancels",
        help_text="A cancellation by the clinic is never charged a fee.",
    )
