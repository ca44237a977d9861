from __future__ import annotations

from django import forms

from ketaclinic.core.preparation import ALCOHOL, DRIVER, MAX_DRIVER_CHARS, MAX_NOTE_CHARS, MEAL


class PreparationForm(forms.Form):
    light_meal = forms.BooleanField(required=False, label=f"{MEAL} (nothing heavy).")
    no_alcohol = forms.BooleanField(required=False, label=f"{ALCOHOL} before.")
    driver = forms.BooleanField(required=False, label=f"{DRIVER}: I will not drive for 24 hours.")
    driver_name = forms.CharField(
        required=False, max_length=MAX_DRIVER_CHARS, label="Who is driving you home?"
    )
    note = forms.CharField(
        required=False,
        max_length=MAX_NOTE_CHARS,
        label="Anything the clinic should know (optional)",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
