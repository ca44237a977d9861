"""Anonymous pages are rate-limited per address (django-ratelimit), and refusals nobody's record is behind
(unknown links, the limit itself) are audited once per address and window with their count, not one entry
each: ten clients guessing links can neither flood the trail nor pass unseen."""

from __future__ import annotations

import pytest
from django.test import Client

from ketaclinic.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

PAGES = ["/q/{token}/", "/consent/sign/{token}/"]


def denials() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=AuditEntry.Action.DENIED).order_by("seq"))


@pytest.mark.parametrize("page", PAGES, ids=["questionnaire", "consent"])
def test_one_address_is_limited_to_its_rate_and_told_in_words(page, settings):
    settings.KETACLINIC_ANONYMOUS_RATE = "5/m"
    guesser, neighbour = Client(REMOTE_ADDR="203.0.113.7"), Client(REMOTE_ADDR="203.0.113.8")
    codes = [guesser.get(page.format(token=f"guess-{i}")).status_code for i in range(8)]
    assert codes[:5] == [codes[0]] * 5 and codes[0] in (403, 410)
    assert codes[5:] == [429, 429, 429]
    limited = guesser.get(page.format(token="guess-9"))
    assert limited["Retry-After"] == "60"
    assert "Wait one minute, then open your link again" in limited.content.decode()
    assert neighbour.get(page.format(token="guess-x")).status_code in (
        403,
        410,
    )  # another address is not held back


@pytest.mark.parametrize("page", PAGES, ids=["questionnaire", "consent"])
def test_unknown_links_are_audited_once_per_address_with_the_count(page, settings):
    settings.KETACLINIC_ANONYMOUS_RATE = "1000/m"
    before = len(denials())
    guesser = Client(REMOTE_ADDR="198.51.100.20")
    for i in range(25):
        guesser.post(page.format(token=f"guess-{i}"), {})
    new = denials()[before:]
    assert len(new) == 2, [e.summary for e in new]  # the first, then the tenth with the count (not 25 rows)
    assert "first from this address in 10 minutes" in new[0].summary
    assert new[1].detail["count"] == 10 and "10 from this address within 10 minutes" in new[1].summary
    assert {e.ip_address for e in new} == {"198.51.100.20"}
    Client(REMOTE_ADDR="198.51.100.21").get(
        page.format(token="another")
    )  # another address: its own first entry
    assert len(denials()) == before + 3


def test_ten_clients_guessing_write_a_bounded_number_of_entries(settings):
    settings.KETACLINIC_ANONYMOUS_RATE = "1000/m"
    before = AuditEntry.objects.count()
    for c in range(10):
        client = Client(REMOTE_ADDR=f"192.0.2.{c + 1}")
        for i in range(30):
            client.get(f"/q/guess-{c}-{i}/")
    assert AuditEntry.objects.count() - before == 20  # per address: the first and the tenth, of 300 guesses
