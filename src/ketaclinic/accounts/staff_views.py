"""The admin's staff record pages (edit a member of staff, licences, password and second-factor resets) and
the page where a user with a temporary password chooses their own."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ketaclinic.accounts import selectors, services
from ketaclinic.accounts.forms import LicenceForm, OwnPasswordForm, StaffEditForm
from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.models import StaffLicence, User
from ketaclinic.accounts.permissions import require
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import DomainError


def _form_error(form: forms.Form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _member(request: AuthedRequest, external_id: uuid.UUID) -> User:
    try:
        return selectors.staff_get(user=request.user, external_id=str(external_id))
    except User.DoesNotExist:
        raise Http404("No such staff account.") from None


def _initial(member: User) -> dict[str, object]:
    names = (
        "first_name",
        "last_name",
        "email",
        "role",
        "prescriber_kind",
        "credentials",
        "npi",
        "dea_number",
    )
    return {**{n: getattr(member, n) for n in names}, "locations": list(member.locations.all())}


def _act(request: AuthedRequest, member: User, form: StaffEditForm, licence_form: LicenceForm) -> str | None:
    """Run the posted action; the message to show on success, ``None`` when a form has errors."""
    action = request.POST.get("action")
    if action == "save":
        if not form.is_valid():
            return None
        data = dict(form.cleaned_data)
        services.staff_update(user=request.user, staff_member=member, locations=data.pop("locations"), **data)
        return "Staff record saved."
    if action == "licence_add":
        if not licence_form.is_valid():
            return None
        services.licence_add(user=request.user, staff_member=member, **licence_form.cleaned_data)
        return "Licence added."
    if action == "licence_remove":
        licence_id = _uuid(request.POST.get("licence", ""))
        licence = (
            StaffLicence.objects.filter(user=member, external_id=licence_id).first() if licence_id else None
        )
        if licence is None:
            raise Http404("No such licence.")
        services.licence_remove(user=request.user, licence=licence)
        return "Licence removed."
    if action == "second_factor_reset":
        removed = services.staff_second_factor_reset(user=request.user, staff_member=member)
        return (
            f"Second factor reset ({removed} device(s) removed): "
            f"{member.username} enrols again at next sign-in."
        )
    raise Http404("Unknown action.")


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def staff_edit(request: AuthedRequest, external_id: uuid.UUID) -> HttpResponse:
    """Clinic admins: one member of staff — name, role, prescriber kind, credentials, NPI, DEA, locations,
    licences; reset the password (a temporary one, shown once) or the second factor."""
    require(request.user, Permission.STAFF_MANAGE)
    member = _member(request, external_id)
    posted = request.POST.get("action", "")
    form = StaffEditForm(request.POST if posted == "save" else None, initial=_initial(member))
    licence_form = LicenceForm(request.POST if posted == "licence_add" else None)
    temporary = ""
    if request.method == "POST":
        try:
            if posted == "password_reset":
                temporary = services.staff_password_reset(user=request.user, staff_member=member)
            elif (done := _act(request, member, form, licence_form)) is not None:
                messages.success(request, done)
                return redirect("accounts:staff_edit", external_id=member.external_id)
        except DomainError as exc:
            _form_error(licence_form if posted == "licence_add" else form, exc)
    member = _member(request, external_id)
    status = 400 if form.errors or licence_form.errors else 200
    return render(
        request,
        "accounts/staff_edit.html",
        {
            "member": member,
            "form": form,
            "licence_form": licence_form,
            "temporary": temporary,
            "enrolled": member.pk in selectors.second_factor_enrolled_ids(),
        },
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: AuthedRequest) -> HttpResponse:
    """Any signed-in user: choose a new password (required after an admin's reset)."""
    form = OwnPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.own_password_change(user=request.user, **form.cleaned_data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, "Password changed.")
            return redirect("web:dashboard")
    return render(
        request,
        "accounts/password_change.html",
        {"form": form, "required": request.user.must_change_password},
        status=400 if form.errors else 200,
    )
