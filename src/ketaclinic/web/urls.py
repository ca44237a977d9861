from django.http import HttpResponse
from django.urls import include, path

from ketaclinic.outcomes import views as outcomes_views
from ketaclinic.web import views
from ketaclinic.web.api import api

urlpatterns = [
    path("", views.dashboard, name="home"),
    path("accounts/", include("ketaclinic.accounts.urls")),
    path("patients/", include("ketaclinic.patients.urls")),
    path("screening/", include("ketaclinic.screening.urls")),
    path("audit/", include("ketaclinic.audit.urls")),
    path("plans/", include("ketaclinic.plans.urls")),
    path("consent/", include("ketaclinic.consent.urls")),
    path("sessions/", include("ketaclinic.infusions.urls")),
    path("protocols/", include("ketaclinic.protocols.urls")),
    path("outcomes/", include("ketaclinic.outcomes.urls")),
    path("q/<str:token>/", outcomes_views.answer, name="questionnaire_answer"),
    path("", include((
        [path("dashboard/", views.dashboard, name="dashboard")], "web"), namespace="web")),
    path("api/", api.urls),
    path("healthz", lambda r: HttpResponse("ok", content_type="text/plain")),
]

handler403 = "ketaclinic.web.views.permission_denied"
handler404 = "ketaclinic.web.views.not_found"
