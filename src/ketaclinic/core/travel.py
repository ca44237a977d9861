"""Travel between home visits: distance from coordinates, the drive's minutes, a service area's radius.

The method, stated wherever an estimate is shown (``TravelRules.method``):

1. **Straight-line distance** between two points on the Earth's surface by the haversine formula
   (R. W. Sinnott, "Virtues of the Haversine", Sky and Telescope 68(2):159, 1984):
   ``a = sin²(Δφ/2) + cos φ1 · cos φ2 · sin²(Δλ/2)``, ``d = 2 R · asin(√a)``, with the Earth's mean radius
   R = 6371.0088 km = 3958.7613 miles (IUGG mean radius R1). Points are ZIP-code centres, so a visit's
   distance is that of its ZIP code's centre, not of the door.
2. **Road distance** = straight-line distance × a circuity factor. Measured road networks run about 1.2 ×
   the straight line between random urban points (Newell 1980, as summarised by Giacomin and Levinson,
   "Road network circuity in metropolitan areas", Environment and Planning B 42(6):1040-1053, 2015,
   DOI 10.1068/b130131p, who also find short trips more circuitous than long ones). The clinic default is
   1.3: a little above the measured average, so short trips are not underestimated.
3. **Drive minutes** = road distance ÷ an average speed (clinic default 30 mph, city driving), rounded
   **up** to the next 5 minutes, **plus** a fixed buffer to park, carry the kit in and set up (clinic
   default 10 min). Two visits in the same ZIP code still need the buffer.

A service area is a centre (a ZIP code's centre) and a radius in miles, compared with the straight-line
distance: a rule a clinic can state in one sentence and check on a map, without keeping a list of ZIP codes.
Every number is a clinic default a clinic can change (``TravelRules``); the estimate is a planning aid,
never a promise of arrival.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ketaclinic.core.errors import ValidationError

EARTH_MEAN_RADIUS_MILES = 3958.7613  # 6371.0088 km, IUGG mean radius R1
KM_PER_MILE = 1.609344

LATITUDE_RANGE = "Latitude must be between -90 and 90 degrees, got {value}."
LONGITUDE_RANGE = "Longitude must be between -180 and 180 degrees, got {value}."
RULE_RANGE = "{what} must be {allowed}, got {value}."
OUTSIDE_AREA = (
    "{place} (ZIP {postal_code}) is about {miles:.1f} miles from the centre of {area}'s service area "
    "(ZIP {centre}); {area} visits homes within {radius:g} miles."
)


@dataclass(frozen=True, slots=True)
class Coordinates:
    """A point in decimal degrees (WGS 84), north and east positive."""

    latitude_deg: float
    longitude_deg: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.latitude_deg) and -90.0 <= self.latitude_deg <= 90.0):
            raise ValidationError(
                LATITUDE_RANGE.format(value=self.latitude_deg), field="latitude", value=self.latitude_deg
            )
        if not (math.isfinite(self.longitude_deg) and -180.0 <= self.longitude_deg <= 180.0):
            raise ValidationError(
                LONGITUDE_RANGE.format(value=self.longitude_deg), field="longitude", value=self.longitude_deg
            )


def great_circle_miles(a: Coordinates, b: Coordinates) -> float:
    """The straight-line (great-circle) distance in miles, by the haversine formula (Sinnott 1984)."""
    phi1, phi2 = math.radians(a.latitude_deg), math.radians(b.latitude_deg)
    d_phi = phi2 - phi1
    d_lambda = math.radians(b.longitude_deg - a.longitude_deg)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_MEAN_RADIUS_MILES * math.asin(math.sqrt(min(1.0, h)))


@dataclass(frozen=True, slots=True)
class TravelRules:
    """How a drive is estimated (clinic defaults; see the module's docstring for the sources)."""

    circuity: float = 1.3
    average_speed_mph: float = 30.0
    round_up_to_min: int = 5
    buffer_min: int = 10

    def __post_init__(self) -> None:
        checks = (
            ("The road circuity factor", self.circuity, 1.0, 3.0, "from 1 to 3"),
            ("The average speed", self.average_speed_mph, 5.0, 80.0, "from 5 to 80 mph"),
            ("The rounding step", self.round_up_to_min, 1, 60, "from 1 to 60 minutes"),
            ("The parking and set-up buffer", self.buffer_min, 0, 120, "from 0 to 120 minutes"),
        )
        for what, value, low, high, allowed in checks:
            if not (math.isfinite(value) and low <= value <= high):
                raise ValidationError(
                    RULE_RANGE.format(what=what, allowed=allowed, value=value), field="travel", value=value
                )

    @property
    def method(self) -> str:
        """The method in words, for the page."""
        return (
            f"estimated from ZIP-code centres: straight-line distance × {self.circuity:g} for the roads, "
            f"at {self.average_speed_mph:g} mph, rounded up to {self.round_up_to_min} min, "
            f"plus {self.buffer_min} min to park and set up"
        )


DEFAULT_TRAVEL_RULES = TravelRules()


@dataclass(frozen=True, slots=True)
class TravelEstimate:
    straight_miles: float
    road_miles: float
    minutes: int  # drive (rounded up) + buffer

    @property
    def summary(self) -> str:
        return f"about {self.minutes} min by road ({self.road_miles:.1f} mi)"


def travel_estimate(
    a: Coordinates, b: Coordinates, rules: TravelRules = DEFAULT_TRAVEL_RULES
) -> TravelEstimate:
    """The estimated door-to-door minutes from ``a`` to ``b`` (method in the module's docstring)."""
    straight = great_circle_miles(a, b)
    road = straight * rules.circuity
    # rounded to a microsecond before rounding up, so 15.0000000001 minutes of float noise is 15, not 20
    drive = round(road / rules.average_speed_mph * 60.0, 6)
    step = rules.round_up_to_min
    minutes = math.ceil(drive / step) * step + rules.buffer_min
    return TravelEstimate(straight_miles=straight, road_miles=road, minutes=minutes)


@dataclass(frozen=True, slots=True)
class ServiceArea:
    """Homes within ``radius_miles`` (straight line) of the centre of ZIP ``centre_postal_code``."""

    name: str
    centre_postal_code: str
    centre: Coordinates
    radius_miles: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.radius_miles) and 0.0 < self.radius_miles <= 200.0):
            raise ValidationError(
                RULE_RANGE.format(
                    what="A service area's radius",
                    allowed="more than 0 and at most 200 miles",
                    value=self.radius_miles,
                ),
                field="service_radius_miles",
                value=self.radius_miles,
            )


def service_area_check(area: ServiceArea, *, home: Coordinates, postal_code: str, place: str) -> float:
    """The home's straight-line miles from the area's centre; refused when beyond the radius (inclusive)."""
    miles = great_circle_miles(area.centre, home)
    if miles > area.radius_miles:
        raise ValidationError(
            OUTSIDE_AREA.format(
                place=place,
                postal_code=postal_code,
                miles=miles,
                area=area.name,
                centre=area.centre_postal_code,
                radius=area.radius_miles,
            ),
            field="postal_code",
            value=postal_code,
        )
    return miles
