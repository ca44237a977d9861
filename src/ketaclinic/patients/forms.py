"""Forms parse and shape input only; every rule lives in services and the core."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms

from ketaclinic.accounts.models import Location, User
from ketaclinic.patients.models import Patient

if TYPE_CHECKING:  # the model is ModelForm's type argument for the type checker only (django-stubs)
    _PatientModelForm = forms.ModelForm[Patient]
else:
    _PatientModelForm = forms.ModelForm

UNIT_WEIGHT = [("", "— unit —"), ("kg", "kg"), ("lb", "lb")]
UNIT_HEIGHT = [("", "— unit —"), ("cm", "cm"), ("in", "in")]


class DateInput(forms.DateInput):
    input_type = "date"


class PatientForm(_PatientModelForm):
    weight_value = forms.DecimalField(label="Weight", required=False, max_digits=7, decimal_places=2)
    weight_unit = forms.ChoiceField(label="Weight unit", choices=UNIT_WEIGHT, required=False)
    height_value = forms.DecimalField(label="Height", required=False, max_digits=7, decimal_places=2)
    height_unit = forms.ChoiceField(label="Height unit", choices=UNIT_HEIGHT, required=False)

    class Meta:
        model = Patient
        fields = [
            "given_name",
            "family_name",
            "preferred_name",
            "birth_date",
            "sex_at_birth",
            "gender_identity",
            "pronouns",
            "location",
            "phone",
            "email",
            "address",
            "city",
            "state",
            "postal_code",
            "emergency_contact_name",
            "emergency_contact_phone",
            "emergency_contact_relation",
            "escort_name",
            "escort_phone",
            "part2_protected",
        ]
        widgets = {"birth_date": DateInput()}

    def __init__(self, *args: Any, user: User, with_measurements: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        location = self.fields["location"]
        assert isinstance(location, forms.ModelChoiceField)
        location.queryset = Location.objects.filter(id__in=user.locations.values("id"))
        if not with_measurements:
            for name in ("weight_value", "weight_unit", "height_value", "height_unit"):
                del self.fields[name]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # ModelForm.clean returns cleaned_data
        for kind in ("weight", "height"):
            value, unit = data.get(f"{kind}_value"), data.get(f"{kind}_unit")
            if value is not None and not unit:
                self.add_error(f"{kind}_unit", f"Choose the unit of the {kind}: it is never guessed.")
        return data


class MeasurementForm(forms.Form):
    kind = forms.ChoiceField(choices=[("weight", "Weight"), ("height", "Height")])
    value = forms.DecimalField(max_digits=7, decimal_places=2)
    unit = forms.ChoiceField(
        choices=[("", "— unit —"), ("kg", "kg"), ("lb", "lb"), ("cm", "cm"), ("in", "in")]
    )


class AllergyForm(forms.Form):
    substance = forms.CharField(max_length=120)
    reaction = forms.CharField(max_length=200, required=False)
    severity = forms.ChoiceField(
        choices=[("unknown", "Unknown"), ("mild", "Mild"), ("moderate", "Moderate"), ("severe", "Severe")]
    )


class MedicationForm(forms.Form):
    name = forms.CharField(max_length=120, label="Medication")
    dose = forms.CharField(max_length=80, required=False)
