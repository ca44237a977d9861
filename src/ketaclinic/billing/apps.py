from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "ketaclinic.billing"
    label = "billing"
    verbose_name = "Billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ketaclinic.base.signals import (
            appointment_cancel_notices,
            appointment_changed,
            booking_requested,
            session_cancelled,
            session_checked_in,
            session_completed,
        )
        from ketaclinic.billing.receivers import (
            cancel_notice,
            on_appointment_changed,
            on_booking,
            on_cancelled,
            on_check_in,
            on_completed,
        )

        session_checked_in.connect(on_check_in, dispatch_uid="ketaclinic.billing.check_in")
        session_completed.connect(on_completed, dispatch_uid="ketaclinic.billing.completed")
        session_cancelled.connect(on_cancelled, dispatch_uid="ketaclinic.billing.cancelled")
        booking_requested.connect(on_booking, dispatch_uid="ketaclinic.billing.booking")
        appointment_changed.connect(
            on_appointment_changed, dispatch_uid="ketaclinic.billing.appointment_changed"
        )
        appointment_cancel_notices.connect(cancel_notice, dispatch_uid="ketaclinic.billing.cancel_notice")
