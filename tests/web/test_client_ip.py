"""Behind a reverse proxy the audit trail and the lockout must name the client, not the proxy."""

from __future__ import annotations

from typing import Any

import pytest
from axes.models import AccessAttempt
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory

from ketaclinic.audit.client_ip import client_ip
from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Role
from tests.conftest import PASSWORD

LOGIN = "/accounts/login/"


def request(remote: str = "10.0.0.2", forwarded: str | None = None):
    extra: dict[str, Any] = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_a_proxy_the_forwarded_header_is_ignored(settings):
    settings.KETACLINIC_PROXY_COUNT = 0
    assert client_ip(request("198.51.100.7", forwarded="203.0.113.9")) == "198.51.100.7"


def test_one_proxy_names_the_address_it_appended(settings):
    settings.KETACLINIC_PROXY_COUNT = 1
    assert client_ip(request("10.0.0.2", forwarded="203.0.113.9")) == "203.0.113.9"


def test_a_forged_leftmost_address_is_not_believed(settings):
    settings.KETACLINIC_PROXY_COUNT = 1
    # the client wrote "192.0.2.66" itself; the proxy appended the real peer address
    assert client_ip(request("10.0.0.2", forwarded="192.0.2.66, 203.0.113.9")) == "203.0.113.9"


def test_two_proxies_count_from_the_right(settings):
    settings.KETACLINIC_PROXY_COUNT = 2
    assert client_ip(request("10.0.0.3", forwarded="192.0.2.66, 203.0.113.9, 10.0.0.2")) == "203.0.113.9"


def test_a_request_that_skipped_the_proxy_falls_back_to_the_peer(settings):
    settings.KETACLINIC_PROXY_COUNT = 2
    assert client_ip(request("203.0.113.50", forwarded="203.0.113.9")) == "203.0.113.50"
    assert client_ip(request("203.0.113.50")) == "203.0.113.50"


def test_with_trusted_proxies_the_header_is_believed_only_from_them(settings):
    settings.KETACLINIC_PROXY_COUNT = 1
    settings.KETACLINIC_TRUSTED_PROXIES = ["10.0.0.0/8", "2001:db8:ffff::1"]
    assert client_ip(request("10.1.2.3", forwarded="203.0.113.9")) == "203.0.113.9"
    assert client_ip(request("2001:db8:ffff::1", forwarded="203.0.113.9")) == "203.0.113.9"
    # straight to Django, around the proxy: the forged header is ignored
    assert client_ip(request("198.51.100.7", forwarded="203.0.113.9")) == "198.51.100.7"


def test_a_malformed_trusted_proxy_is_refused_with_its_setting_name(settings):
    settings.KETACLINIC_PROXY_COUNT = 1
    settings.KETACLINIC_TRUSTED_PROXIES = ["10.0.0.0/33"]
    with pytest.raises(ImproperlyConfigured, match="KETACLINIC_TRUSTED_PROXIES"):
        client_ip(request())


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        ("203.0.113.9:5123", "203.0.113.9"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:db8::2", "2001:db8::2"),
        ("not-an-address", None),
        ("unknown", None),
    ],
)
def test_addresses_are_parsed_and_garbage_is_refused(settings, forwarded, expected):
    settings.KETACLINIC_PROXY_COUNT = 1
    assert client_ip(request(forwarded=forwarded)) == expected


@pytest.mark.parametrize("bad", [-1, "1", 1.5, True])
def test_a_misconfigured_proxy_count_is_refused_with_its_name(settings, bad):
    settings.KETACLINIC_PROXY_COUNT = bad
    with pytest.raises(ImproperlyConfigured, match="KETACLINIC_PROXY_COUNT"):
        client_ip(request())


@pytest.mark.django_db
def test_behind_a_proxy_the_lockout_and_the_audit_name_the_client(settings, staff):
    settings.KETACLINIC_PROXY_COUNT = 1
    nurse = staff[Role.NURSE]
    attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9")
    for attempt in range(5):
        attacker.post(LOGIN, {"username": nurse.username, "password": f"wrong {attempt}"})
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.9"}
    failed = AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN_FAILED)
    assert failed.count() == 5
    assert set(failed.values_list("ip_address", flat=True)) == {"203.0.113.9"}
    # the same account from another client behind the same proxy is not locked out by the attacker
    colleague = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert colleague.post(LOGIN, {"username": nurse.username, "password": PASSWORD}).status_code == 302
