"""Times in the location's time zone. A page about one patient shows times in the zone of the location that
cares for them (:func:`activate_for`); the zone is put back to the clinic default after every request, so one
request's zone never leaks into the next one served by the same thread."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import HttpRequest, HttpResponse
from django.utils import timezone


def zone_words(zone: object, moments: Iterable[date | datetime] = ()) -> str:
    """A time zone as people say it: ``America/New_York`` -> ``New York time``, with the abbreviations in use
    at ``moments`` (dates are read at noon): ``New York time, EST``, or ``EDT/EST`` across a change.
    The abbreviations are the time zone database's own (``zoneinfo``); an unknown key is shown as given."""
    key = str(zone or "")
    try:
        tz = ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        return key
    city = key.rsplit("/", 1)[-1].replace("_", " ")
    shorts: list[str] = []
    for moment in moments:
        at = moment if isinstance(moment, datetime) else datetime.combine(moment, time(12))
        short = (at.astimezone(tz) if at.tzinfo else at.replace(tzinfo=tz)).tzname() or ""
        if short and short not in shorts and not short.lstrip("+-").isdigit():
            shorts.append(short)
    words = f"{city} time" if "/" in key else key
    return f"{words}, {'/'.join(shorts)}" if shorts and shorts != [key] else words


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
