"""An unattended tablet signs out although its pages poll: the board and a running session are left open past
the idle limit (45 s on this test's own server) and both end on the sign-in page, saying why."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import _ketaclinic_command, _serving, open_page

IDLE_S = 45


@pytest.fixture(scope="module")
def idle_server() -> Iterator[str]:
    with _serving(
        _ketaclinic_command(), {"KETACLINIC_IDLE_LOGOUT_SECONDS": str(IDLE_S)}, db_suffix="e2e_idle"
    ) as url:
        yield url


def test_the_board_and_a_session_left_open_sign_out_at_the_idle_limit(browser, idle_server, shot):
    states: dict[str, object] = {}
    board = open_page(browser, idle_server, states, "nurse.patel")
    board.goto("/sessions/board/?location=downtown")
    row = board.locator("table[data-testid=board] tr").filter(has=board.locator(".badge.state.running")).first
    href = row.get_by_role("link").first.get_attribute("href")
    session = open_page(browser, idle_server, states, "nurse.patel")
    session.goto(href)
    expect(session.get_by_test_id("state")).to_have_text("Running")
    polls: list[str] = []
    session.on("requestfinished", lambda r: polls.append(r.url) if r.url.endswith("/status/") else None)
    board.wait_for_timeout((IDLE_S - 15) * 1000)
    expect(session.get_by_test_id("state")).to_have_text("Running")  # still on the session before the limit
    for page in (session, board):  # the next poll after the limit sends each page to the sign-in page
        expect(page).to_have_url(re.compile(r"/accounts/login/\?"), timeout=(15 + 20 + 5) * 1000)
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    # the first to poll signed the tablet out and says why; the other found itself signed out
    assert any("timeout=1" in p.url for p in (session, board))
    assert len(polls) >= 2  # it polled all along; the polls did not keep it signed in
    assert "next=%2Fsessions%2F" in session.url and "status" not in session.url  # back to the session page
    shot(session, "signed-out")
    board.context.close()
    session.context.close()
