from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "ketaclinic.web"
    label = "web"
    verbose_name = "Web"

    def ready(self) -> None:
        from ketaclinic.web import record_rules

        record_rules.connect()
