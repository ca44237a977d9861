from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "ketaclinic.screening"
    label = "screening"
    verbose_name = "Referrals and screening"
