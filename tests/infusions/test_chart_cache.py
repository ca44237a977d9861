"""The live session's chart is drawn once per picture: asked again with nothing changed, the same picture
comes from the cache; a new reading draws a new one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ketaclinic.infusions import charts, selectors
from tests.clock import advance_to
from tests.infusions.conftest import vitals, walk

pytestmark = pytest.mark.django_db


def test_an_unchanged_chart_is_drawn_once_and_a_new_reading_draws_it_again(
    session, nurse, prescriber, client_for, monkeypatch
):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    drawn: list[int] = []
    draw = charts.session_chart_figure

    def counted(*args, **kwargs):
        drawn.append(1)
        return draw(*args, **kwargs)

    monkeypatch.setattr(charts, "session_chart_figure", counted)
    series_read: list[int] = []
    read = selectors.vitals_chart

    def counted_read(*args, **kwargs):
        series_read.append(1)
        return read(*args, **kwargs)

    monkeypatch.setattr(selectors, "vitals_chart", counted_read)
    now = timezone.now()
    advance_to(now.replace(second=1, microsecond=0) + timedelta(minutes=1))  # both requests in one minute
    viewer, other_viewer = client_for(nurse), client_for(prescriber)
    url = f"/sessions/{session.external_id}/chart.svg"
    first = viewer.get(url).content
    again = other_viewer.get(url).content
    assert first.startswith(b"<?xml") and again == first and len(drawn) == 1
    assert len(series_read) == 1  # the cached picture is served without reading or predicting anything again
    vitals(nurse, session, timezone.now(), systolic_mmhg=171)
    after_reading = viewer.get(url).content
    assert len(drawn) == 2 and after_reading != first and len(series_read) == 2
