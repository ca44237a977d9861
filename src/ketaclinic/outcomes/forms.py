"""Forms built from an instrument's items (one radio group per item) and the small decision forms."""

from __future__ import annotations

from typing import Any

from django import forms

from ketaclinic.core.instruments import Instrument
from ketaclinic.outcomes.models import TIMEPOINTS


class AnswersForm(forms.Form):
    """One optional radio group per item: a missing answer is the core's to accept or refuse."""

    def __init__(self, *args: Any, instrument: Instrument, staff: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        if staff:
            self.fields["timepoint"] = forms.ChoiceField(choices=TIMEPOINTS, initial="ad_hoc")
            self.fields["infusion_number"] = forms.IntegerField(
                required=False, min_value=1, max_value=99, help_text="For 'before an infusion': which one."
            )
        for n, item in enumerate(instrument.items, start=1):
            label = item.text or f"Item {n} ({item.code}) — wording supplied by the clinic"
            self.fields[item.code] = forms.TypedChoiceField(
                label=f"{n}. {label}",
                required=False,
                coerce=int,
                empty_value=None,
                choices=[(o.value, o.label or str(o.value)) for o in item.options]
                if item.options
                else [(v, str(v)) for v in item.allowed()],
                widget=forms.RadioSelect,
            )

    def answers(self) -> dict[str, int | None]:
        return {item.code: self.cleaned_data.get(item.code) for item in self.instrument.items}


class LinkForm(forms.Form):
    instrument = forms.CharField(max_length=40)
    hours = forms.IntegerField(min_value=1, max_value=168, initial=72)
    how = forms.ChoiceField(
        choices=[("sms", "Text message"), ("email", "Email"), ("show", "Show it here")], initial="sms"
    )


class AssessForm(forms.Form):
    assessment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you found when you assessed the patient (risk, protective factors).",
    )
    plan = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The safety plan: what happens next, who was told, when you will follow up.",
    )


class BoosterForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "Accept: plan a booster"), ("decline", "Decline")])
    reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Required when declining."
    )


class DashboardForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    location = forms.CharField(required=False)
    indication = forms.CharField(required=False)


class CorrectionForm(AnswersForm):
    """The answers, pre-filled from the response being corrected, and the reason (required)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"] = forms.CharField(
            max_length=300,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text='Why the answers change (at least 5 characters), e.g. "Item 3 entered as 3; the '
            'patient answered 1". Kept with the correction.',
        )


class DueLinkForm(forms.Form):
    """Which due questionnaire a worklist button is for, and how the link goes (email, or handed out)."""

    instrument = forms.CharField(max_length=40)
    timepoint = forms.ChoiceField(choices=TIMEPOINTS)
    infusion_number = forms.IntegerField(required=False, min_value=1, max_value=99)
    due_on = forms.DateField()
    how = forms.ChoiceField(choices=[("email", "Email"), ("handout", "Hand out")])
