"""The live session page on a tablet: unique element ids, an accessible name for every input, a polled status
box that replaces only itself, and an address bar that always holds the session's page after an action."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from ketaclinic.infusions import services
from ketaclinic.infusions.models import InfusionSession
from tests.infusions.conftest import fresh, walk

pytestmark = pytest.mark.django_db


class _Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.label_for: set[str] = set()
        self.controls: list[dict[str, str | None]] = []
        self.in_label = 0
        self.status: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"] or "")
        if a.get("id") == "status":
            self.status = a
        if tag == "label":
            self.in_label += 1
            if a.get("for"):
                self.label_for.add(a["for"] or "")
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit", "button"):
            self.controls.append({**a, "_in_label": "1" if self.in_label else None})

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self.in_label:
            self.in_label -= 1


def _dom(html: str) -> _Dom:
    d = _Dom()
    d.feed(html)
    return d


def _page(session: InfusionSession) -> str:
    return f"/sessions/{session.external_id}/"


@pytest.mark.parametrize("state", ["checked_in", "prechecks_done", "running", "recovering"])
def test_ids_are_unique_and_every_input_has_a_name_a_nurse_hears(
    state, session, nurse, prescriber, client_for
):
    session = walk(session, state, nurse=nurse, prescriber=prescriber)
    for user in (nurse, prescriber):
        html = client_for(user).get(_page(session)).content.decode()
        d = _dom(html)
        dupes = sorted({i for i in d.ids if d.ids.count(i) > 1})
        assert not dupes, f"{state}: ids used twice: {dupes}"
        unnamed = [
            c
            for c in d.controls
            if not (c.get("aria-label") or c["_in_label"] or (c.get("id") and c["id"] in d.label_for))
        ]
        assert not unnamed, f"{state}: inputs without a label: {[c.get('name') for c in unnamed]}"


def test_the_polled_status_box_replaces_only_itself(session, nurse, prescriber, client_for):
    """A poll that inherited the page's target and selector blanked the whole page 15 s after every load."""
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    html = client_for(nurse).get(_page(session)).content.decode()
    status = _dom(html).status
    assert status is not None
    assert status.get("hx-target") == "this" and status.get("hx-select") == "#status"
    assert status.get("hx-swap", "").startswith("outerHTML")
    fragment = client_for(nurse).get(_page(session) + "status/").content.decode()
    assert 'id="status"' in fragment  # what the poll selects is in what the poll gets


def test_after_an_action_the_address_is_the_sessions_page_not_the_post(
    session, nurse, prescriber, client_for
):
    """Reloading after an action gave "405" because the POST address was pushed into the address bar."""
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    c = client_for(nurse)
    ok = c.post(
        _page(session) + "pause/",
        {"expected_version": fresh(session).version, "reason": "patient asked"},
        HTTP_HX_REQUEST="true",
    )
    assert ok.status_code == 200 and ok["HX-Replace-Url"] == _page(session)
    refused = c.post(
        _page(session) + "pause/", {"expected_version": fresh(session).version}, HTTP_HX_REQUEST="true"
    )
    assert refused.status_code == 400 and refused["HX-Replace-Url"] == _page(session)
    assert c.get(refused["HX-Replace-Url"]).status_code == 200


def test_an_alert_names_the_vital_in_words_not_its_stored_key(session, nurse, prescriber, client_for):
    from datetime import timedelta

    from django.utils import timezone

    from tests.infusions.conftest import vitals

    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    vitals(nurse, fresh(session), timezone.now() - timedelta(minutes=1), systolic_mmhg=190)
    html = client_for(nurse).get(_page(session)).content.decode()
    assert "Systolic blood pressure (mmHg): 190" in html
    for key in (
        "systolic_mmhg",
        "diastolic_mmhg",
        "heart_rate_bpm",
        "spo2_percent",
        "respiratory_rate_per_min",
    ):
        assert f">{key}" not in html and f" {key} " not in html


# --- automatic logoff: the page's own polls are not activity
# ---------------------------------------------------


def _idle(client, seconds: float) -> None:
    import time

    from ketaclinic.accounts.middleware import LAST_SEEN

    s = client.session
    s[LAST_SEEN] = time.time() - seconds
    s.save()


