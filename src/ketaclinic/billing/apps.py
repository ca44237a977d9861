from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "ketaclinic.billing"
    label = "billing"
    verbose_name = "Billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ketaclinic.base import signals
        from ketaclinic.billing import receivers

        signals.session_checked_in.connect(receivers.on_check_in, dispatch_uid="ketaclinic.billing.check_in")
        signals.session_completed.connect(receivers.on_completed, dispatch_uid="ketaclinic.billing.completed")
        signals.session_cancelled.connect(receivers.on_cancelled, dispatch_uid="ketaclinic.billing.cancelled")
        signals.booking_requested.connect(receivers.on_booking, dispatch_uid="ketaclinic.billing.booking")
