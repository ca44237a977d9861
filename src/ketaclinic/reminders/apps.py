from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "ketaclinic.reminders"
    label = "reminders"
    verbose_name = "Reminders and preparation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ketaclinic.base.signals import appointment_changed
        from ketaclinic.reminders.receivers import on_appointment_changed

        appointment_changed.connect(
            on_appointment_changed, dispatch_uid="ketaclinic.reminders.appointment_changed"
        )
