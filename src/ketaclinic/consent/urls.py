from django.urls import path

from ketaclinic.consent import views

app_name = "consent"
urlpatterns = [
    path("documents/", views.documents, name="documents"),
    path("patient/<uuid:external_id>/sign/", views.sign_in_clinic, name="sign"),
    path("patient/<uuid:external_id>/link/", views.link_new, name="link_new"),
    path("sign/<str:token>/", views.sign_by_link, name="public_sign"),
]
