from django.contrib.auth import views as auth_views
from django.urls import path

from ketaclinic.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("2fa/verify/", views.otp_verify, name="otp_verify"),
    path("2fa/setup/", views.otp_setup, name="otp_setup"),
    path("break-glass/reviews/", views.break_glass_reviews, name="break_glass_reviews"),
    path("staff/", views.staff_list, name="staff"),
]
