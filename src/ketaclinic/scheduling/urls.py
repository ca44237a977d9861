"""The front desk's pages (mounted at /desk/)."""

from django.urls import URLPattern, path

from ketaclinic.scheduling import resource_views, views

app_name = "scheduling"
urlpatterns: list[URLPattern] = [
    path("calendar/", views.calendar, name="calendar"),
    path("book/", views.book, name="book"),
    path("appointments/<uuid:external_id>/", views.appointment, name="appointment"),
    path("appointments/<uuid:external_id>/move/", views.appointment_move_page, name="move"),
    path("appointments/<uuid:external_id>/cancel/", views.appointment_cancel_page, name="cancel"),
    path("fill/", views.fill, name="fill"),
    path("plans/<uuid:external_id>/book/", views.series, name="series"),
]

# --- resources: the administrator's pages for chairs, rooms, hours, closures, shifts and skills ----------
urlpatterns += [
    path("resources/", resource_views.resources_index, name="resources"),
    path("resources/<slug:code>/", resource_views.location_resources, name="location_resources"),
    path("resources/<slug:code>/shifts/", resource_views.location_shifts, name="location_shifts"),
    path("staff/<uuid:external_id>/skills/", resource_views.staff_skills, name="staff_skills"),
]
# --- end of resources -------------------------------------------------------------------------------------
