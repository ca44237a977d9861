"""The patient's page behind the reminder's link: no account; shows the time and place and (a dosing
session) asks three questions and the driver's name, and lists the patient's upcoming appointments; nothing
clinical."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ketaclinic.audit.anonymous import anonymous_limited
from ketaclinic.base.time_zones import activate_for
from ketaclinic.core.errors import DomainError
from ketaclinic.reminders import services
from ketaclinic.reminders.forms import PreparationForm
from ketaclinic.scheduling.upcoming import upcoming_appointments


@never_cache
@require_http_methods(["GET", "POST"])
@anonymous_limited("preparation")
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        check = services.preparation_open(token)
    except DomainError as exc:
        return render(request, "reminders/refused.html", {"message": exc.message}, status=403)
    activate_for(check.location)
    patient = check.patient
    form = PreparationForm(request.POST or None)
    context = {
        "form": form,
        "check": check,
        "first_name": patient.preferred_name or patient.given_name,
        "upcoming": upcoming_appointments(patient),
    }
    if not check.asks_preparation:  # a visit's reminder: the patient's upcoming appointments, nothing asked
        return render(request, "reminders/upcoming.html", context)
    if request.method == "POST" and form.is_valid():
        try:
            answered = services.preparation_answer(token=token, **form.cleaned_data)
        except DomainError as exc:
            if exc.field == "link":
                return render(request, "reminders/refused.html", {"message": exc.message}, status=403)
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return render(request, "reminders/done.html", {**context, "answered": answered})
    return render(request, "reminders/confirm.html", context, status=400 if request.method == "POST" else 200)
