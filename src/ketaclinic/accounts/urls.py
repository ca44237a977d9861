from django.contrib.auth import views as auth_views
from django.urls import path

from ketaclinic.accounts import staff_views, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("2fa/verify/", views.otp_verify, name="otp_verify"),
    path("2fa/setup/", views.otp_setup, name="otp_setup"),
    path("break-glass/reviews/", views.break_glass_reviews, name="break_glass_reviews"),
    path("staff/", views.staff_list, name="staff"),
    path("staff/<uuid:external_id>/", staff_views.staff_edit, name="staff_edit"),
    path("password/", staff_views.password_change, name="password_change"),
]
