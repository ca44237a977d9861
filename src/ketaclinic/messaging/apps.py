from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "ketaclinic.messaging"
    label = "messaging"
    verbose_name = "Messages to patients"
    default_auto_field = "django.db.models.BigAutoField"
