"""The protocol pages speak to clinicians: limits, alerts and the formulary in words and numbers, sources
without the project's file names, issue numbers or module paths."""

from __future__ import annotations

import re

import pytest

from ketaclinic.core.access import Role
from tests.conftest import make_staff

INTERNAL = re.compile(
    r"DOMAIN\.md|\bissue \d|\bseeds? \d{3}|ketaclinic\.\w|_mmhg|_per_|spo2_percent|\bdose_mg"
)


@pytest.fixture
def prescriber_client(client_for, downtown):
    return client_for(make_staff(Role.PRESCRIBER.value, downtown, username="dr.protocol"))


def test_every_shipped_protocol_page_shows_its_limits_alerts_and_formulary_in_words(
    protocols, prescriber_client
):
    for pv in protocols.values():
        r = prescriber_client.get(f"/protocols/{pv.protocol_id}/v{pv.version}/")
        body = r.content.decode()
        assert r.status_code == 200, pv.protocol_id
        main = body[body.index("<main") : body.index("</main>")]
        assert not INTERNAL.search(main), (
            pv.protocol_id,
            INTERNAL.search(main)[0],
            main[INTERNAL.search(main).start() - 80 :][:160],
        )
        doc = pv.parsed
        if doc.dosing is not None:
            assert (
                'data-testid="limits"' in main
                and f"{doc.dosing.limits[0].quantity.label} ({doc.dosing.limits[0].quantity.unit})" in main
            )
        if doc.monitoring is not None:
            assert 'data-testid="thresholds"' in main
            assert all(t.advice.replace("'", "&#x27;") in main for t in doc.monitoring.thresholds)
        if doc.formulary is not None:
            assert all(m.label in main for m in doc.formulary.drugs)


def test_sources_name_the_subject_of_our_reference_notes():
    from ketaclinic.web.templatetags.ketaclinic_tags import for_people

    assert for_people("clinic default (DOMAIN.md §4: hold at BP > 180/110)") == (
        "clinic default (ketaclinic reference notes, monitoring and discharge: hold at BP > 180/110)"
    )
    assert for_people("seeds 000, 001, 003 (DOMAIN.md §1 Before)") == (
        "published clinic pathways (ketaclinic reference notes, care pathway Before)"
    )
    assert for_people("issue 4 (informed consent)") == "clinic requirement (informed consent)"
    assert (
        for_people("dosing section (dose engine, issue 3)")
        == "dosing section (dose engine, clinic requirement)"
    )
    assert for_people("observation at least 30 min (issue 4; clinic default)") == (
        "observation at least 30 min (clinic requirement; clinic default)"
    )
