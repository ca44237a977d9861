from __future__ import annotations

from typing import Any

from django import forms

from ketaclinic.accounts.models import Location
from ketaclinic.core.indications import INDICATION_CHOICES
from ketaclinic.inquiries.models import Inquiry
from ketaclinic.inquiries.services import REASON_DEFAULT
from ketaclinic.patients.models import Patient
from ketaclinic.screening.models import Referral

CONSENT_LABEL = "I agree that the clinic may contact me by phone or email about this request."


class InquiryForm(forms.Form):
    """The public page: only what is needed to call the person back."""

    given_name = forms.CharField(label="First name", max_length=80)
    family_name = forms.CharField(label="Last name", max_length=80)
    phone = forms.CharField(
        max_length=30,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        help_text="With area code, e.g. 617-555-0100",
    )
    email = forms.EmailField(label="Email (optional)", required=False)
    location = forms.ModelChoiceField(
        label="Nearest clinic",
        queryset=Location.objects.filter(active=True).order_by("name"),
        empty_label="— choose —",
    )
    interest = forms.ChoiceField(
        label="Seeking help for (optional)",
        choices=[("", "Not sure / prefer to discuss"), *INDICATION_CHOICES],
        required=False,
    )
    referred_by = forms.ChoiceField(
        label="Who suggested ketamine therapy?", choices=Inquiry.ReferredBy.choices
    )
    consent = forms.BooleanField(label=CONSENT_LABEL, required=True)
    # the honeypot: hidden from people (CSS and aria-hidden), filled by form-filling robots
    website = forms.CharField(required=False, label="Leave this empty")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["given_name"].widget.attrs["autocomplete"] = "given-name"
        self.fields["family_name"].widget.attrs["autocomplete"] = "family-name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["website"].widget.attrs.update(tabindex="-1", autocomplete="off")


class ConvertForm(forms.Form):
    birth_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    sex_at_birth = forms.ChoiceField(
        choices=Patient.Sex.choices, help_text="Used for ideal body weight in dosing."
    )
    indication = forms.ChoiceField(choices=INDICATION_CHOICES)
    referrer_name = forms.CharField(
        max_length=120, help_text="Who referred them (their own name for a self-referral)"
    )
    referrer_role = forms.ChoiceField(choices=Referral.ReferrerRole.choices)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), initial=REASON_DEFAULT)
    confirmed_not_duplicate = forms.BooleanField(
        label="None of the possible matches is this person", required=False
    )


class CloseForm(forms.Form):
    reason = forms.ChoiceField(choices=[("", "— choose —"), *Inquiry.CloseReason.choices])
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
