"""``{{ cents|money }}`` → "$3,475.00"; ``{% form_once %}``: a money form's one-time key."""

from __future__ import annotations

from uuid import uuid4

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ketaclinic.billing.rules import money_words

register = template.Library()


@register.filter
def money(cents: int | None, currency: str = "USD") -> str:
    return money_words(int(cents or 0), currency or "USD")


@register.simple_tag
def form_once() -> SafeString:
    """A new key for each form on each page: the server records what the form asks at most once per key
    (``billing.services.form_once``), so a double click or a resent request is not charged twice."""
    return format_html('<input type="hidden" name="once" value="{}">', uuid4())
