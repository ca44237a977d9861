"""The billing pages' forms: amounts are typed as money ("3,475.00") and become exact cents."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django import forms
from django.db.models import Q

from ketaclinic.billing import rules
from ketaclinic.billing.models import LedgerEntry, Package, Payer, PriorAuthorization
from ketaclinic.core.errors import ValidationError


class AmountField(forms.CharField):
    def clean(self, value: object) -> int:
        text = super().clean(value)
        try:
            return rules.parse_cents(str(text))
        except ValidationError as exc:
            raise forms.ValidationError(exc.message) from None


def form_key(data: Any) -> UUID | None:
    """The one-time key a money form carries (``{% form_once %}``); None when absent or not a key."""
    try:
        return UUID(str(data.get("once", "")))
    except ValueError:
        return None


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


class PayerForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=Payer.Kind.choices, help_text="A self-paying patient needs no payer.")
    payer_id = forms.CharField(label="Electronic payer id", required=False, max_length=20)
    address = forms.CharField(label="Claims address", required=False, max_length=200)


class PolicyForm(forms.Form):
    payer = forms.ModelChoiceField(Payer.objects.filter(active=True), empty_label=None)
    member_id = forms.CharField(label="Member id", max_length=40)
    group_number = forms.CharField(label="Group number", required=False, max_length=40)
    coverage_percent = forms.IntegerField(
        label="Coverage (%)", help_text="The share the payer covers, 0 to 100."
    )
    priority = forms.TypedChoiceField(
        choices=[(1, "1 · primary"), (2, "2 · secondary")], coerce=int, initial=1
    )

    def __init__(self, *args: Any, keep: Payer | None = None, **kwargs: Any) -> None:
        """``keep``: the policy's own payer, offered on its edit form even when no longer billed."""
        super().__init__(*args, **kwargs)
        if keep is not None:
            field = self.fields["payer"]
            assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - declared above
            field.queryset = Payer.objects.filter(Q(active=True) | Q(pk=keep.pk))


class AuthorizationForm(forms.Form):
    number = forms.CharField(label="Authorization number", max_length=40)
    approved_units = forms.IntegerField(label="Approved sessions")
    first_day = forms.DateField(label="First day", widget=forms.DateInput(attrs={"type": "date"}))
    last_day = forms.DateField(label="Last day", widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(choices=PriorAuthorization.Status.choices)
