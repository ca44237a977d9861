"""US ZIP-code centres, from the ``zipcodes`` package (its data ship inside the wheel: no network lookup).

The one place that reads them; the pure core takes coordinates (``ketaclinic.core.travel``). An unknown or
malformed ZIP code is refused naming the value, never guessed.
"""

from __future__ import annotations

import re
from functools import lru_cache

import zipcodes

from ketaclinic.accounts.models import Location
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.travel import Coordinates, ServiceArea

ZIP_FORMAT = re.compile(r"^\d{5}(-\d{4})?$")
ZIP_MALFORMED = "{what}: {value!r} is not a US ZIP code (5 digits, or ZIP+4 such as 02110-1234)."
ZIP_UNKNOWN = (
    "{what}: ZIP code {value} is not in the list of US ZIP codes, so the travel time cannot be estimated. "
    "Check the address."
)
NO_SERVICE_AREA = (
    "{location} has no service area set (a centre ZIP code and a radius in miles); "
    "an administrator sets it before home visits are booked."
)


@lru_cache(maxsize=4096)
def _centre(zip5: str) -> tuple[float, float] | None:
    rows = zipcodes.matching(zip5)
    if not rows:
        return None
    return float(rows[0]["lat"]), float(rows[0]["long"])


def zip_centre(postal_code: str, *, what: str = "ZIP code", field: str = "postal_code") -> Coordinates:
    """The centre of a US ZIP code (``what`` names the value in the refusal: "The patient's ZIP code")."""
    value = (postal_code or "").strip()
    if not ZIP_FORMAT.match(value):
        raise ValidationError(ZIP_MALFORMED.format(what=what, value=value), field=field, value=value)
    centre = _centre(value[:5])
    if centre is None:
        raise ValidationError(ZIP_UNKNOWN.format(what=what, value=value), field=field, value=value)
    return Coordinates(*centre)


def service_area_of(location: Location) -> ServiceArea:
    """The mobile location's service area; refused when it has none."""
    if not location.service_centre_postal_code or location.service_radius_miles is None:
        raise ValidationError(
            NO_SERVICE_AREA.format(location=location.name), field="location", value=location.code
        )
    return ServiceArea(
        name=location.name,
        centre_postal_code=location.service_centre_postal_code,
        centre=zip_centre(
            location.service_centre_postal_code,
            what=f"{location.name}'s service area centre",
            field="service_centre_postal_code",
        ),
        radius_miles=float(location.service_radius_miles),
    )
