"""The protocol library: current versions, their history, and each document."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from ketaclinic.accounts.permissions import require
from ketaclinic.core.access import Permission
from ketaclinic.protocols.models import ProtocolVersion
from ketaclinic.protocols.selectors import protocol_versions


@login_required
def protocol_list(request: HttpRequest) -> HttpResponse:
    require(request.user, Permission.PROTOCOL_VIEW)
    return render(request, "protocols/list.html", {"versions": protocol_versions()})


@login_required
def protocol_detail(request: HttpRequest, protocol_id: str, version: int) -> HttpResponse:
    require(request.user, Permission.PROTOCOL_VIEW)
    pv = ProtocolVersion.objects.filter(protocol_id=protocol_id, version=version).first()
    if pv is None:
        raise Http404("No such protocol version.")
    return render(request, "protocols/detail.html", {"pv": pv, "doc": pv.parsed})
