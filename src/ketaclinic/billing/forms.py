"""The billing pages' forms: amounts are typed as money ("3,475.00") and become exact cents."""

from __future__ import annotations

from django import forms

from ketaclinic.billing import rules
from ketaclinic.billing.models import LedgerEntry, Package
from ketaclinic.core.errors import ValidationError


class AmountField(forms.CharField):
    def clean(self, value: object) -> int:
        text = super().clean(value)
        try:
            return rules.parse_cents(str(text))
        except ValidationError as exc:
            raise forms.ValidationError(exc.message) from None


class SellForm(forms.Form):
    package = forms.ModelChoiceField(Package.objects.filter(active=True), empty_label=None)


class PaymentForm(forms.Form):
    amount = AmountField(label="Amount ($)")
    method = forms.ChoiceField(
        choices=[(m.value, m.label) for m in LedgerEntry.Method if m != LedgerEntry.Method.INSURANCE]
    )
    card_token = forms.CharField(
        label="Card (from the card reader)",
        required=False,
        max_length=80,
        help_text="For a card or HSA/FSA card: the reader fills this in. The card number is never kept.",
    )
    check_number = forms.CharField(label="Check number", required=False, max_length=20)
    note = forms.CharField(required=False, max_length=300)


class RefundForm(forms.Form):
    payment = forms.UUIDField(widget=forms.HiddenInput)
    amount = AmountField(label="Refund ($)")
    reason = forms.CharField(max_length=300)


class ReverseForm(forms.Form):
    entry = forms.UUIDField(widget=forms.HiddenInput)
    reason = forms.CharField(label="Why", max_length=300)


class FinancingForm(forms.Form):
    amount = AmountField(label="Amount financed ($)")
    instalments = forms.IntegerField(label="Number of instalments", help_text="From 2 to 24.")
    first_due = forms.DateField(
        label="First due on", widget=forms.DateInput(attrs={"type": "date"}), help_text="Today or later."
    )
    interval_months = forms.IntegerField(
        label="Months between instalments", initial=1, help_text="1 for monthly (same day each month)."
    )
    note = forms.CharField(required=False, max_length=300)
