from django.urls import path

from ketaclinic.plans import views

app_name = "plans"
urlpatterns = [
    path("home-visits/route/", views.home_route, name="home_route"),
    path("patient/<uuid:external_id>/new/", views.plan_new, name="new"),
    path("<uuid:external_id>/", views.plan_detail, name="detail"),
    path("<uuid:external_id>/revise/", views.plan_revise, name="revise"),
    path("<uuid:external_id>/booster/", views.booster_new, name="booster"),
    path("infusions/<uuid:external_id>/move/", views.infusion_move, name="move"),
    path("infusions/<uuid:external_id>/cancel/", views.infusion_cancel, name="cancel"),
]
