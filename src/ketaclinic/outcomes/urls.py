from django.urls import path

from ketaclinic.outcomes import clinic_views, views

app_name = "outcomes"
urlpatterns = [
    path("patient/<uuid:external_id>/", views.patient_outcomes, name="patient"),
    path("patient/<uuid:external_id>/chart/<slug:instrument>.svg", views.trajectory_chart, name="chart"),
    path("patient/<uuid:external_id>/record/<slug:instrument>/", views.response_new, name="record"),
    path("patient/<uuid:external_id>/link/", views.link_new, name="link_new"),
    path("patient/<uuid:external_id>/send-due-link/", clinic_views.worklist_send, name="worklist_send"),
    path("responses/<uuid:external_id>/correct/", views.response_correct, name="correct"),
    path("worklist/", clinic_views.worklist, name="worklist"),
    path("flags/<uuid:external_id>/", views.flag_detail, name="flag"),
    path("boosters/<uuid:external_id>/", views.booster_decide, name="booster"),
    path("dashboard/", clinic_views.dashboard, name="dashboard"),
    path("dashboard.csv", clinic_views.dashboard_csv, name="dashboard_csv"),
]
