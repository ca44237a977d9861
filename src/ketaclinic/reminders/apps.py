from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "ketaclinic.reminders"
    label = "reminders"
    verbose_name = "Reminders and preparation"
    default_auto_field = "django.db.models.BigAutoField"
