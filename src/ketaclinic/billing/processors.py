"""Card payments through a payment processor, behind one small interface chosen in settings
(``BILLING_PAYMENT_PROCESSOR``): the clinic never sees or stores a card number, only the processor's
reference and the card's last four digits.

The real adapter uses Stripe's own kept library (``stripe``, PyPI), which handles the API version, retries and
idempotency keys; the card is tokenised in the browser by Stripe's hosted fields and only the payment method
id reaches us. ``FakeProcessor`` stands in for demos and tests: a token ``tok_<anything>_<4 digits>`` is
accepted and ``tok_declined_…`` refused, like Stripe's test cards.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol

import stripe
from django.conf import settings
from django.utils.module_loading import import_string

from ketaclinic.core.errors import ValidationError

CARD_DECLINED = "The card was declined by the payment processor: {why}. Nothing was charged."


@dataclass(frozen=True)
class CardResult:
    reference: str
    last4: str


class PaymentProcessor(Protocol):
    def charge(self, *, amount_cents: int, currency: str, token: str, description: str) -> CardResult: ...

    def refund(self, *, reference: str, amount_cents: int) -> str: ...


class FakeProcessor:
    def charge(self, *, amount_cents: int, currency: str, token: str, description: str) -> CardResult:
        last4 = token.rsplit("_", 1)[-1]
        if not token.startswith("tok_") or len(last4) != 4 or not last4.isdigit():
            raise ValidationError(
                CARD_DECLINED.format(why="the card details were not read"), field="card", value=""
            )
        if token.startswith("tok_declined"):
            raise ValidationError(CARD_DECLINED.format(why="insufficient funds"), field="card", value=last4)
        return CardResult(reference=f"pi_fake_{secrets.token_hex(8)}", last4=last4)

    def refund(self, *, reference: str, amount_cents: int) -> str:
        return f"re_fake_{secrets.token_hex(8)}"


class StripeProcessor:
    """Stripe PaymentIntents, confirmed at once with the browser's payment method id."""

    def __init__(self) -> None:
        self._client = stripe.StripeClient(settings.STRIPE_SECRET_KEY)

    def charge(self, *, amount_cents: int, currency: str, token: str, description: str) -> CardResult:
        try:
            intent = self._client.v1.payment_intents.create(
                params={
                    "amount": amount_cents,
                    "currency": currency.lower(),
                    "payment_method": token,
                    "confirm": True,
                    "description": description,
                    "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
                    "expand": ["payment_method"],
                }
            )
        except stripe.CardError as exc:
            raise ValidationError(
                CARD_DECLINED.format(why=exc.user_message or "declined"), field="card"
            ) from None
        card = getattr(intent.payment_method, "card", None)
        return CardResult(reference=intent.id, last4=str(getattr(card, "last4", "") or ""))

    def refund(self, *, reference: str, amount_cents: int) -> str:
        refund = self._client.v1.refunds.create(params={"payment_intent": reference, "amount": amount_cents})
        return refund.id


def processor() -> PaymentProcessor:
    path = getattr(settings, "BILLING_PAYMENT_PROCESSOR", "ketaclinic.billing.processors.FakeProcessor")
    return import_string(path)()  # type: ignore[no-any-return]
