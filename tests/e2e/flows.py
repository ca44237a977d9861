"""What a clinic user does in the browser, step by step, for the e2e tests to share.

Each step uses the pages as a person does: labels, buttons and links by their visible text.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Page, expect

DEMO_PASSWORD = "ketaclinic-demo"
# The demo's published authenticator key (ketaclinic.web.demo.DEMO_TOTP_KEY_HEX), repeated here so the
# test process needs no Django import to compute a code; test_login checks the two agree.
DEMO_TOTP_KEY_HEX = "48656c6c6f21deadbeef"
NEEDS_CODE = {"dr.rivera", "dr.okafor", "np.chen", "admin.morgan"}

_unique = itertools.count(1)


def totp_now() -> str:
    from django_otp.oath import totp

    return f"{totp(bytes.fromhex(DEMO_TOTP_KEY_HEX)):06d}"


def password_step(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in(page: Page, username: str) -> None:
    """Sign in through the real pages: password, then the authenticator code when the role needs one."""
    password_step(page, username)
    if username in NEEDS_CODE:
        expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
        page.get_by_label("Code").fill(totp_now())
        page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Good day"))).to_be_visible()


def unique_family_name(stem: str) -> str:
    """A family name no demo patient has, so a search finds exactly the patients a test registered."""
    letters = "".join(chr(ord("a") + int(d)) for d in str(next(_unique)).zfill(2))
    return f"{stem}{letters}"


@dataclass(frozen=True)
class Registered:
    url: str
    mrn: str
    name: str


def fill_registration(
    page: Page,
    *,
    given: str,
    family: str,
    birth_date: str,
    sex: str = "Female",
    location: str = "Downtown Clinic",
    weight: tuple[str, str] | None = ("70", "kg"),
    height: tuple[str, str] | None = ("165", "cm"),
    phone: str | None = None,
) -> None:
    page.goto("/patients/new/")
    page.get_by_label("Given name").fill(given)
    page.get_by_label("Family name").fill(family)
    page.get_by_label("Birth date").fill(birth_date)
    page.get_by_label("Sex at birth").select_option(label=sex)
    page.get_by_label("Location").select_option(label=location)
    if weight:
        page.get_by_label("Weight", exact=True).fill(weight[0])
        if weight[1]:
            page.get_by_label("Weight unit").select_option(weight[1])
    if height:
        page.get_by_label("Height", exact=True).fill(height[0])
        page.get_by_label("Height unit").select_option(height[1])
    page.get_by_label("Phone", exact=True).fill(phone or f"617-555-{7000 + next(_unique):04d}")


def registered(page: Page) -> Registered:
    """After a successful registration: the chart is open; read its address and MRN from the page."""
    message = page.get_by_role("status").filter(has_text="Registered")
    expect(message).to_be_visible()
    match = re.search(r"Registered (.+) \((KC\d{6})\)", message.inner_text())
    assert match, message.inner_text()
    return Registered(url=page.url, mrn=match.group(2), name=match.group(1))


def register_patient(page: Page, **fields: Any) -> Registered:
    fill_registration(page, **fields)
    page.get_by_role("button", name="Register").click()
    return registered(page)


def record_referral(
    page: Page,
    patient: Registered,
    *,
    indication: str = "Treatment-resistant depression",
    referrer: str = "Dr. Susan Blake",
    role: str = "Psychiatrist",
    received_on: str | None = None,
) -> None:
    page.goto(patient.url)
    page.get_by_role("link", name="Record referral").click()
    page.get_by_label("Indication").select_option(label=indication)
    page.get_by_label("Referrer name").fill(referrer)
    page.get_by_label("Referrer role").select_option(label=role)
    page.get_by_label("Reason").fill("Persistent depression despite two adequate antidepressant trials.")
    if received_on is None:
        from datetime import date, timedelta

        received_on = (date.today() - timedelta(days=3)).isoformat()
    page.get_by_label("Received on").fill(received_on)
    page.get_by_role("button", name="Save referral").click()
    expect(page.get_by_role("status").filter(has_text="Referral recorded.")).to_be_visible()


TRIALS = [("sertraline", "150 mg daily", "8"), ("venlafaxine XR", "225 mg daily", "10")]


def open_screening(page: Page, patient: Registered) -> None:
    page.goto(patient.url)
    page.get_by_role("link", name="Screen for eligibility").click()
    expect(page.get_by_role("heading", name=re.compile("Eligibility screening"))).to_be_visible()


def choose_indication(page: Page, label: str = "Treatment-resistant depression") -> None:
    """Choose the indication; the protocol's contraindication questions load through htmx.

    When the page already shows questions (an indication chosen from the referral), the old ones stay
    visible until the swap lands, and answers given in between would be lost: so mark the old section
    and wait for the new one to replace it."""
    select = page.get_by_label("Indication")
    before = select.input_value()
    page.locator("#questions").evaluate("e => { e.dataset.stale = 'yes'; }")
    select.select_option(label=label)
    if select.input_value() != before:
        expect(page.locator("#questions[data-stale]")).to_have_count(0)
    expect(
        page.locator("#questions").get_by_text("Known allergy or hypersensitivity to ketamine?")
    ).to_be_visible()


def fill_screening(
    page: Page,
    *,
    trials: list[tuple[str, str, str]] = TRIALS,
    substance_use: str = "No history",
    answers: dict[str, str] | None = None,
) -> None:
    for i, (name, dose, weeks) in enumerate(trials):
        page.locator(f"[name=trials-{i}-name]").fill(name)
        page.locator(f"[name=trials-{i}-dose]").fill(dose)
        page.locator(f"[name=trials-{i}-weeks]").fill(weeks)
    answers = answers or {}
    questions = page.locator("#questions fieldset")
    assert questions.count() > 0, "the protocol's questions did not load"
    for i in range(questions.count()):
        question = questions.nth(i)
        text = question.locator("legend").inner_text().rstrip("* ")
        question.get_by_label(answers.get(text, "No"), exact=True).check()
    page.get_by_label(substance_use, exact=True).check()


def compute(page: Page) -> None:
    page.get_by_role("button", name="Compute eligibility").click()
    expect(page.get_by_role("heading", name=re.compile("^(Computed|Signed) decision"))).to_be_visible()


def sign_decision(page: Page, *, outcome: str = "Eligible", note: str = "") -> None:
    page.get_by_label(outcome, exact=True).check()
    if note:
        page.get_by_label("Note").fill(note)
    page.get_by_role("button", name="Sign decision").click()
