"""Times in the location's time zone. A page about one patient shows times in the zone of the location that
cares for them (:func:`activate_for`); the zone is put back to the clinic default after every request, so one
request's zone never leaks into the next one served by the same thread."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.utils import timezone


def activate_for(location: object) -> None:
    """Show this request's times in ``location``'s time zone (a Location, or anything with ``timezone``)."""
    zone = getattr(location, "timezone", "")
    if zone:
        timezone.activate(ZoneInfo(str(zone)))


class ResetTimeZoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
