"""The client's address, for the audit trail, consent signatures and the login lockout.

Behind a reverse proxy ``REMOTE_ADDR`` is the proxy, so every audit entry and every lockout would
name the same address. ``KETACLINIC_PROXY_COUNT`` says how many proxies the deployment puts in front of
Django (0, the default, trusts no header). With N proxies, each appends the address it received the
request from to ``X-Forwarded-For``; the client is the N-th address from the right. Addresses further
left were written by the client itself and are never trusted, so a forged header cannot hide an
attacker behind somebody else's address. ``KETACLINIC_TRUSTED_PROXIES`` (addresses or networks, e.g.
``10.0.0.0/8``) hardens this further: the header is believed only when the request arrives from one of
them, so a client that reaches Django directly, around the proxy, cannot write its own address.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest


def _valid(value: str) -> str | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [IPv6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # IPv4:port
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def proxy_count() -> int:
    count = getattr(settings, "KETACLINIC_PROXY_COUNT", 0)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise ImproperlyConfigured(
            f"KETACLINIC_PROXY_COUNT must be a whole number of proxies ≥ 0, not {count!r}."
        )
    return count


def trusted_proxies() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    values = getattr(settings, "KETACLINIC_TRUSTED_PROXIES", ())
    try:
        return tuple(ipaddress.ip_network(str(v).strip(), strict=False) for v in values if str(v).strip())
    except ValueError as exc:
        raise ImproperlyConfigured(f"KETACLINIC_TRUSTED_PROXIES: {exc}") from None


def client_ip(request: HttpRequest) -> str | None:
    """The address of the client that sent ``request``, or None when it cannot be known."""
    count = proxy_count()
    remote = _valid(request.META.get("REMOTE_ADDR") or "")
    if count == 0:
        return remote
    networks = trusted_proxies()
    if networks and (remote is None or not any(ipaddress.ip_address(remote) in n for n in networks)):
        return remote  # not from our proxy: the header is the client's own words
    forwarded = [part for part in (request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",") if part.strip()]
    if len(forwarded) < count:
        # Fewer hops than configured: the request did not come through every proxy (or a proxy is
        # misconfigured). The header cannot be trusted, so the nearest real peer is named.
        return remote
    return _valid(forwarded[-count])
