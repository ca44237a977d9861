from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "ketaclinic.jobs"
    label = "jobs"
    verbose_name = "Background jobs"
