from __future__ import annotations

from django import forms

from ketaclinic.accounts.models import PRESCRIBER_KIND_CHOICES, ROLE_CHOICES, Location


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