def test_polls_do_not_keep_an_unattended_tablet_signed_in(session, nurse, prescriber, client_for, settings):
    """The status box and the board refresh every 15 s; they are not activity, so the idle limit still signs
    the tablet out, and the next poll sends the whole page to the sign-in page (not into the status box)."""
    from ketaclinic.accounts.middleware import LAST_SEEN

    settings.KETACLINIC_IDLE_LOGOUT_SECONDS = 60
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    c = client_for(nurse)
    page = f"/sessions/{session.external_id}/"
    assert c.get(page).status_code == 200
    _idle(c, 50)
    seen = c.session[LAST_SEEN]
    assert c.get(page + "status/", HTTP_HX_REQUEST="true").status_code == 200
    board = f"/sessions/board/?location={session.location.code}"
    assert c.get(board, HTTP_HX_REQUEST="true").status_code == 200
    assert c.session[LAST_SEEN] == seen  # neither poll counted as activity
    _idle(c, 61)
    r = c.get(page + "status/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=f"http://testserver{page}")
    assert r.status_code == 204 and r["HX-Redirect"].startswith("/accounts/login/?timeout=1")
    assert (
        f"next={page.replace('/', '%2F')}" in r["HX-Redirect"]
    )  # back to the session page, not the fragment
    assert c.get(page)["Location"].startswith("/accounts/login/")  # signed out


def test_a_person_opening_a_page_is_activity(session, nurse, client_for, settings):
    from ketaclinic.accounts.middleware import LAST_SEEN

    settings.KETACLINIC_IDLE_LOGOUT_SECONDS = 60
    c = client_for(nurse)
    _idle(c, 50)
    before = c.session[LAST_SEEN]
    assert (
        c.get(f"/sessions/board/?location={session.location.code}").status_code == 200
    )  # opened, not polled
    assert c.session[LAST_SEEN] > before + 40


def test_a_poll_after_signing_out_sends_the_page_to_sign_in(session, nurse, client_for):
    c = client_for(nurse)
    page = f"/sessions/{session.external_id}/"
    c.post("/accounts/logout/")
    r = c.get(page + "status/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=f"http://testserver{page}")
    assert r.status_code == 204 and r["HX-Redirect"] == "/accounts/login/?next=" + page.replace("/", "%2F")
    assert c.get(page + "status/").status_code == 302  # a plain request keeps the usual redirect


def _status_box(html: str) -> str:
    import re

    start = html.index('<div id="status"')
    depth, i = 0, start
    for m in re.finditer(r"<div\b|</div>", html[start:]):
        depth += 1 if m.group(0) == "<div" else -1
        if depth == 0:
            i = start + m.end()
            break
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html[start:i])


def test_the_poll_shows_what_the_page_shows_for_less(session, nurse, prescriber, client_for):
    """The status poll runs every 15 s on every open live page: it builds only the status box's context, and
    that box is the same as on the whole page (an alert to acknowledge, the bag, the elapsed time)."""
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from tests.infusions.conftest import vitals

    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    vitals(nurse, fresh(session), timezone.now() - timedelta(minutes=1), systolic_mmhg=190)
    c = client_for(nurse)
    with CaptureQueriesContext(connection) as page_queries:
        page = c.get(_page(session)).content.decode()
    with CaptureQueriesContext(connection) as poll_queries:
        poll = c.get(_page(session) + "status/").content.decode()
    assert "Systolic blood pressure (mmHg): 190" in poll and "Acknowledge" in poll
    assert _status_box(poll) == _status_box(page)
    assert len(poll_queries) < len(page_queries) * 2 // 3, (len(poll_queries), len(page_queries))


def test_what_happened_reads_in_the_order_it_happened(session, nurse, prescriber, client_for):
    """A nausea recorded late (backdated into the infusion) sits between the start and the stop, not after
    every pump event: the list is the session's story in time order, whatever kind each line is."""
    session = walk(session, "recovering", nurse=nurse, prescriber=prescriber)
    started = session.rate_events.order_by("at").first().at
    services.adverse_event_record(
        user=nurse,
        session=fresh(session),
        expected_version=fresh(session).version,
        kind="nausea",
        severity="mild",
        at=started + timedelta(minutes=10),
    )
    html = client_for(nurse).get(f"/sessions/{session.external_id}/").content.decode()
    log = html[html.index('id="h-log"') : html.index("</ul>", html.index('id="h-log"'))]
    lines = re.findall(r"<li>(\d\d:\d\d) · ([^<]*?)(?: at | —| ·|\()", log)
    kinds = [what.strip() for _, what in lines]
    assert [t for t, _ in lines] == sorted(t for t, _ in lines)
    assert kinds.index("adverse event: Nausea") < kinds.index("Stop")
