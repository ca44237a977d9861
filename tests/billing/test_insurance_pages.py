"""Insurance pages for billing staff: payers (list, add, edit), a patient's policies on the account page (add,
edit, deactivate) and their prior authorizations (add, status), each write audited, each refusal naming the
field, the value and the allowed range with nothing saved; other roles refused; pages in flat query counts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from ketaclinic.audit.models import AuditEntry
from ketaclinic.billing import insurance
from ketaclinic.billing.models import InsurancePolicy, Payer, PriorAuthorization
from ketaclinic.core.access import Role
from ketaclinic.core.errors import ValidationError
from tests.conftest import register

pytestmark = pytest.mark.django_db


@pytest.fixture
def carrier(db) -> Payer:
    return Payer.objects.create(name="State Fund", kind=Payer.Kind.WORKERS_COMP, payer_id="SF001")


@pytest.fixture
def policy(clerk, patient, carrier) -> InsurancePolicy:
    return insurance.policy_add(
        user=clerk, patient=patient, payer=carrier, member_id="WC-88231", coverage_percent=100
    )


def account_url(patient) -> str:
    return f"/billing/patients/{patient.external_id}/"


def test_the_clerk_adds_and_edits_a_payer_and_the_change_is_audited(client_for, clerk):
    client = client_for(clerk)
    r = client.post(
        "/billing/payers/",
        {"name": "Blue Shield", "kind": "commercial", "payer_id": "BS123", "address": "1 Main St"},
    )
    assert r.status_code == 302
    payer = Payer.objects.get(name="Blue Shield")
    page = client.get("/billing/payers/").content.decode()
    assert "Blue Shield" in page and "Commercial insurer" in page and "BS123" in page
    r = client.post(
        f"/billing/payers/{payer.external_id}/",
        {"name": "Blue Shield of CA", "kind": "commercial", "payer_id": "BS124", "address": "1 Main St"},
    )
    assert r.status_code == 302
    payer.refresh_from_db()
    assert (payer.name, payer.payer_id) == ("Blue Shield of CA", "BS124")
    changed = AuditEntry.objects.get(action="update", summary__startswith="Payer changed")
    assert changed.detail["payer_id"] == "BS123 → BS124"


def test_a_payer_without_a_name_or_of_an_unknown_kind_is_refused_with_nothing_saved(client_for, clerk):
    client = client_for(clerk)
    r = client.post("/billing/payers/", {"name": "  ", "kind": "commercial"})
    assert r.status_code == 400 and "Nothing was saved" in r.content.decode()
    r = client.post("/billing/payers/", {"name": "Cash", "kind": "self_pay"})
    assert r.status_code == 400 and "self_pay" in r.content.decode()
    assert not Payer.objects.exists()


def test_the_clerk_adds_a_policy_and_an_authorization_and_sees_units_used_and_days_left(
    client_for, clerk, patient, carrier
):
    client = client_for(clerk)
    r = client.post(
        f"{account_url(patient)}policies/",
        {
            "payer": carrier.pk,
            "member_id": "WC-1",
            "group_number": "G7",
            "coverage_percent": "80",
            "priority": "1",
        },
    )
    assert r.status_code == 302
    policy = InsurancePolicy.objects.get(patient=patient)
    today = timezone.localdate()
    r = client.post(
        f"/billing/policies/{policy.external_id}/authorizations/",
        {
            "number": "PA-1",
            "approved_units": "6",
            "first_day": today.isoformat(),
            "last_day": (today + timedelta(days=9)).isoformat(),
            "status": "approved",
        },
    )
    assert r.status_code == 302
    page = client.get(account_url(patient)).content.decode()
    assert "State Fund" in page and "covers 80%" in page and "group G7" in page
    assert "0 of 6 (6 left)" in page and ">10</td>" in page
    assert AuditEntry.objects.filter(summary__startswith="Prior authorization PA-1").count() == 1


@pytest.mark.parametrize("coverage", ["-1", "101"])
def test_coverage_outside_0_to_100_is_refused(client_for, clerk, patient, carrier, coverage):
    r = client_for(clerk).post(
        f"{account_url(patient)}policies/",
        {"payer": carrier.pk, "member_id": "M1", "coverage_percent": coverage, "priority": "1"},
    )
    assert r.status_code == 400
    assert f"Coverage of {coverage}% is outside 0 to 100%" in r.content.decode()
    assert not InsurancePolicy.objects.exists()


def test_a_second_active_primary_is_refused_but_a_secondary_or_a_replacement_is_taken(
    client_for, clerk, patient, carrier, policy
):
    client = client_for(clerk)
    other = Payer.objects.create(name="Acme Health", kind=Payer.Kind.COMMERCIAL)
    fields = {"payer": other.pk, "member_id": "AC-9", "coverage_percent": "70", "priority": "1"}
    r = client.post(f"{account_url(patient)}policies/", fields)
    assert r.status_code == 400
    assert "already has an active primary policy (State Fund, member WC-88231)" in r.content.decode()
    assert InsurancePolicy.objects.count() == 1
    assert client.post(f"{account_url(patient)}policies/", {**fields, "priority": "2"}).status_code == 302
    assert client.post(f"/billing/policies/{policy.external_id}/deactivate/").status_code == 302
    policy.refresh_from_db()
    assert not policy.active
    assert (
        client.post(f"{account_url(patient)}policies/", {**fields, "member_id": "AC-10"}).status_code == 302
    )
    assert InsurancePolicy.objects.filter(patient=patient, active=True).count() == 2


def test_editing_a_policy_into_a_clash_or_out_of_range_is_refused(
    client_for, clerk, patient, carrier, policy
):
    client = client_for(clerk)
    second = insurance.policy_add(
        user=clerk, patient=patient, payer=carrier, member_id="S-2", coverage_percent=20, priority=2
    )
    url = f"/billing/policies/{second.external_id}/"
    assert client.get(url).status_code == 200
    r = client.post(url, {"payer": carrier.pk, "member_id": "S-2", "coverage_percent": "20", "priority": "1"})
    assert r.status_code == 400 and "already has an active primary policy" in r.content.decode()
    r = client.post(url, {"payer": carrier.pk, "member_id": "S-2", "coverage_percent": "30", "priority": "2"})
    assert r.status_code == 302
    second.refresh_from_db()
    assert (second.coverage_percent, second.priority) == (30, 2)


def post_auth(client, policy, **overrides):
    today = timezone.localdate()
    fields = {
        "number": "PA-7",
        "approved_units": "2",
        "first_day": today.isoformat(),
        "last_day": (today + timedelta(days=30)).isoformat(),
        "status": "approved",
    } | overrides
    return client.post(f"/billing/policies/{policy.external_id}/authorizations/", fields)


def test_authorization_refusals_name_the_field_and_save_nothing(client_for, clerk, patient, policy):
    client = client_for(clerk)
    r = post_auth(client, policy, approved_units="0")
    assert (
        r.status_code == 400
        and "Approved sessions of 0 is not allowed: an authorization approves 1 to 99" in (r.content.decode())
    )
    r = post_auth(client, policy, first_day="2026-05-10", last_day="2026-05-09")
    assert r.status_code == 400
    assert "The last day 2026-05-09 is before the first day 2026-05-10" in r.content.decode()
    assert not PriorAuthorization.objects.exists()
    assert post_auth(client, policy).status_code == 302
    r = post_auth(client, policy, number="pa-7")
    assert r.status_code == 400
    assert "Authorization number pa-7 is already on file with State Fund" in r.content.decode()
    assert PriorAuthorization.objects.count() == 1


def test_the_same_number_with_another_payer_is_taken(clerk, patient, policy):
    other = Payer.objects.create(name="Acme Health", kind=Payer.Kind.COMMERCIAL)
    second = insurance.policy_add(
        user=clerk, patient=patient, payer=other, member_id="A", coverage_percent=50, priority=2
    )
    day = date(2026, 6, 1)
    for p in (policy, second):
        insurance.authorization_add(
            user=clerk, policy=p, number="PA-1", approved_units=3, first_day=day, last_day=day
        )
    assert PriorAuthorization.objects.filter(number="PA-1").count() == 2


def test_the_clerk_changes_an_authorizations_status(client_for, clerk, patient, policy):
    auth = insurance.authorization_add(
        user=clerk,
        policy=policy,
        number="PA-9",
        approved_units=3,
        first_day=date(2026, 6, 1),
        last_day=date(2026, 6, 30),
        status="pending",
    )
    client = client_for(clerk)
    url = f"/billing/authorizations/{auth.external_id}/status/"
    assert client.post(url, {"status": "denied"}).status_code == 302
    auth.refresh_from_db()
    assert auth.status == "denied"
    assert AuditEntry.objects.filter(summary__contains="pending → denied").count() == 1
    r = client.post(url, {"status": "lost"})
    assert r.status_code == 400 and "The status &#x27;lost&#x27; is not one of" in r.content.decode()
    auth.refresh_from_db()
    assert auth.status == "denied"


@pytest.mark.parametrize("role", [Role.NURSE, Role.INTAKE, Role.PRESCRIBER])
def test_other_roles_cannot_open_or_write_the_insurance_pages(
    client_for, staff, patient, carrier, policy, role
):
    client = client_for(staff[role])
    assert client.get("/billing/payers/").status_code == 403
    assert client.post("/billing/payers/", {"name": "X", "kind": "other"}).status_code == 403
    assert client.get(f"/billing/payers/{carrier.external_id}/").status_code == 403
    assert (
        client.post(
            f"{account_url(patient)}policies/",
            {"payer": carrier.pk, "member_id": "M", "coverage_percent": "50", "priority": "2"},
        ).status_code
        == 403
    )
    assert client.post(f"/billing/policies/{policy.external_id}/deactivate/").status_code == 403
    assert post_auth(client, policy).status_code == 403
    assert Payer.objects.count() == 1 and InsurancePolicy.objects.count() == 1
    assert not PriorAuthorization.objects.exists()


def test_a_clerk_of_another_location_cannot_touch_the_patients_policy(
    client_for, clerk, other_patient, carrier
):
    from ketaclinic.billing.models import InsurancePolicy as P

    policy = P.objects.create(patient=other_patient, payer=carrier, member_id="N-1", coverage_percent=50)
    client = client_for(clerk)
    assert client.post(f"/billing/policies/{policy.external_id}/deactivate/").status_code in (403, 404)
    policy.refresh_from_db()
    assert policy.active


def test_the_account_and_payers_pages_read_in_a_fixed_number_of_queries(
    client_for, clerk, intake, downtown, patient, carrier, policy, django_assert_max_num_queries
):
    client = client_for(clerk)
    client.get(account_url(patient))
    client.get("/billing/payers/")
    with django_assert_max_num_queries(40) as few:
        client.get(account_url(patient))
    with django_assert_max_num_queries(40) as few_payers:
        client.get("/billing/payers/")
    day = date(2026, 6, 1)
    for i in range(5):
        payer = Payer.objects.create(name=f"Payer {i}", kind=Payer.Kind.OTHER)
        p = insurance.policy_add(
            user=clerk, patient=patient, payer=payer, member_id=f"M{i}", coverage_percent=10, priority=2
        )
        for j in range(2):
            insurance.authorization_add(
                user=clerk, policy=p, number=f"A{i}-{j}", approved_units=2, first_day=day, last_day=day
            )
        insurance.policy_deactivate(user=clerk, policy=p)
        register(intake, downtown, given_name=f"Pat{i}", birth_date=date(1980 + i, 1, i + 1))
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(account_url(patient)).content.decode()
    assert page.count("A4-1") == 1
    with django_assert_max_num_queries(len(few_payers.captured_queries)):
        page = client.get("/billing/payers/").content.decode()
    assert "Payer 4" in page


def test_the_payers_page_counts_only_active_policies(client_for, clerk, patient, carrier, policy):
    import re

    from ketaclinic.billing import insurance

    def count() -> str:
        page = client_for(clerk).get("/billing/payers/").content.decode()
        row = re.search(rf"<td>{re.escape(carrier.name)}</td>.*?</tr>", page, re.S)
        assert row is not None
        return re.findall(r'<td class="num">(\d+)</td>', row.group(0))[0]

    assert count() == "1"
    insurance.policy_deactivate(user=clerk, policy=policy)
    assert count() == "0"


def test_a_payer_no_longer_billed_takes_no_new_policy_and_keeps_the_ones_on_file(
    client_for, clerk, patient, carrier, policy, downtown, intake
):
    client = client_for(clerk)
    r = client.post(f"/billing/payers/{carrier.external_id}/active/", {"active": "0"}, follow=True)
    page = r.content.decode()
    assert "State Fund: no longer billed; no new policies." in page and "No longer billed" in page
    carrier.refresh_from_db()
    assert carrier.active is False
    assert AuditEntry.objects.filter(summary="Payer no longer billed: State Fund").count() == 1
    policy.refresh_from_db()
    assert policy.active is True  # the policy on file and its claims stay
    other = register(intake, downtown, given_name="Nia", family_name="Newcomer")
    form = client.get(account_url(other)).content.decode()
    assert ">State Fund</option>" not in form  # not offered for a new policy
    before = InsurancePolicy.objects.count()
    with pytest.raises(ValidationError) as exc:
        insurance.policy_add(user=clerk, patient=other, payer=carrier, member_id="WC-1", coverage_percent=80)
    assert exc.value.field == "payer" and exc.value.message == insurance.PAYER_INACTIVE.format(
        payer="State Fund"
    )
    assert InsurancePolicy.objects.count() == before
    client.post(f"/billing/payers/{carrier.external_id}/active/", {"active": "1"})
    carrier.refresh_from_db()
    assert carrier.active is True
    insurance.policy_add(user=clerk, patient=other, payer=carrier, member_id="WC-1", coverage_percent=80)


def test_only_billing_staff_who_record_may_stop_billing_a_payer(client_for, staff, carrier):
    r = client_for(staff[Role.NURSE]).post(f"/billing/payers/{carrier.external_id}/active/", {"active": "0"})
    assert r.status_code == 403
    carrier.refresh_from_db()
    assert carrier.active is True


def test_every_kind_of_payer_has_a_claim_filing_indicator_and_medicaid_is_mc():
    from ketaclinic.billing.claims import FILING
    from ketaclinic.core.billing.claim_rules import CLAIM_FILING_INDICATORS

    assert set(FILING) == set(Payer.Kind.values)
    assert all(code in CLAIM_FILING_INDICATORS for code in FILING.values())
    assert FILING[Payer.Kind.MEDICAID] == "MC"


def test_a_policy_whose_payer_is_no_longer_billed_can_still_be_corrected(client_for, clerk, carrier, policy):
    """Stopping a payer keeps its policies: a typo in one is still fixed, on its page and in the service;
    moving a policy onto a payer no longer billed is refused."""
    insurance.payer_active_set(user=clerk, payer=carrier, active=False)
    client = client_for(clerk)
    url = f"/billing/policies/{policy.external_id}/"
    assert ">State Fund</option>" in client.get(url).content.decode()  # its own payer still offered
    r = client.post(
        url, {"payer": carrier.pk, "member_id": "WC-88232", "coverage_percent": 100, "priority": 1}
    )
    assert r.status_code == 302
    policy.refresh_from_db()
    assert policy.member_id == "WC-88232"
    other = Payer.objects.create(name="Gone Mutual", kind=Payer.Kind.COMMERCIAL, active=False)
    with pytest.raises(ValidationError) as exc:
        insurance.policy_edit(
            user=clerk, policy=policy, payer=other, member_id="M1", coverage_percent=50, priority=1
        )
    assert exc.value.field == "payer"
    policy.refresh_from_db()
    assert policy.payer == carrier
