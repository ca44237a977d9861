"""``{{ cents|money }}`` → "$3,475.00"."""

from __future__ import annotations

from django import template

from ketaclinic.billing.rules import money_words

register = template.Library()


@register.filter
def money(cents: int | None, currency: str = "USD") -> str:
    return money_words(int(cents or 0), currency or "USD")
