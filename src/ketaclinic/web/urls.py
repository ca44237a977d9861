"""The site's addresses. Each app's pages come from its own ``urls``; the roof's pages that gather several
apps (``ketaclinic.web.pages``) are added to the list of the app whose name they carry, so the chart is still
``patients:chart`` though it lives here."""

from types import ModuleType

from django.urls import URLPattern, include, path

from ketaclinic.accounts import urls as accounts_urls
from ketaclinic.billing import views as billing_views
from ketaclinic.outcomes import views as outcomes_views
from ketaclinic.patients import urls as patients_urls
from ketaclinic.reminders import views as reminders_views
from ketaclinic.scheduling import feed_views
from ketaclinic.web import health, jobs, pages, views
from ketaclinic.web.api import api


def _app(app_urls: ModuleType, *roof: URLPattern) -> tuple[list[URLPattern], str]:
    """An app's own pages plus the roof's pages under its name."""
    return [*app_urls.urlpatterns, *roof], app_urls.app_name


urlpatterns = [
    path("", views.dashboard, name="home"),
    path(
        "accounts/",
        include(
            _app(
                accounts_urls, path("break-glass/<uuid:external_id>/", pages.break_glass, name="break_glass")
            )
        ),
    ),
    path(
        "patients/",
        include(_app(patients_urls, path("<uuid:external_id>/", pages.patient_chart, name="chart"))),
    ),
    path("screening/", include("ketaclinic.screening.urls")),
    path("", include("ketaclinic.inquiries.urls")),
    path("audit/", include(([path("", pages.audit_log, name="log")], "audit"))),
    path("jobs/", include(([path("", jobs.jobs_page, name="list")], "jobs"))),
    path("plans/", include("ketaclinic.plans.urls")),
    path("desk/", include("ketaclinic.scheduling.urls")),
    path("consent/", include("ketaclinic.consent.urls")),
    path("sessions/", include("ketaclinic.infusions.urls")),
    path("protocols/", include("ketaclinic.protocols.urls")),
    path("billing/", include("ketaclinic.billing.urls")),
    path("statement/<str:token>/", billing_views.statement, name="statement"),
    path("outcomes/", include("ketaclinic.outcomes.urls")),
    path("messages/", include("ketaclinic.messaging.urls")),
    path("q/<str:token>/", outcomes_views.answer, name="questionnaire_answer"),
    path("prep/<str:token>/", reminders_views.confirm, name="preparation_confirm"),
    path("cal/<str:token>/appointments.ics", feed_views.feed, name="calendar_feed"),
    path("account/calendar/", feed_views.my_feed, name="my_calendar_feed"),
    path("patients/<uuid:external_id>/calendar-feed/", feed_views.patient_feed, name="patient_calendar_feed"),
    path("", include(([path("dashboard/", views.dashboard, name="dashboard")], "web"), namespace="web")),
    path("api/", api.urls),
    path("healthz", health.healthz),
    path("readyz", health.readyz),
]

handler403 = "ketaclinic.web.views.permission_denied"
handler404 = "ketaclinic.web.views.not_found"
