"""The patient's page behind the reminder's link: no account; shows the time and place and asks three
questions and the driver's name, nothing clinical."""

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


@never_cache
@require_http_methods(["GET", "POST"])
@anonymous_limited("preparation")
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        check = services.preparation_open(token)
    except DomainError as exc:
        return render(request, "reminders/refused.html", {"message": exc.message}, status=403)
    planned = check.planned
    activate_for(planned.location)
    patient = planned.plan.patient
    form = PreparationForm(request.POST or None)
    context = {"form": form, "planned": planned, "first_name": patient.preferred_name or patient.given_name}
    if request.method == "POST" and form.is_valid():
        try:
            answered = services.preparation_answer(token=token, **form.cleaned_data)
        except DomainError as exc:
            if exc.field == "link":
                return render(request, "reminders/refused.html", {"message": exc.message}, status=403)
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return render(request, "reminders/done.html", {**context, "check": answered})
    return render(request, "reminders/confirm.html", context, status=400 if request.method == "POST" else 200)
