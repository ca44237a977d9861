from django.urls import path

from ketaclinic.scheduling import views

app_name = "scheduling"
urlpatterns = [
    path("calendar/", views.calendar, name="calendar"),
    path("book/", views.book, name="book"),
    path("appointments/<uuid:external_id>/", views.appointment, name="appointment"),
    path("appointments/<uuid:external_id>/move/", views.appointment_move_page, name="move"),
    path("appointments/<uuid:external_id>/cancel/", views.appointment_cancel_page, name="cancel"),
    path("fill/", views.fill, name="fill"),
]
