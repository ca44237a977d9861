from __future__ import annotations

from django import forms

from ketaclinic.accounts.models import PRESCRIBER_KIND_CHOICES, ROLE_CHOICES, Location, StaffLicence


class StaffForm(forms.Form):
    username = forms.CharField(max_length=150)
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=ROLE_CHOICES)
    prescriber_kind = forms.ChoiceField(
        choices=[("", "— not a prescriber —"), *PRESCRIBER_KIND_CHOICES], required=False
    )
    credentials = forms.CharField(max_length=40, required=False, help_text="e.g. MD, RN, PMHNP-BC")
    locations = forms.ModelMultipleChoiceField(
        queryset=Location.objects.filter(active=True), widget=forms.CheckboxSelectMultiple
    )
    password = forms.CharField(
        widget=forms.PasswordInput, help_text="At least 12 characters; not a common password."
    )


class StaffEditForm(forms.Form):
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=ROLE_CHOICES)
    prescriber_kind = forms.ChoiceField(
        choices=[("", "— not a prescriber —"), *PRESCRIBER_KIND_CHOICES], required=False
    )
    credentials = forms.CharField(max_length=40, required=False, help_text="e.g. MD, RN, PMHNP-BC")
    npi = forms.CharField(label="NPI", max_length=10, required=False, help_text="10 digits")
    dea_number = forms.CharField(
        label="DEA registration", max_length=12, required=False, help_text="2 letters and 7 digits"
    )
    locations = forms.ModelMultipleChoiceField(
        queryset=Location.objects.filter(active=True), widget=forms.CheckboxSelectMultiple
    )


class LicenceForm(forms.Form):
    kind = forms.ChoiceField(choices=StaffLicence.Kind.choices)
    state = forms.CharField(max_length=2, help_text="Two letters, e.g. NY")
    number = forms.CharField(max_length=40)
    expires_on = forms.DateField(label="Expires on", widget=forms.DateInput(attrs={"type": "date"}))


class OwnPasswordForm(forms.Form):
    current_password = forms.CharField(
        label="Temporary or current password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters; not a common password.",
    )
