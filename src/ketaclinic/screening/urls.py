from django.urls import path

from ketaclinic.screening import views

app_name = "screening"
urlpatterns = [
    path("patient/<uuid:external_id>/referral/", views.referral_new, name="referral_new"),
    path("patient/<uuid:external_id>/new/", views.screening_new, name="new"),
    path("<uuid:external_id>/", views.screening_detail, name="detail"),
    path("documents/<uuid:external_id>/", views.referral_document, name="document"),
]
