from django.urls import path

from ketaclinic.inquiries import views

app_name = "inquiries"
urlpatterns = [
    path("inquiry/", views.public_request, name="public"),
    path("inquiry/thanks/", views.public_thanks, name="thanks"),
    path("intake/inquiries/", views.queue, name="queue"),
    path("intake/inquiries/<uuid:external_id>/", views.detail, name="detail"),
]
