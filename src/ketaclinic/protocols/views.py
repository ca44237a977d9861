"""The protocol library: current versions, their history, and each document."""

from __future__ import annotations

import yaml
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.permissions import require
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ProtocolError
from ketaclinic.core.protocols import parse_protocol
from ketaclinic.protocols.models import ProtocolVersion
from ketaclinic.protocols.selectors import protocol_versions
from ketaclinic.protocols.services import protocol_load


@login_required
def protocol_list(request: AuthedRequest) -> HttpResponse:
    require(request.user, Permission.PROTOCOL_VIEW)
    return render(request, "protocols/list.html", {"versions": protocol_versions()})


@login_required
def protocol_detail(request: AuthedRequest, protocol_id: str, version: int) -> HttpResponse:
    require(request.user, Permission.PROTOCOL_VIEW)
    pv = ProtocolVersion.objects.filter(protocol_id=protocol_id, version=version).first()
    if pv is None:
        raise Http404("No such protocol version.")
    return render(request, "protocols/detail.html", {"pv": pv, "doc": pv.parsed})


@login_required
def protocol_upload(request: AuthedRequest) -> HttpResponse:
    """Clinic admins load a new protocol version from a YAML/JSON file; it is validated before storing."""

    require(request.user, Permission.PROTOCOL_LOAD)
    upload = request.FILES.get("document")
    if request.method != "POST" or upload is None:
        messages.error(request, "Choose a protocol file to load.")
        return redirect("protocols:list")
    try:
        try:
            data = yaml.safe_load(upload.read().decode("utf-8"))
        except (UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ProtocolError(f"{upload.name} is not a readable YAML or JSON file: {exc}") from None
        pv, created = protocol_load(
            document=parse_protocol(data), user=request.user, source_name=upload.name or ""
        )
    except ProtocolError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"{pv.protocol_id} v{pv.version} {'loaded' if created else 'was already loaded'}."
        )
    return redirect("protocols:list")
