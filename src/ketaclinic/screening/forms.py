from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django import forms

from ketaclinic.core.billing.codes import diagnoses_for
from ketaclinic.core.indications import INDICATION_CHOICES
from ketaclinic.core.protocols.eligibility import Contraindication
from ketaclinic.patients.models import Patient
from ketaclinic.screening.models import Referral

if TYPE_CHECKING:  # the model is ModelForm's type argument for the type checker only (django-stubs)
    _ReferralModelForm = forms.ModelForm[Referral]
else:
    _ReferralModelForm = forms.ModelForm


class DateInput(forms.DateInput):
    input_type = "date"


class ReferralForm(_ReferralModelForm):
    document = forms.FileField(required=False, help_text="PDF, JPEG, PNG or text, up to 10 MB.")
    document_title = forms.CharField(required=False, max_length=160)

    class Meta:
        model = Referral
        fields = [
            "indication",
            "referrer_name",
            "referrer_role",
            "referrer_organisation",
            "referrer_phone",
            "referrer_email",
            "referrer_npi",
            "reason",
            "received_on",
        ]
        widgets = {"received_on": DateInput(), "reason": forms.Textarea(attrs={"rows": 3})}


class TrialForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("antidepressant", "Antidepressant"), ("pain_treatment", "Pain treatment")]
    )
    name = forms.CharField(max_length=120, required=False, label="Drug or treatment")
    dose = forms.CharField(max_length=60, required=False)
    weeks = forms.IntegerField(min_value=0, max_value=520, required=False)
    adequate_dose = forms.BooleanField(required=False, initial=True, label="Therapeutic dose")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data
        if data.get("name") and data.get("weeks") is None:
            self.add_error("weeks", "How many weeks was it tried?")
        return data


TrialFormSet = forms.formset_factory(TrialForm, extra=4, max_num=20)


class ScreeningForm(forms.Form):
    indication = forms.ChoiceField(choices=[("", "— choose —"), *INDICATION_CHOICES])
    referral = forms.ModelChoiceField(
        queryset=Referral.objects.none(),
        required=False,
        help_text="Psychiatric indications need a referral from the treating clinician.",
    )
    substance_use = forms.ChoiceField(
        choices=[("none", "No history"), ("past", "Past substance use"), ("active", "Active substance use")],
        widget=forms.RadioSelect,  # no default: a screener must answer, never skip into "none"
    )
    substance_use_notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    failed_pain_treatments_notes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Other failed pain treatments (notes)"
    )

    def __init__(
        self, *args: Any, patient: Patient, questions: Iterable[Contraindication] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        referral = self.fields["referral"]
        assert isinstance(referral, forms.ModelChoiceField)
        referral.queryset = patient.referrals.all()
        self.question_fields: list[str] = []
        for q in questions:
            name = f"ci_{q.code}"
            self.fields[name] = forms.ChoiceField(
                label=q.question,
                choices=[("no", "No"), ("yes", "Yes"), ("unknown", "Unknown")],
                widget=forms.RadioSelect,
            )
            self.question_fields.append(name)

    def contraindications(self) -> dict[str, str]:
        return {n[3:]: self.cleaned_data[n] for n in self.question_fields}


class SignForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[("eligible", "Eligible"), ("not_eligible", "Not eligible")], widget=forms.RadioSelect
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    diagnosis = forms.CharField(
        label="Diagnosis (ICD-10-CM)",
        required=False,
        help_text="The billable code claims and superbills will carry; left empty, they carry the "
        "treated condition's general code.",
    )

    def __init__(self, *args: Any, indication: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if indication:
            choices = [("", "Not recorded")] + [
                (code, f"{code} — {words}") for code, words in diagnoses_for(indication)
            ]
            self.fields["diagnosis"].widget = forms.Select(choices=choices)
