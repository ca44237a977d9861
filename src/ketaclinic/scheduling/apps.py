from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "ketaclinic.scheduling"
    label = "scheduling"
    verbose_name = "Front desk bookings"

    def ready(self) -> None:
        from ketaclinic.base.signals import slot_chair_requested
        from ketaclinic.scheduling.receivers import on_slot_chair

        slot_chair_requested.connect(on_slot_chair, dispatch_uid="ketaclinic.scheduling.slot_chair")
