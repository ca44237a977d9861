from django.urls import path

from ketaclinic.patients import views

app_name = "patients"
urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_new, name="new"),
    path("<uuid:external_id>/edit/", views.patient_edit, name="edit"),
    path("<uuid:external_id>/measurements/", views.measurement_add, name="measurement_add"),
    path("<uuid:external_id>/allergies/", views.allergy_add, name="allergy_add"),
    path("<uuid:external_id>/medications/", views.medication_add, name="medication_add"),
]
