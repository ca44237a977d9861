from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "ketaclinic.outcomes"
    label = "outcomes"
    verbose_name = "Outcomes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ketaclinic.base.signals import due_inputs_changed
        from ketaclinic.outcomes.services.due import due_inputs_changed as refresh

        due_inputs_changed.connect(refresh, dispatch_uid="ketaclinic.outcomes.due")
