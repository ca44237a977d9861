import logging

from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "ketaclinic.web"
    label = "web"
    verbose_name = "Web"

    def ready(self) -> None:
        from ketaclinic.web import record_rules
        from ketaclinic.web.security_headers import LinkTokensMasked

        record_rules.connect()
        # Django's own loggers print through their own handlers too (the development server's request lines,
        # "Bad Request: <path>" with DEBUG on): masked at the logger, before any handler sees the record.
        for name in ("django.request", "django.server", "django.security"):
            logging.getLogger(name).addFilter(LinkTokensMasked())
