from django.urls import path

from ketaclinic.messaging import views

app_name = "messaging"
urlpatterns = [
    path("patient/<uuid:external_id>/preferences/", views.preferences, name="preferences"),
    path("patient/<uuid:external_id>/resend/", views.resend, name="resend"),
]
